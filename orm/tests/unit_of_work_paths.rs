//! Behaviour that the performance work of the standard workload rewired, pinned down: statements
//! kept prepared through a flush, SQL written once per session for `get` and lazy loads, the
//! identity map per table, and commits that forget loaded relationships only when there are some.

mod support;

use orm::prelude::*;
use support::each_engine;
// A model whose key is text: the identity map, `get` and deletes take text keys too.
use support::models::tags::Tag;

#[derive(Model, Debug, Clone, Default)]
#[orm(table = "users", has_many(posts: Post, foreign_key = "user_id"))]
pub struct User {
    #[orm(primary_key)]
    pub id: i64,
    pub name: String,
    #[orm(unique)]
    pub email: Option<String>,
}

#[derive(Model, Debug, Clone, Default)]
#[orm(table = "posts")]
pub struct Post {
    #[orm(primary_key)]
    pub id: i64,
    pub title: String,
    #[orm(foreign_key = "users.id")]
    pub user_id: Option<i64>,
}

/// This file's tables, created on an empty database.
fn with_tables(engine: Engine) -> Engine {
    MetaData::new()
        .add::<User>()
        .add::<Post>()
        .add::<Tag>()
        .create_all(&engine)
        .unwrap();
    engine
}

fn user(name: &str) -> User {
    User {
        name: name.into(),
        ..Default::default()
    }
}

fn post(title: &str, user_id: i64) -> Post {
    Post {
        title: title.into(),
        user_id: Some(user_id),
        ..Default::default()
    }
}

#[test]
fn a_flush_counts_every_row_while_statements_stay_prepared() {
    each_engine(|engine| {
        let engine = with_tables(engine);
        let session = Session::new(&engine);
        // Two shapes interleaved: the kept statement must switch and switch back.
        session.add(user("a"));
        session.add(Tag {
            code: "rs".into(),
            label: "Rust".into(),
        });
        session.add(user("b"));
        session.add(User {
            id: 10,
            name: "explicit key".into(),
            email: None,
        });
        let before = engine.statement_count();
        session.commit().unwrap();
        assert_eq!(engine.statement_count() - before, 4, "one INSERT per row");
        let names: Vec<String> = session
            .query::<User>()
            .order_by(User::id)
            .all()
            .unwrap()
            .iter()
            .map(|u| u.borrow().name.clone())
            .collect();
        assert_eq!(names, ["a", "b", "explicit key"]);
        assert_eq!(
            session.get::<Tag>("rs").unwrap().unwrap().borrow().label,
            "Rust"
        );
    });
}

#[test]
fn a_failed_flush_leaves_no_new_object_in_the_identity_map() {
    each_engine(|engine| {
        let engine = with_tables(engine);
        let session = Session::new(&engine);
        session.add(User {
            email: Some("a@x".into()),
            ..user("a")
        });
        session.commit().unwrap();
        assert_eq!(session.identity_count(), 1);
        let fine = session.add(user("fine"));
        session.add(User {
            email: Some("a@x".into()),
            ..user("clash")
        });
        let err = session.commit().unwrap_err();
        assert!(
            matches!(&err, orm::Error::UniqueViolation { table, columns, .. }
                if table == "users" && columns == &["email"]),
            "{err:?}"
        );
        assert_eq!(
            session.identity_count(),
            1,
            "the rollback keeps the persistent object (expired) and expunges the new ones"
        );
        assert_eq!(fine.state(), orm::ObjectState::Transient);
        // The session works on: the failed rows were never written.
        let again = Session::new(&engine);
        assert_eq!(again.query::<User>().count().unwrap(), 1);
    });
}

#[test]
fn get_takes_the_identity_map_then_pending_changes_into_account() {
    each_engine(|engine| {
        let engine = with_tables(engine);
        let session = Session::new(&engine);
        let alice = session.add(user("alice"));
        // Pending: `get` flushes first, then finds the object already in the map.
        let found = session.get::<User>(1).unwrap().unwrap();
        assert!(found.ptr_eq(&alice));
        assert!(session.get::<User>(2).unwrap().is_none());
        session.commit().unwrap();
        // A new session runs the statement, twice for two keys, with the SQL written once.
        let other = Session::new(&engine);
        session.add(user("bob"));
        session.commit().unwrap();
        let before = engine.statement_count();
        let a = other.get::<User>(1).unwrap().unwrap();
        let b = other.get::<User>(2).unwrap().unwrap();
        assert_eq!(engine.statement_count() - before, 2);
        assert_eq!(
            (a.borrow().name.as_str(), b.borrow().name.as_str()),
            ("alice", "bob")
        );
        // Known now: no statement.
        let before = engine.statement_count();
        assert!(other.get::<User>(1).unwrap().unwrap().ptr_eq(&a));
        assert_eq!(engine.statement_count(), before);
    });
}

#[test]
fn a_commit_forgets_relationships_however_they_were_loaded() {
    each_engine(|engine| {
        let engine = with_tables(engine);
        let session = Session::new(&engine);
        session.add(user("alice"));
        session.commit().unwrap();
        session.add(post("first", 1));
        session.commit().unwrap();
        let add_post_behind_the_session = |title: &str| {
            engine
                .execute(orm::core::text(format!(
                    "INSERT INTO posts (title, user_id) VALUES ('{title}', 1)"
                )))
                .unwrap();
        };

        // Lazily.
        let alice = session.get::<User>(1).unwrap().unwrap();
        assert_eq!(alice.related(User::posts).unwrap().len(), 1);
        add_post_behind_the_session("second");
        assert_eq!(alice.related(User::posts).unwrap().len(), 1, "loaded once");
        session.commit().unwrap();
        assert_eq!(alice.related(User::posts).unwrap().len(), 2);

        // Select-in.
        session
            .query::<User>()
            .options(selectinload(User::posts))
            .all()
            .unwrap();
        add_post_behind_the_session("third");
        session.commit().unwrap();
        assert_eq!(alice.related(User::posts).unwrap().len(), 3);

        // Joined.
        session
            .query::<User>()
            .options(joinedload(User::posts))
            .all()
            .unwrap();
        add_post_behind_the_session("fourth");
        session.commit().unwrap();
        assert_eq!(alice.related(User::posts).unwrap().len(), 4);
    });
}

#[test]
fn deleting_the_same_object_twice_deletes_it_once() {
    each_engine(|engine| {
        let engine = with_tables(engine);
        let session = Session::new(&engine);
        session.add_all([user("a"), user("b")]);
        session.commit().unwrap();
        let a = session.get::<User>(1).unwrap().unwrap();
        session.delete(&a).unwrap();
        session.delete(&a).unwrap();
        let before = engine.statement_count();
        session.commit().unwrap();
        // `User::posts` has no `delete` cascade: one UPDATE clears the posts' `user_id` first.
        assert_eq!(
            engine.statement_count() - before,
            2,
            "one UPDATE, one DELETE"
        );
        assert_eq!(session.query::<User>().count().unwrap(), 1);
    });
}

#[test]
fn many_objects_round_trip_through_one_session() {
    each_engine(|engine| {
        let engine = with_tables(engine);
        let session = Session::new(&engine);
        for i in 0..2_000 {
            session.add(user(&format!("user{i:04}")));
        }
        session.commit().unwrap();
        for u in session.query::<User>().all().unwrap() {
            let id = u.borrow().id;
            u.borrow_mut().name = format!("renamed{id}");
        }
        session.commit().unwrap();
        drop(session);
        let fresh = Session::new(&engine);
        let last = fresh.get::<User>(2_000).unwrap().unwrap();
        assert_eq!(last.borrow().name, "renamed2000");
        assert_eq!(fresh.identity_count(), 1);
    });
}
