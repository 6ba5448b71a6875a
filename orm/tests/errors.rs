//! One test per kind of error, on both engines: the variant and its fields (table, columns,
//! constraint), the code the driver gave (SQLite's extended result code, PostgreSQL's
//! SQLSTATE), and `source()` reaching the driver's own error. Then the migration errors: a
//! revision file that cannot be read, and a revision that fails, with the file and line.

mod support;

use orm::core::text;
use orm::prelude::*;
use std::error::Error as _;
use support::each_engine;

#[derive(Model, Debug, Clone, Default)]
#[orm(table = "owners")]
pub struct Owner {
    #[orm(primary_key)]
    pub id: i64,
    pub name: String,
    #[orm(unique)]
    pub email: Option<String>,
}

#[derive(Model, Debug, Clone, Default)]
#[orm(table = "pets")]
pub struct Pet {
    #[orm(primary_key)]
    pub id: i64,
    pub name: String,
    #[orm(foreign_key = "owners.id")]
    pub owner_id: i64,
}

/// `owners` and `pets`, and `gauges` with a named CHECK constraint (written in SQL: the same
/// statement on both engines).
fn tables(engine: &Engine) {
    MetaData::new()
        .add::<Owner>()
        .add::<Pet>()
        .create_all(engine)
        .unwrap();
    engine
        .execute(text(
            "CREATE TABLE gauges (id INTEGER PRIMARY KEY, \
             level INTEGER CONSTRAINT level_not_negative CHECK (level >= 0))",
        ))
        .unwrap();
}

fn owner(session: &Session, name: &str, email: &str) -> Obj<Owner> {
    let owner = session.add(Owner {
        name: name.into(),
        email: Some(email.into()),
        ..Default::default()
    });
    session.commit().unwrap();
    owner
}

/// The code the driver gave, reached through `source()` and a downcast to the driver's error:
/// SQLite's extended result code, or PostgreSQL's SQLSTATE.
fn driver_code(err: &orm::Error) -> String {
    let source = err
        .source()
        .unwrap_or_else(|| panic!("no source() in {err:?}"));
    if let Some(sqlite) = source.downcast_ref::<rusqlite::Error>() {
        let failure = sqlite
            .sqlite_error()
            .unwrap_or_else(|| panic!("not a SQLite failure: {sqlite:?}"));
        return failure.extended_code.to_string();
    }
    #[cfg(feature = "postgres")]
    if let Some(pg) = source.downcast_ref::<postgres::Error>() {
        return pg.code().expect("a SQLSTATE").code().to_string();
    }
    panic!("source() of {err:?} is neither a rusqlite::Error nor a postgres::Error: {source:?}")
}

/// The code expected on this engine: SQLite's extended result code, or the SQLSTATE.
fn expected_code(engine: &Engine, sqlite: i32, postgres: &str) -> String {
    match engine.dialect() {
        "sqlite" => sqlite.to_string(),
        _ => postgres.to_string(),
    }
}

#[test]
fn a_unique_violation_names_table_columns_and_code() {
    each_engine(|engine| {
        tables(&engine);
        let session = Session::new(&engine);
        owner(&session, "Ann", "ann@example.com");
        session.add(Owner {
            name: "Another Ann".into(),
            email: Some("ann@example.com".into()),
            ..Default::default()
        });
        let err = session.commit().unwrap_err();
        let constraint = match engine.dialect() {
            "sqlite" => None,
            _ => Some("owners_email_key".to_string()),
        };
        assert!(
            matches!(&err, orm::Error::UniqueViolation { table, columns, constraint: c, .. }
                if table == "owners" && columns == &["email"] && *c == constraint),
            "{err:?}"
        );
        assert_eq!(driver_code(&err), expected_code(&engine, 2067, "23505"));
        assert!(err.to_string().contains("owners.email"), "{err}");
    });
}

#[test]
fn a_primary_key_violation_is_a_unique_violation() {
    each_engine(|engine| {
        tables(&engine);
        engine
            .execute(text("INSERT INTO gauges (id, level) VALUES (1, 5)"))
            .unwrap();
        let err = engine
            .execute(text("INSERT INTO gauges (id, level) VALUES (1, 6)"))
            .unwrap_err();
        assert!(
            matches!(&err, orm::Error::UniqueViolation { table, columns, .. }
                if table == "gauges" && columns == &["id"]),
            "{err:?}"
        );
        // SQLite has a code of its own for primary keys; PostgreSQL reports a unique violation.
        assert_eq!(driver_code(&err), expected_code(&engine, 1555, "23505"));
    });
}

#[test]
fn a_foreign_key_violation_says_which_way_it_failed() {
    each_engine(|engine| {
        tables(&engine);
        let session = Session::new(&engine);
        session.add(Pet {
            name: "Rex".into(),
            owner_id: 999,
            ..Default::default()
        });
        let err = session.commit().unwrap_err();
        let constraint = match engine.dialect() {
            "sqlite" => None,
            _ => Some("pets_owner_id_fkey".to_string()),
        };
        assert!(
            matches!(&err, orm::Error::ForeignKeyViolation { table, detail, constraint: c, .. }
                if table == "pets" && detail == "the referenced row does not exist" && *c == constraint),
            "{err:?}"
        );
        assert_eq!(driver_code(&err), expected_code(&engine, 787, "23503"));

        // The other way: deleting a parent that still has children.
        session.rollback().unwrap();
        let ann = owner(&session, "Ann", "ann@example.com");
        let id = ann.borrow().id;
        session.add(Pet {
            name: "Rex".into(),
            owner_id: id,
            ..Default::default()
        });
        session.commit().unwrap();
        session.delete(&ann).unwrap();
        let err = session.commit().unwrap_err();
        assert!(
            matches!(&err, orm::Error::ForeignKeyViolation { table, detail, .. }
                if table == "owners" && detail.contains("still refer to the row being deleted")),
            "{err:?}"
        );
        assert_eq!(driver_code(&err), expected_code(&engine, 787, "23503"));
    });
}

#[test]
fn a_not_null_violation_names_the_column() {
    each_engine(|engine| {
        tables(&engine);
        let err = engine
            .execute(text("INSERT INTO owners (email) VALUES ('x@example.com')"))
            .unwrap_err();
        assert!(
            matches!(&err, orm::Error::NotNullViolation { table, column, .. }
                if table == "owners" && column == "name"),
            "{err:?}"
        );
        assert_eq!(driver_code(&err), expected_code(&engine, 1299, "23502"));
        assert_eq!(
            err.to_string(),
            "NOT NULL constraint failed: owners.name needs a value"
        );
    });
}

#[test]
fn a_check_violation_names_the_constraint() {
    each_engine(|engine| {
        tables(&engine);
        let err = engine
            .execute(text("INSERT INTO gauges (id, level) VALUES (1, -1)"))
            .unwrap_err();
        assert!(
            matches!(&err, orm::Error::ConstraintViolation { constraint: Some(c), .. }
                if c == "level_not_negative"),
            "{err:?}"
        );
        // PostgreSQL names the table; SQLite's message names only the constraint, so the table
        // is read from the statement's head (hand-written SQL carries no model).
        assert!(
            matches!(&err, orm::Error::ConstraintViolation { table, .. } if table == "gauges"),
            "{err:?}"
        );
        assert!(err.to_string().contains("on table gauges"), "{err}");
        assert_eq!(driver_code(&err), expected_code(&engine, 275, "23514"));
        assert!(err.to_string().contains("level_not_negative"), "{err}");
    });
}

#[test]
fn other_database_errors_keep_the_driver_error_and_the_statement() {
    each_engine(|engine| {
        let err = engine.execute(text("SELEKT 1")).unwrap_err();
        assert!(
            matches!(&err, orm::Error::Database { sql: Some(sql), .. } if sql == "SELEKT 1"),
            "{err:?}"
        );
        // SQLITE_ERROR (1) and PostgreSQL's syntax_error.
        assert_eq!(driver_code(&err), expected_code(&engine, 1, "42601"));
        assert!(err.driver_error().is_some());
    });
}

/// A fresh SQLite file database and migrations folder.
fn migrations_project() -> (tempfile::TempDir, Engine, orm::migrate::Migrations) {
    let tmp = tempfile::tempdir().unwrap();
    let engine = create_engine(&format!(
        "sqlite:///{}",
        tmp.path().join("app.db").display()
    ))
    .unwrap();
    let migrations = orm::migrate::Migrations::init(tmp.path().join("migrations")).unwrap();
    (tmp, engine, migrations)
}

#[test]
fn a_revision_file_that_cannot_be_read_names_its_file_and_line() {
    let (_tmp, engine, migrations) = migrations_project();
    let rev = migrations.revision("Broken").unwrap();
    let edited = rev.content().replacen("-- +up\n", "-- +down\n-- +up\n", 1);
    std::fs::write(rev.path(), &edited).unwrap();
    let line = edited
        .lines()
        .position(|l| l == "-- +down")
        .expect("the inserted line")
        + 1;
    let err = migrations.upgrade(&engine, "head").unwrap_err();
    assert!(
        matches!(&err, orm::Error::MigrationScript { file, line: l, message }
            if file == rev.path() && *l == line && message.contains("`-- +down` comes before `-- +up`")),
        "{err:?}"
    );
}

#[test]
fn a_failed_revision_names_revision_file_line_and_its_cause() {
    let (_tmp, engine, migrations) = migrations_project();
    let rev = migrations.revision("Bad SQL").unwrap();
    let edited = rev.content().replacen(
        "-- +up\n",
        "-- +up\nCREATE TABLE t (id INTEGER);\nSELEKT 1;\n",
        1,
    );
    std::fs::write(rev.path(), &edited).unwrap();
    let line = edited.lines().position(|l| l == "SELEKT 1;").unwrap() + 1;
    let err = migrations.upgrade(&engine, "head").unwrap_err();
    assert!(
        matches!(&err, orm::Error::MigrationFailed { run, line: Some(l), source: Some(_), .. }
            if **run == orm::RevisionRun {
                way: "upgrade",
                revision: rev.id().to_string(),
                title: "Bad SQL".to_string(),
                from: None,
                to: Some(rev.id().to_string()),
                file: rev.path().to_path_buf(),
            } && *l == line),
        "{err:?}"
    );
    // The chain: the revision's failure, the statement's error, SQLite's own.
    let statement = err.source().expect("the statement's error");
    assert!(
        matches!(
            statement.downcast_ref::<orm::Error>(),
            Some(orm::Error::Database { .. })
        ),
        "{statement:?}"
    );
    assert!(statement
        .source()
        .and_then(|e| e.downcast_ref::<rusqlite::Error>())
        .is_some_and(|e| e.sqlite_error_code() == Some(rusqlite::ErrorCode::Unknown)));
    assert!(
        err.to_string().contains("The revision was rolled back"),
        "{err}"
    );
}
