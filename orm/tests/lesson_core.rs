//! The lesson's models, engine, session, CRUD and query examples, ported and checked on concrete data.

mod support;

use orm::prelude::*;
use orm::Value;
use support::each_engine;

#[derive(Model, Debug, Clone, Default, PartialEq)]
#[orm(table = "users")]
pub struct User {
    #[orm(primary_key)]
    pub id: i64,
    pub name: String,
    #[orm(unique)]
    pub email: Option<String>,
    #[orm(index)]
    pub age: Option<i64>,
}

fn user(name: &str, email: &str, age: i64) -> User {
    User {
        name: name.into(),
        email: Some(email.into()),
        age: Some(age),
        ..Default::default()
    }
}

/// Alice 30, Bob 17, Carol 42, Dave 25 — committed.
fn seeded(engine: Engine) -> (Engine, Session) {
    MetaData::new().add::<User>().create_all(&engine).unwrap();
    let session = Session::new(&engine);
    session.add_all([
        user("Alice", "alice@example.com", 30),
        user("Bob", "bob@example.com", 17),
        user("Carol", "carol@example.com", 42),
        user("Dave", "dave@example.com", 25),
    ]);
    session.commit().unwrap();
    (engine, session)
}

/// The first user named `name` the session sees, if any.
fn by_name(session: &Session, name: &str) -> Option<Obj<User>> {
    session
        .query::<User>()
        .filter(User::name.eq(name))
        .first()
        .unwrap()
}

/// How many users named `name` the session sees.
fn named(session: &Session, name: &str) -> i64 {
    session
        .query::<User>()
        .filter(User::name.eq(name))
        .count()
        .unwrap()
}

fn names(users: &[Obj<User>]) -> Vec<String> {
    users.iter().map(|u| u.borrow().name.clone()).collect()
}

#[test]
fn create_adds_a_row_and_assigns_the_key() {
    each_engine(|engine| {
        MetaData::new().add::<User>().create_all(&engine).unwrap();
        let session = Session::new(&engine);
        let alice = session.add(User {
            name: "Alice".into(),
            email: Some("alice@example.com".into()),
            age: Some(30),
            id: 0,
        });
        assert_eq!(alice.borrow().id, 0);
        session.commit().unwrap();
        assert_eq!(alice.borrow().id, 1);
        let rows = engine
            .execute(orm::core::text("SELECT id, name, email, age FROM users"))
            .unwrap();
        assert_eq!(
            rows.rows,
            vec![vec![
                Value::Integer(1),
                Value::Text("Alice".into()),
                Value::Text("alice@example.com".into()),
                Value::Integer(30)
            ]]
        );
    });
}

#[test]
fn read_all_first_filter_and_get() {
    each_engine(|engine| {
        let (_engine, session) = seeded(engine);
        assert_eq!(session.query::<User>().all().unwrap().len(), 4);
        let alice = by_name(&session, "Alice").unwrap();
        assert_eq!(alice.borrow().age, Some(30));
        let adults = session
            .query::<User>()
            .filter(User::age.ge(18))
            .order_by(User::id)
            .all()
            .unwrap();
        assert_eq!(names(&adults), ["Alice", "Carol", "Dave"]);
        let by_key = session.get::<User>(1).unwrap().unwrap();
        assert!(by_key.ptr_eq(&alice), "identity map: one object per row");
        assert!(session.get::<User>(99).unwrap().is_none());
    });
}

#[test]
fn update_writes_only_the_changed_column() {
    each_engine(|engine| {
        let (engine, session) = seeded(engine);
        let alice = by_name(&session, "Alice").unwrap();
        alice.borrow_mut().age = Some(31);
        engine.set_echo(false);
        let before = engine.statement_count();
        session.commit().unwrap();
        assert_eq!(engine.statement_count() - before, 1, "one UPDATE");
        let fresh = Session::new(&engine);
        let again = fresh
            .query::<User>()
            .filter(User::name.eq("Alice"))
            .one()
            .unwrap();
        assert_eq!(again.borrow().age, Some(31));
        // An object changed and changed back is not written.
        again.borrow_mut().age = Some(99);
        again.borrow_mut().age = Some(31);
        let before = engine.statement_count();
        fresh.commit().unwrap();
        assert_eq!(engine.statement_count(), before);
    });
}

#[test]
fn delete_removes_the_row() {
    each_engine(|engine| {
        let (_engine, session) = seeded(engine);
        let alice = by_name(&session, "Alice").unwrap();
        session.delete(&alice).unwrap();
        session.commit().unwrap();
        assert_eq!(session.query::<User>().count().unwrap(), 3);
        assert!(by_name(&session, "Alice").is_none());
        assert_eq!(alice.state(), orm::ObjectState::Deleted);
    });
}

#[test]
fn ordering_limiting_counting() {
    each_engine(|engine| {
        let (_engine, session) = seeded(engine);
        assert_eq!(
            names(&session.query::<User>().order_by(User::name).all().unwrap()),
            ["Alice", "Bob", "Carol", "Dave"]
        );
        assert_eq!(
            names(
                &session
                    .query::<User>()
                    .order_by(User::age.desc())
                    .all()
                    .unwrap()
            ),
            ["Carol", "Alice", "Dave", "Bob"]
        );
        assert_eq!(
            session
                .query::<User>()
                .order_by(User::id)
                .limit(2)
                .all()
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            names(
                &session
                    .query::<User>()
                    .order_by(User::id)
                    .limit(2)
                    .offset(1)
                    .all()
                    .unwrap()
            ),
            ["Bob", "Carol"]
        );
        assert_eq!(session.query::<User>().count().unwrap(), 4);
        assert!(session
            .query::<User>()
            .filter(User::age.gt(40))
            .exists()
            .unwrap());
        assert!(!session
            .query::<User>()
            .filter(User::age.gt(50))
            .exists()
            .unwrap());
    });
}

#[test]
fn aggregates_are_typed_scalars() {
    each_engine(|engine| {
        let (_engine, session) = seeded(engine);
        let avg: Option<f64> = session.query_values(func::avg(User::age)).scalar().unwrap();
        assert_eq!(avg, Some(28.5));
        assert_eq!(
            session.query_values(func::max(User::age)).scalar().unwrap(),
            Some(42)
        );
        assert_eq!(
            session.query_values(func::min(User::age)).scalar().unwrap(),
            Some(17)
        );
        assert_eq!(
            session.query_values(func::sum(User::age)).scalar().unwrap(),
            Some(114)
        );
        assert_eq!(
            session
                .query_values(func::count(User::id))
                .scalar()
                .unwrap(),
            4
        );
        assert_eq!(
            session
                .query_values(func::count_all())
                .select_from::<User>()
                .scalar()
                .unwrap(),
            4
        );
        let empty: Option<f64> = session
            .query_values(func::avg(User::age))
            .filter(User::age.gt(100))
            .scalar()
            .unwrap();
        assert_eq!(empty, None);
    });
}

#[test]
fn group_by_and_having() {
    each_engine(|engine| {
        let (_engine, session) = seeded(engine);
        session.add(user("Eve", "eve@example.com", 30));
        let rows = session
            .query_values((User::age, func::count(User::id)))
            .group_by(User::age)
            .having(func::count(User::id).gt(1))
            .all()
            .unwrap();
        assert_eq!(rows, vec![(Some(30), 2)]);
        // An expression with a parameter, grouped by: PostgreSQL needs it written once.
        let buckets = session
            .query_values((User::age.modulo(10), func::count(User::id)))
            .group_by(User::age.modulo(10))
            .order_by(User::age.modulo(10))
            .all()
            .unwrap();
        assert_eq!(
            buckets,
            vec![(Some(0), 2), (Some(2), 1), (Some(5), 1), (Some(7), 1)]
        );
    });
}

#[test]
fn combining_filters() {
    each_engine(|engine| {
        let (_engine, session) = seeded(engine);
        let q = session
            .query::<User>()
            .filter(and_([User::name.eq("Alice"), User::age.ge(18)]));
        assert_eq!(names(&q.all().unwrap()), ["Alice"]);
        let q = session
            .query::<User>()
            .filter(or_([User::name.eq("Alice"), User::name.eq("Bob")]))
            .order_by(User::name);
        assert_eq!(names(&q.all().unwrap()), ["Alice", "Bob"]);
        let q = session
            .query::<User>()
            .filter(not_(User::age.lt(18)))
            .order_by(User::name);
        assert_eq!(names(&q.all().unwrap()), ["Alice", "Carol", "Dave"]);
        let q = session
            .query::<User>()
            .filter(User::name.in_(["Bob", "Dave"]))
            .order_by(User::name);
        assert_eq!(names(&q.all().unwrap()), ["Bob", "Dave"]);
        let q = session
            .query::<User>()
            .filter(User::name.not_in(["Bob", "Dave"]))
            .order_by(User::name);
        assert_eq!(names(&q.all().unwrap()), ["Alice", "Carol"]);
        let q = session
            .query::<User>()
            .filter(User::age.between(20, 35))
            .order_by(User::name);
        assert_eq!(names(&q.all().unwrap()), ["Alice", "Dave"]);
        let q = session
            .query::<User>()
            .filter(User::email.contains("ol@"))
            .order_by(User::name);
        assert_eq!(names(&q.all().unwrap()), ["Carol"]);
        let q = session
            .query::<User>()
            .filter(User::name.startswith("Da").or(User::name.endswith("ob")));
        assert_eq!(
            names(&q.order_by(User::name).all().unwrap()),
            ["Bob", "Dave"]
        );
        let q = session
            .query::<User>()
            .filter(User::name.like("_a%"))
            .order_by(User::name);
        assert_eq!(names(&q.all().unwrap()), ["Carol", "Dave"]);
        let q = session.query::<User>().filter_by("name", "Carol");
        assert_eq!(names(&q.all().unwrap()), ["Carol"]);
    });
}

#[test]
fn null_comparisons_become_is_null() {
    each_engine(|engine| {
        let (_engine, session) = seeded(engine);
        session.add(User {
            name: "Nobody".into(),
            ..Default::default()
        });
        let q = session
            .query::<User>()
            .filter(User::email.eq(None::<String>));
        assert!(q.to_sql().contains("IS NULL"), "{}", q.to_sql());
        assert_eq!(names(&q.all().unwrap()), ["Nobody"]);
        assert_eq!(
            session
                .query::<User>()
                .filter(User::age.is_not_null())
                .count()
                .unwrap(),
            4
        );
    });
}

#[test]
fn one_and_one_or_none_say_what_they_found() {
    each_engine(|engine| {
        let (_engine, session) = seeded(engine);
        let err = session
            .query::<User>()
            .filter(User::age.gt(100))
            .one()
            .err()
            .unwrap();
        assert!(matches!(err, orm::Error::NoResultFound { .. }), "{err}");
        let err = session
            .query::<User>()
            .filter(User::age.gt(18))
            .one()
            .err()
            .unwrap();
        assert!(
            matches!(err, orm::Error::MultipleResultsFound { count: 3, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("found 3 rows"), "{err}");
        assert!(session
            .query::<User>()
            .filter(User::age.gt(100))
            .one_or_none()
            .unwrap()
            .is_none());
    });
}

#[test]
fn autoflush_makes_pending_adds_visible() {
    each_engine(|engine| {
        let (_engine, session) = seeded(engine);
        session.add(user("Zed", "zed@example.com", 50));
        assert_eq!(named(&session, "Zed"), 1);
        session.rollback().unwrap();
        assert_eq!(named(&session, "Zed"), 0);
    });
}

#[test]
fn columns_and_distinct() {
    each_engine(|engine| {
        let (_engine, session) = seeded(engine);
        session.add(user("Alice", "alice2@example.com", 60));
        let names: Vec<String> = session
            .query_values(User::name)
            .distinct()
            .order_by(User::name)
            .all()
            .unwrap();
        assert_eq!(names, ["Alice", "Bob", "Carol", "Dave"]);
        let pairs: Vec<(String, Option<i64>)> = session
            .query_values((User::name, User::age))
            .filter(User::age.lt(20))
            .all()
            .unwrap();
        assert_eq!(pairs, vec![("Bob".to_string(), Some(17))]);
    });
}

#[test]
fn two_point_zero_style_select_and_scalars() {
    each_engine(|engine| {
        let (_engine, session) = seeded(engine);
        let stmt = orm::select::<User>()
            .where_(User::age.gt(21))
            .order_by(User::name);
        assert_eq!(
            names(&session.scalars(stmt).unwrap()),
            ["Alice", "Carol", "Dave"]
        );
        let unbound = orm::select::<User>().all();
        assert!(unbound
            .unwrap_err()
            .to_string()
            .contains("not bound to a session"));
    });
}

#[test]
fn to_sql_shows_the_statement_with_parameters() {
    each_engine(|engine| {
        let (engine, session) = seeded(engine);
        let q = session
            .query::<User>()
            .filter(User::age.gt(21))
            .order_by(User::name.desc())
            .limit(10);
        let placeholder = match engine.dialect() {
            "postgresql" => "$1",
            _ => "?",
        };
        assert_eq!(
            q.to_sql(),
            format!(
                "SELECT \"users\".\"id\", \"users\".\"name\", \"users\".\"email\", \"users\".\"age\" \
                 FROM \"users\" WHERE \"users\".\"age\" > {placeholder} \
                 ORDER BY \"users\".\"name\" DESC LIMIT 10"
            )
        );
    });
}

#[test]
fn scoped_session_commits_on_ok_and_rolls_back_on_err() {
    each_engine(|engine| {
        let (engine, _session) = seeded(engine);
        Session::scoped(&engine, |s| {
            s.add(user("Frank", "frank@example.com", 40));
            Ok(())
        })
        .unwrap();
        let failed: orm::Result<()> = Session::scoped(&engine, |s| {
            s.add(user("Grace", "grace@example.com", 40));
            s.flush()?;
            Err(orm::Error::InvalidRequest("changed my mind".into()))
        });
        assert!(
            matches!(&failed, Err(orm::Error::InvalidRequest(m)) if m == "changed my mind"),
            "{failed:?}"
        );
        let check = Session::new(&engine);
        assert_eq!(named(&check, "Frank"), 1);
        assert_eq!(named(&check, "Grace"), 0);
    });
}

#[test]
fn create_all_and_drop_all_are_idempotent() {
    each_engine(|engine| {
        let metadata = MetaData::new().add::<User>();
        metadata.create_all(&engine).unwrap();
        metadata.create_all(&engine).unwrap();
        let catalog = match engine.dialect() {
            "postgresql" => "SELECT indexname FROM pg_indexes WHERE indexname = 'ix_users_age'",
            _ => "SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'ix_users_age'",
        };
        let indexes = engine.execute(orm::core::text(catalog)).unwrap();
        assert_eq!(indexes.rows.len(), 1);
        metadata.drop_all(&engine).unwrap();
        metadata.drop_all(&engine).unwrap();
        let err = Session::new(&engine).query::<User>().all().unwrap_err();
        assert!(err.to_string().contains("create_all"), "{err}");
    });
}

/// A note on a user: a second table of the metadata, dropped before `users`.
#[derive(Model, Debug, Clone, Default, PartialEq)]
#[orm(table = "notes")]
pub struct Note {
    #[orm(primary_key)]
    pub id: i64,
    pub text: String,
    #[orm(foreign_key = "users.id")]
    pub user_id: Option<i64>,
}

/// After an interrupted run, a table of another metadata (here written by hand) still refers to
/// `users`. As SQLAlchemy's `drop_all`, ours drops its own tables only, never with `CASCADE`:
/// the database refuses, the error names what still depends on the table, and nothing is
/// dropped (one transaction); once the other table is gone, `drop_all` drops everything.
#[test]
fn drop_all_with_a_leftover_table_referring_to_ours_names_it_and_drops_nothing() {
    each_engine(|engine| {
        let metadata = MetaData::new().add::<User>().add::<Note>();
        metadata.create_all(&engine).unwrap();
        let sql = |s: &str| {
            engine
                .execute(orm::core::text(s))
                .unwrap_or_else(|e| panic!("{s}: {e}"))
        };
        sql("CREATE TABLE leftovers (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id))");
        sql("INSERT INTO users (id, name) VALUES (1, 'Alice')");
        sql("INSERT INTO notes (id, text, user_id) VALUES (1, 'hello', 1)");
        sql("INSERT INTO leftovers (id, user_id) VALUES (1, 1)");
        match (engine.dialect(), metadata.drop_all(&engine).unwrap_err()) {
            (
                "postgresql",
                orm::Error::DependentObjectsStillExist {
                    table, dependents, ..
                },
            ) => {
                assert_eq!(table, "users");
                assert_eq!(
                    dependents,
                    ["constraint leftovers_user_id_fkey on table leftovers depends on table users"]
                );
            }
            ("sqlite", orm::Error::ForeignKeyViolation { table, detail, .. }) => {
                // SQLite empties a table before dropping it, and the leftover row refuses that.
                assert_eq!(table, "users");
                assert!(detail.contains("table being dropped"), "{detail}");
            }
            (dialect, other) => panic!("{dialect}: unexpected error {other:?}"),
        }
        // Nothing was dropped: `notes`, dropped before `users` in the same transaction, is
        // back with its row.
        let count = |table: &str| sql(&format!("SELECT count(*) FROM {table}")).rows[0][0].clone();
        assert_eq!(count("notes"), Value::Integer(1));
        assert_eq!(count("users"), Value::Integer(1));
        // The leftover table is not ours to drop: drop it, and drop_all goes through.
        sql("DROP TABLE leftovers");
        metadata.drop_all(&engine).unwrap();
        for table in ["users", "notes"] {
            let err = engine
                .execute(orm::core::text(format!("SELECT count(*) FROM {table}")))
                .unwrap_err();
            assert!(
                matches!(&err, orm::Error::NoSuchTable { table: t, .. } if t == table),
                "{err:?}"
            );
        }
    });
}
