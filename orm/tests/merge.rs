//! `Session::merge` with SQLAlchemy 2's meaning (issue 19), on SQLite and PostgreSQL from one
//! body: the persistent instance of the key (identity map first, then one SELECT) gets the given
//! values and is returned; without a row, or without a key, the copy becomes pending.

mod support;

use orm::prelude::*;
use orm::{ObjectState, Value};
use support::each_engine;

#[derive(Model, Debug, Clone, Default, PartialEq)]
#[orm(table = "users")]
pub struct User {
    #[orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub age: Option<i64>,
}

/// A `users` table holding Alice (key 1, age 30) and Bob (key 2, age 40), keys assigned by the
/// database (so PostgreSQL's identity column knows them).
fn seeded(engine: Engine) -> Engine {
    MetaData::new().add::<User>().create_all(&engine).unwrap();
    Session::scoped(&engine, |s| {
        s.add(User {
            name: "Alice".into(),
            age: Some(30),
            ..Default::default()
        });
        s.add(User {
            name: "Bob".into(),
            age: Some(40),
            ..Default::default()
        });
        Ok(())
    })
    .unwrap();
    assert_eq!(rows(&engine), [row(1, "Alice", 30), row(2, "Bob", 40)]);
    engine
}

/// The rows of `users` ordered by key, read with Core.
fn rows(engine: &Engine) -> Vec<Vec<Value>> {
    engine
        .execute(orm::core::text(
            "SELECT id, name, age FROM users ORDER BY id",
        ))
        .unwrap()
        .rows
}

fn row(id: i64, name: &str, age: i64) -> Vec<Value> {
    vec![
        Value::Integer(id),
        Value::Text(name.into()),
        Value::Integer(age),
    ]
}

#[test]
fn merge_loads_the_row_copies_the_values_and_returns_the_persistent_instance() {
    each_engine(|engine| {
        let engine = seeded(engine);
        let session = Session::new(&engine);
        engine.reset_statement_count();
        let merged = session
            .merge(User {
                id: 1,
                name: "Alicia".into(),
                age: Some(31),
            })
            .unwrap();
        // Not in the identity map: one SELECT.
        assert_eq!(engine.statement_count(), 1);
        assert_eq!(merged.state(), ObjectState::Persistent);
        assert!(
            session.is_dirty(),
            "the copied values are a change to write"
        );
        assert!(merged.ptr_eq(&session.get::<User>(1).unwrap().unwrap()));
        session.commit().unwrap();
        assert_eq!(
            rows(&engine),
            [row(1, "Alicia", 31), row(2, "Bob", 40)],
            "one UPDATE of Alice, nothing else"
        );
    });
}

#[test]
fn merge_finds_a_loaded_object_in_the_identity_map_without_sql() {
    each_engine(|engine| {
        let engine = seeded(engine);
        let session = Session::new(&engine);
        let bob = session.get::<User>(2).unwrap().unwrap();
        engine.reset_statement_count();
        let merged = session
            .merge(User {
                id: 2,
                name: "Robert".into(),
                age: Some(40),
            })
            .unwrap();
        assert_eq!(engine.statement_count(), 0);
        assert!(merged.ptr_eq(&bob));
        assert_eq!(bob.borrow().name, "Robert");
        session.commit().unwrap();
        assert_eq!(rows(&engine)[1], row(2, "Robert", 40));
    });
}

#[test]
fn a_detached_object_from_a_closed_session_is_merged_into_the_new_one() {
    each_engine(|engine| {
        let engine = seeded(engine);
        let first = Session::new(&engine);
        let alice = first.get::<User>(1).unwrap().unwrap();
        first.close();
        assert_eq!(alice.state(), ObjectState::Detached);
        alice.borrow_mut().age = Some(99);

        let second = Session::new(&engine);
        let merged = second.merge(&alice).unwrap();
        assert!(
            !merged.ptr_eq(&alice),
            "merge returns the session's own instance"
        );
        assert_eq!(
            alice.state(),
            ObjectState::Detached,
            "the given object is left alone"
        );
        assert_eq!(merged.borrow().age, Some(99));
        second.commit().unwrap();
        assert_eq!(rows(&engine)[0], row(1, "Alice", 99));
    });
}

#[test]
fn a_key_without_a_row_becomes_a_pending_insert_with_that_key() {
    each_engine(|engine| {
        let engine = seeded(engine);
        let session = Session::new(&engine);
        let merged = session
            .merge(User {
                id: 7,
                name: "Carol".into(),
                age: Some(25),
            })
            .unwrap();
        assert_eq!(merged.state(), ObjectState::Pending);
        session.commit().unwrap();
        assert_eq!(rows(&engine)[2], row(7, "Carol", 25));
    });
}

#[test]
fn a_transient_without_a_key_becomes_pending_and_gets_one() {
    each_engine(|engine| {
        let engine = seeded(engine);
        let session = Session::new(&engine).expire_on_commit(false);
        engine.reset_statement_count();
        let merged = session
            .merge(User {
                name: "Dave".into(),
                age: Some(50),
                ..Default::default()
            })
            .unwrap();
        // Nothing to look up without a key.
        assert_eq!(engine.statement_count(), 0);
        assert_eq!(merged.state(), ObjectState::Pending);
        session.commit().unwrap();
        let id = merged.borrow().id;
        assert!(id > 2, "the database assigned key {id}");
        assert_eq!(rows(&engine)[2], row(id, "Dave", 50));
    });
}

#[test]
fn an_object_of_the_session_is_returned_as_it_is() {
    each_engine(|engine| {
        let engine = seeded(engine);
        let session = Session::new(&engine);
        let alice = session.get::<User>(1).unwrap().unwrap();
        let pending = session.add(User {
            name: "Eve".into(),
            ..Default::default()
        });
        engine.reset_statement_count();
        assert!(session.merge(&alice).unwrap().ptr_eq(&alice));
        assert!(session.merge(&pending).unwrap().ptr_eq(&pending));
        assert_eq!(engine.statement_count(), 0);
        assert_eq!(pending.state(), ObjectState::Pending);
        assert_eq!(alice.state(), ObjectState::Persistent);
    });
}

#[test]
fn merging_an_object_being_changed_is_a_named_error() {
    each_engine(|engine| {
        let engine = seeded(engine);
        let other = Obj::new(User {
            id: 1,
            name: "Alice".into(),
            age: Some(1),
        });
        let session = Session::new(&engine);
        let guard = other.borrow_mut();
        let err = session.merge(&other).unwrap_err();
        drop(guard);
        assert!(
            matches!(
                &err,
                Error::InvalidRequest(message) if message
                    == "cannot merge a users object that is being changed (a borrow_mut() of it \
                        is alive): drop it first"
            ),
            "{err:?}"
        );
        assert_eq!(rows(&engine)[0], row(1, "Alice", 30));
    });
}
