//! Bad input loses nothing: injection strings are data, constraint violations are named,
//! a failed commit leaves the database as it was, bad URLs and missing tables say what to do.

mod support;

use orm::prelude::*;
use support::models::contacts::User;

/// Same table, but `name` may be NULL here: lets a test write a NULL into a NOT NULL column.
#[derive(Model, Debug, Clone, Default)]
#[orm(table = "users")]
pub struct LooseUser {
    #[orm(primary_key)]
    pub id: i64,
    pub name: Option<String>,
    pub email: Option<String>,
    pub age: Option<String>,
}

fn setup() -> (Engine, Session) {
    let engine = create_engine("sqlite:///:memory:").unwrap();
    MetaData::new().add::<User>().create_all(&engine).unwrap();
    let session = Session::new(&engine);
    (engine, session)
}

fn count(engine: &Engine) -> i64 {
    Session::new(engine).query::<User>().count().unwrap()
}

#[test]
fn injection_strings_are_stored_and_read_back_verbatim() {
    let (engine, session) = setup();
    let evil = [
        "Robert'); DROP TABLE users;--",
        "\" OR 1=1 --",
        "%_\\",
        "名前 🦀",
        "a\0b",
    ];
    for name in evil {
        session.add(User {
            name: name.into(),
            ..Default::default()
        });
    }
    session.commit().unwrap();
    for name in evil {
        let found = session
            .query::<User>()
            .filter(User::name.eq(name))
            .one()
            .unwrap();
        assert_eq!(found.borrow().name, name);
    }
    assert_eq!(count(&engine), evil.len() as i64);
    // LIKE wildcards in user text match themselves only.
    assert_eq!(
        session
            .query::<User>()
            .filter(User::name.contains("%_"))
            .count()
            .unwrap(),
        1
    );
    assert_eq!(
        session
            .query::<User>()
            .filter_by("name", "\" OR 1=1 --")
            .count()
            .unwrap(),
        1
    );
}

#[test]
fn unique_violation_names_table_and_column_and_commits_nothing() {
    let (engine, session) = setup();
    session.add(User {
        name: "Alice".into(),
        email: Some("a@x.org".into()),
        ..Default::default()
    });
    session.commit().unwrap();
    session.add(User {
        name: "Zoe".into(),
        ..Default::default()
    });
    session.add(User {
        name: "Alice again".into(),
        email: Some("a@x.org".into()),
        ..Default::default()
    });
    let err = session.commit().unwrap_err();
    assert!(
        matches!(&err, orm::Error::UniqueViolation { table, columns, .. }
            if table == "users" && columns == &["email"]),
        "{err:?}"
    );
    assert!(err.to_string().contains("users.email"), "{err}");
    // Zoe was inserted before the failure, in the same transaction: rolled back with it.
    assert_eq!(count(&engine), 1);
    // The session is usable again.
    session.add(User {
        name: "Bob".into(),
        ..Default::default()
    });
    session.commit().unwrap();
    assert_eq!(count(&engine), 2);
}

#[test]
fn not_null_violation_names_the_column() {
    let (engine, _) = setup();
    let loose = Session::new(&engine);
    loose.add(LooseUser::default());
    let err = loose.commit().unwrap_err();
    assert!(
        matches!(&err, orm::Error::NotNullViolation { table, column, .. }
            if table == "users" && column == "name"),
        "{err:?}"
    );
}

#[test]
fn a_commit_that_fails_half_way_leaves_the_database_as_before() {
    let (engine, session) = setup();
    session.add_all([
        User {
            name: "A".into(),
            email: Some("a@x".into()),
            age: Some(1),
            ..Default::default()
        },
        User {
            name: "B".into(),
            email: Some("b@x".into()),
            age: Some(2),
            ..Default::default()
        },
    ]);
    session.commit().unwrap();
    let before = engine
        .execute(orm::core::text(
            "SELECT id, name, email, age FROM users ORDER BY id",
        ))
        .unwrap();

    let a = session.get::<User>(1).unwrap().unwrap();
    a.borrow_mut().age = Some(100); // an UPDATE that succeeds...
    session.add(User {
        name: "C".into(),
        ..Default::default()
    }); // an INSERT that succeeds...
    let b = session.get::<User>(2).unwrap().unwrap();
    session.delete(&b).unwrap(); // a DELETE...
    session.add(User {
        name: "D".into(),
        email: Some("a@x".into()),
        ..Default::default()
    }); // ...and one that fails
    let err = session.commit().unwrap_err();
    assert!(
        matches!(&err, orm::Error::UniqueViolation { table, columns, .. }
                if table == "users" && columns == &["email"]),
        "{err:?}"
    );

    let after = engine
        .execute(orm::core::text(
            "SELECT id, name, email, age FROM users ORDER BY id",
        ))
        .unwrap();
    assert_eq!(before, after);
    // The changed object got its committed values back.
    assert_eq!(a.borrow().age, Some(1));
}

#[test]
fn a_wrong_type_in_a_column_names_the_column() {
    let (engine, _) = setup();
    engine
        .execute(orm::core::text(
            "INSERT INTO users (name, age) VALUES ('x', 'not a number')",
        ))
        .unwrap();
    let err = Session::new(&engine).query::<User>().all().unwrap_err();
    assert!(
        matches!(&err, orm::Error::WrongType { table, column, .. } if table == "users" && column == "age"),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("users.age holds text \"not a number\""),
        "{err}"
    );
}

#[test]
fn missing_tables_suggest_create_all() {
    let engine = create_engine("sqlite:///:memory:").unwrap();
    let session = Session::new(&engine);
    let err = session.query::<User>().all().unwrap_err();
    assert!(
        matches!(&err, orm::Error::NoSuchTable { table, .. } if table == "users"),
        "{err:?}"
    );
    assert!(err.to_string().contains("create_all"));
    session.add(User {
        name: "x".into(),
        ..Default::default()
    });
    assert!(session
        .commit()
        .unwrap_err()
        .to_string()
        .contains("create_all"));
}

#[test]
fn bad_urls_are_refused_with_what_is_supported() {
    for url in [
        "mysql://u:secret@h/db",
        "sqlite:/x.db",
        "",
        "sqlite://relative.db",
        "sqlite:///x.db?mode=ro",
    ] {
        let err = create_engine(url).unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(err, orm::Error::InvalidUrl { .. }),
            "{url}: {text}"
        );
        assert!(text.contains("sqlite:///:memory:"), "{url}: {text}");
        assert!(!text.contains("secret"), "{url}: {text}");
    }
    let err = create_engine("sqlite:///no/such/folder/app.db")
        .unwrap_err()
        .to_string();
    assert!(err.contains("no/such/folder"), "{err}");
}

#[test]
fn a_file_database_keeps_its_rows_across_engines() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:///{}", dir.path().join("app.db").display());
    {
        let engine = create_engine(&url).unwrap();
        MetaData::new().add::<User>().create_all(&engine).unwrap();
        Session::scoped(&engine, |s| {
            s.add(User {
                name: "Persisted".into(),
                ..Default::default()
            });
            Ok(())
        })
        .unwrap();
    }
    let engine = create_engine(&url).unwrap();
    assert_eq!(
        Session::new(&engine)
            .query::<User>()
            .one()
            .unwrap()
            .borrow()
            .name,
        "Persisted"
    );
}

#[test]
fn an_uncommitted_session_that_is_dropped_writes_nothing() {
    let (engine, session) = setup();
    session.add(User {
        name: "Ghost".into(),
        ..Default::default()
    });
    session.flush().unwrap();
    drop(session);
    assert_eq!(count(&engine), 0);
}

#[test]
fn a_held_borrow_is_an_error_at_commit_not_a_panic() {
    let (_engine, session) = setup();
    let u = session.add(User {
        name: "Held".into(),
        ..Default::default()
    });
    session.commit().unwrap();
    let mut guard = u.borrow_mut();
    guard.age = Some(5);
    let err = session.commit().unwrap_err();
    assert!(err.to_string().contains("borrow_mut"), "{err}");
    drop(guard);
}
