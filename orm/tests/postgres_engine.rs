//! What differs on PostgreSQL, checked on a real server: generated keys, booleans, timestamps
//! with time zones, JSONB, the case of identifiers, named constraint errors, a failed commit, a
//! lost connection, and a password that is never shown. The shared behaviour runs on both
//! engines in `lesson_core.rs` and `relationships.rs`.
//!
//! Needs `ORM_TEST_POSTGRES_URL` (see `tests/postgres.sh`); without it each test fails, unless
//! the PostgreSQL runs are skipped on purpose (`ORM_TEST_SKIP_POSTGRES=1`).
#![cfg(feature = "postgres")]

mod support;

use chrono::{DateTime, Utc};
use orm::core::text;
use orm::prelude::*;
use orm::Value;
use serde_json::json;
use support::TestDatabase;

#[derive(Model, Debug, Clone, Default, PartialEq)]
#[orm(table = "users", has_many(posts: Post, foreign_key = "user_id"))]
pub struct User {
    #[orm(primary_key)]
    pub id: i64,
    pub name: String,
    #[orm(unique)]
    pub email: Option<String>,
    pub active: bool,
    pub joined: Option<DateTime<Utc>>,
    pub profile: Option<serde_json::Value>,
}

#[derive(Model, Debug, Clone, Default)]
#[orm(table = "posts")]
pub struct Post {
    #[orm(primary_key)]
    pub id: i64,
    pub title: String,
    #[orm(foreign_key = "users.id")]
    pub user_id: i64,
}

/// A table and a column whose names need quoting to keep their case and not clash with SQL.
#[derive(Model, Debug, Clone, Default)]
#[orm(table = "OrderLines")]
pub struct OrderLine {
    #[orm(primary_key)]
    pub id: i64,
    #[orm(column = "order")]
    pub order_no: i64,
    #[orm(column = "Quantity")]
    pub quantity: i64,
}

/// An empty database with this file's tables, or `None` when no server is configured.
fn database() -> Option<(TestDatabase, Engine)> {
    let db = TestDatabase::create()?;
    let engine = db.engine();
    MetaData::new()
        .add::<User>()
        .add::<Post>()
        .add::<OrderLine>()
        .create_all(&engine)
        .unwrap();
    Some((db, engine))
}

fn scalar(engine: &Engine, sql: &str) -> Value {
    engine.execute(text(sql)).unwrap().rows[0][0].clone()
}

fn user(name: &str) -> User {
    User {
        name: name.into(),
        email: Some(format!("{}@example.com", name.to_lowercase())),
        active: true,
        ..Default::default()
    }
}

#[test]
fn keys_come_from_identity_columns() {
    let Some((_db, engine)) = database() else {
        return;
    };
    assert_eq!(engine.dialect(), "postgresql");
    let session = Session::new(&engine);
    let added: Vec<_> = ["Ann", "Ben", "Cid"]
        .into_iter()
        .map(|n| session.add(user(n)))
        .collect();
    let chosen = session.add(User {
        id: 1000,
        ..user("Dee")
    });
    session.commit().unwrap();
    let ids: Vec<i64> = added.iter().map(|u| u.borrow().id).collect();
    assert_eq!(ids, [1, 2, 3]);
    assert_eq!(chosen.borrow().id, 1000);
    assert_eq!(
        scalar(
            &engine,
            "SELECT data_type || ' ' || is_identity FROM information_schema.columns \
             WHERE table_name = 'users' AND column_name = 'id'"
        ),
        Value::Text("bigint YES".into())
    );
}

#[test]
fn booleans_are_booleans_and_json_is_jsonb() {
    let Some((_db, engine)) = database() else {
        return;
    };
    let session = Session::new(&engine);
    let profile = json!({"langs": ["rust", "sql"], "level": 3, "nested": {"ok": true}});
    session.add(User {
        active: false,
        profile: Some(profile.clone()),
        ..user("Ann")
    });
    session.add(user("Ben"));
    session.commit().unwrap();
    assert_eq!(
        scalar(
            &engine,
            "SELECT pg_typeof(active)::text || ' ' || pg_typeof(profile)::text FROM users LIMIT 1"
        ),
        Value::Text("boolean jsonb".into())
    );
    let fresh = Session::new(&engine);
    let inactive = fresh
        .query::<User>()
        .filter(User::active.eq(false))
        .one()
        .unwrap();
    assert_eq!(inactive.borrow().profile, Some(profile));
    // JSONB is queryable on the server: the ORM wrote real JSON, not text.
    assert_eq!(
        scalar(
            &engine,
            "SELECT profile->'nested'->>'ok' FROM users WHERE name = 'Ann'"
        ),
        Value::Text("true".into())
    );
    assert_eq!(
        fresh
            .query::<User>()
            .filter(User::active.eq(true))
            .count()
            .unwrap(),
        1
    );
}

#[test]
fn timestamps_keep_the_instant_whatever_the_time_zone() {
    let Some((_db, engine)) = database() else {
        return;
    };
    let instant = "2024-05-17T07:30:15.000250Z"
        .parse::<DateTime<Utc>>()
        .unwrap();
    let session = Session::new(&engine);
    session.add(User {
        joined: Some(instant),
        ..user("Ann")
    });
    session.commit().unwrap();
    let fresh = Session::new(&engine);
    let ann = fresh.query::<User>().one().unwrap();
    assert_eq!(ann.borrow().joined, Some(instant));
    let later = fresh
        .query::<User>()
        .filter(User::joined.gt("2024-05-17T07:00:00Z".parse::<DateTime<Utc>>().unwrap()))
        .count()
        .unwrap();
    assert_eq!(later, 1);
    // A `timestamptz` column written in another zone reads back as the same instant in UTC.
    engine
        .execute(text("CREATE TABLE meetings (at TIMESTAMPTZ NOT NULL)"))
        .unwrap();
    engine.execute(text("SET TIME ZONE 'Asia/Tokyo'")).unwrap();
    engine
        .execute(text(
            "INSERT INTO meetings VALUES ('2024-05-17 16:30:15.00025+09')",
        ))
        .unwrap();
    assert_eq!(
        scalar(&engine, "SELECT at FROM meetings"),
        Value::DateTime(instant.naive_utc())
    );
}

#[test]
fn identifiers_keep_their_case_and_may_be_keywords() {
    let Some((_db, engine)) = database() else {
        return;
    };
    let session = Session::new(&engine);
    session.add(OrderLine {
        order_no: 7,
        quantity: 3,
        ..Default::default()
    });
    session.commit().unwrap();
    let columns = engine
        .execute(text(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'OrderLines' \
             ORDER BY ordinal_position",
        ))
        .unwrap();
    let names: Vec<String> = columns.rows.iter().map(|r| r[0].to_string()).collect();
    assert_eq!(names, ["id", "order", "Quantity"]);
    let line = session
        .query::<OrderLine>()
        .filter(OrderLine::order_no.eq(7))
        .one()
        .unwrap();
    assert_eq!(line.borrow().quantity, 3);
}

#[test]
fn constraint_errors_name_table_column_and_constraint() {
    let Some((_db, engine)) = database() else {
        return;
    };
    let session = Session::new(&engine);
    session.add(user("Ann"));
    session.commit().unwrap();

    session.add(user("Ann"));
    let err = session.commit().unwrap_err();
    assert!(
        matches!(&err, orm::Error::UniqueViolation { table, columns, .. }
            if table == "users" && columns == &["email"]),
        "{err:?}"
    );

    session.add(Post {
        title: "orphan".into(),
        user_id: 999,
        ..Default::default()
    });
    let err = session.commit().unwrap_err();
    assert!(
        matches!(err, orm::Error::ForeignKeyViolation { ref table, .. } if table == "posts"),
        "{err}"
    );
    assert!(
        err.to_string().contains("constraint posts_user_id_fkey"),
        "{err}"
    );

    let err = engine
        .execute(text(
            "INSERT INTO users (email, active) VALUES ('x@y', true)",
        ))
        .unwrap_err();
    assert!(
        matches!(&err, orm::Error::NotNullViolation { table, column, .. }
            if table == "users" && column == "name"),
        "{err:?}"
    );
    let err = engine.execute(text("SELECT * FROM nowhere")).unwrap_err();
    assert!(
        matches!(&err, orm::Error::NoSuchTable { table, .. } if table == "nowhere"),
        "{err:?}"
    );
}

#[test]
fn a_failed_commit_leaves_nothing_written_and_the_session_goes_on() {
    let Some((_db, engine)) = database() else {
        return;
    };
    let session = Session::new(&engine);
    session.add(user("Ann"));
    session.commit().unwrap();
    session.add(user("Ben"));
    session.add(user("Cid"));
    session.add(user("Ann"));
    let err = session.commit().unwrap_err();
    assert!(
        matches!(&err, orm::Error::UniqueViolation { table, columns, constraint: Some(c), .. }
            if table == "users" && columns == &["email"] && c == "users_email_key"),
        "{err:?}"
    );
    let check = Session::new(&engine);
    assert_eq!(
        check.query::<User>().count().unwrap(),
        1,
        "Ben and Cid too were undone"
    );
    // The transaction was rolled back, not left aborted: the next unit of work commits.
    session.add(user("Dee"));
    session.commit().unwrap();
    assert_eq!(check.query::<User>().count().unwrap(), 2);
}

#[test]
fn a_lost_connection_is_a_clear_error_not_a_panic() {
    let Some((db, engine)) = database() else {
        return;
    };
    let session = Session::new(&engine);
    session.add(user("Ann"));
    session.commit().unwrap();
    let Value::Integer(pid) = scalar(&engine, "SELECT pg_backend_pid()") else {
        panic!("pg_backend_pid is an integer")
    };
    // The server ends this engine's connection, as a restart or an administrator would.
    let admin = db.engine();
    admin
        .execute(text(format!("SELECT pg_terminate_backend({pid})")))
        .unwrap();
    let err = session.query::<User>().all().unwrap_err().to_string();
    assert!(err.contains("connection to the PostgreSQL server"), "{err}");
    assert!(err.contains("was lost"), "{err}");
    session.add(user("Ben"));
    let err = session.commit().unwrap_err();
    assert!(
        matches!(&err, orm::Error::Database { message, .. } if message.contains("was lost")),
        "{err:?}"
    );
}

#[test]
fn the_password_is_never_shown() {
    let Some((db, engine)) = database() else {
        return;
    };
    let url = db.url().to_string();
    let password = url
        .split_once("://")
        .and_then(|(_, rest)| rest.split_once('@'))
        .and_then(|(userinfo, _)| userinfo.split_once(':'))
        .map(|(_, password)| password.to_string())
        .expect("the test server's URL has a password");
    for shown in [
        format!("{engine:?}"),
        engine.to_string(),
        engine.url(),
        format!("{:?}", orm::DatabaseUrl::parse(&url).unwrap()),
    ] {
        assert!(!shown.contains(&password), "{shown}");
        assert!(shown.contains(":***@"), "{shown}");
    }
    let wrong = url.replace(&password, "not-the-password");
    let err = create_engine(&wrong).unwrap_err().to_string();
    assert!(err.contains("password authentication failed"), "{err}");
    assert!(!err.contains("not-the-password"), "{err}");
    let unreachable = format!("postgresql://orm:{password}@127.0.0.1:1/x?connect_timeout=2");
    let err = create_engine(&unreachable).unwrap_err().to_string();
    assert!(!err.contains(&password), "{err}");
}

#[test]
fn ilike_is_case_insensitive_where_like_is_not() {
    let Some((_db, engine)) = database() else {
        return;
    };
    let session = Session::new(&engine);
    session.add(user("Alice"));
    session.commit().unwrap();
    let like = session.query::<User>().filter(User::name.like("%ALI%"));
    assert_eq!(like.count().unwrap(), 0);
    let ilike = session.query::<User>().filter(User::name.ilike("%ALI%"));
    assert!(ilike.to_sql().contains("ILIKE $1"), "{}", ilike.to_sql());
    assert_eq!(ilike.count().unwrap(), 1);
}
