//! The unit of work's batched writes (issue 19), on SQLite and PostgreSQL from one body: many new
//! rows of a table go out as multi-row `INSERT … RETURNING` statements of at most 1,000 rows
//! (SQLAlchemy's `insertmanyvalues_page_size`), each object gets the key of its own row, updates
//! of one shape and deletes by key go out a page at a time (updates one a row on SQLite), and
//! the matched row counts are still checked (`StaleData`).

mod support;

use orm::prelude::*;
use orm::{ObjectState, Value};
use std::collections::HashMap;
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
    pub age: Option<i64>,
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

fn with_tables(engine: Engine) -> Engine {
    MetaData::new()
        .add::<User>()
        .add::<Post>()
        .create_all(&engine)
        .unwrap();
    engine
}

fn user(i: usize) -> User {
    User {
        name: format!("user {i}"),
        email: Some(format!("u{i}@example.com")),
        age: Some((i % 70) as i64),
        ..Default::default()
    }
}

fn is_postgres(engine: &Engine) -> bool {
    engine.dialect() == "postgresql"
}

/// Every row of `users` as key → (name, age), read with Core (not through the session).
fn user_rows(engine: &Engine) -> HashMap<i64, (String, Option<i64>)> {
    let rows = engine
        .execute(orm::core::text("SELECT id, name, age FROM users"))
        .unwrap()
        .rows;
    rows.into_iter()
        .map(|row| {
            let Value::Integer(id) = row[0] else {
                panic!("id {:?}", row[0])
            };
            let Value::Text(name) = &row[1] else {
                panic!("name {:?}", row[1])
            };
            let age = match row[2] {
                Value::Integer(a) => Some(a),
                Value::Null => None,
                ref other => panic!("age {other:?}"),
            };
            (id, (name.clone(), age))
        })
        .collect()
}

/// Asserts that each object's key is that of the row holding its own values.
fn assert_keys_match_rows(engine: &Engine, users: &[Obj<User>]) {
    let rows = user_rows(engine);
    for u in users {
        let u = u.borrow();
        let row = rows
            .get(&u.id)
            .unwrap_or_else(|| panic!("no row with the key {} of {}", u.id, u.name));
        assert_eq!(row.0, u.name, "the row with key {} is another user's", u.id);
    }
}

#[test]
fn an_insert_of_1200_users_is_two_statements_and_each_object_gets_its_own_key() {
    each_engine(|engine| {
        let engine = with_tables(engine);
        let session = Session::new(&engine).expire_on_commit(false);
        let users = session.add_all((0..1200).map(user));
        engine.reset_statement_count();
        session.flush().unwrap();
        // A page of 1,000 rows, then one of 200 (BEGIN is transaction control, not counted).
        assert_eq!(engine.statement_count(), 2, "{}", engine.dialect());
        // Keys in the objects' order: increasing, one row each.
        let keys: Vec<i64> = users.iter().map(|u| u.borrow().id).collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "{keys:?}");
        assert_eq!(keys[0], 1);
        session.commit().unwrap();
        assert_keys_match_rows(&engine, &users);
        assert_eq!(user_rows(&engine).len(), 1200);
        assert_eq!(
            session
                .get::<User>(keys[777])
                .unwrap()
                .unwrap()
                .borrow()
                .name,
            "user 777"
        );
    });
}

#[test]
fn keys_given_by_the_program_go_in_pages_without_returning() {
    each_engine(|engine| {
        let engine = with_tables(engine);
        let session = Session::new(&engine);
        session.add_all((0..1500).map(|i| User {
            id: 10_000 + i as i64,
            ..user(i)
        }));
        engine.reset_statement_count();
        session.commit().unwrap();
        assert_eq!(engine.statement_count(), 2);
        let rows = user_rows(&engine);
        assert_eq!(rows.len(), 1500);
        assert_eq!(rows[&10_042].0, "user 42");
    });
}

#[test]
fn given_and_generated_keys_in_one_flush_each_land_on_their_own_row() {
    each_engine(|engine| {
        let engine = with_tables(engine);
        let session = Session::new(&engine).expire_on_commit(false);
        // Runs of generated, given, generated keys.
        let users: Vec<Obj<User>> = (0..30)
            .map(|i| {
                let id = if (10..20).contains(&i) {
                    500 + i as i64
                } else {
                    0
                };
                session.add(User { id, ..user(i) })
            })
            .collect();
        engine.reset_statement_count();
        session.commit().unwrap();
        assert_eq!(engine.statement_count(), 3);
        assert_eq!(users[12].borrow().id, 512);
        assert_keys_match_rows(&engine, &users);
    });
}

#[test]
fn children_linked_to_new_parents_get_their_parents_keys() {
    each_engine(|engine| {
        let engine = with_tables(engine);
        let session = Session::new(&engine).expire_on_commit(false);
        let users = session.add_all((0..300).map(user));
        for (i, u) in users.iter().enumerate() {
            for k in 0..3 {
                u.append(
                    User::posts,
                    Post {
                        title: format!("post {k} of user {i}"),
                        ..Default::default()
                    },
                )
                .unwrap();
            }
        }
        engine.reset_statement_count();
        session.commit().unwrap();
        // 300 users in one statement, 900 posts in one.
        assert_eq!(engine.statement_count(), 2);
        let rows = engine
            .execute(orm::core::text(
                "SELECT posts.title, users.name FROM posts JOIN users ON users.id = posts.user_id",
            ))
            .unwrap()
            .rows;
        assert_eq!(rows.len(), 900);
        for row in rows {
            let (Value::Text(title), Value::Text(name)) = (&row[0], &row[1]) else {
                panic!("{row:?}")
            };
            assert!(
                title.ends_with(&format!("of {name}")),
                "{title} is {name}'s"
            );
        }
    });
}

#[test]
fn updates_of_one_shape_go_a_page_at_a_time_on_postgresql() {
    each_engine(|engine| {
        let engine = with_tables(engine);
        let session = Session::new(&engine);
        session.add_all((0..1200).map(user));
        session.commit().unwrap();
        let users = session.query::<User>().all().unwrap();
        for u in &users {
            let mut u = u.borrow_mut();
            u.age = u.age.map(|a| a + 100);
        }
        // Another shape: the name of ten of them.
        for u in &users[..10] {
            u.borrow_mut().name.push_str(" (renamed)");
        }
        engine.reset_statement_count();
        session.commit().unwrap();
        let statements = engine.statement_count();
        if is_postgres(&engine) {
            // Age alone: 1,190 rows (1,000 + 190); age and name: 10 rows.
            assert_eq!(statements, 3);
        } else {
            // SQLite: one prepared UPDATE run per row (no round trip to save).
            assert_eq!(statements, 1200);
        }
        let rows = user_rows(&engine);
        for i in 0..1200usize {
            let (name, age) = &rows[&(i as i64 + 1)];
            assert_eq!(*age, Some((i % 70) as i64 + 100));
            let renamed = if i < 10 { " (renamed)" } else { "" };
            assert_eq!(*name, format!("user {i}{renamed}"));
        }
    });
}

#[test]
fn deletes_by_key_go_a_page_at_a_time() {
    each_engine(|engine| {
        let engine = with_tables(engine);
        let session = Session::new(&engine);
        session.add_all((0..1500).map(user));
        session.commit().unwrap();
        let users = session
            .query::<User>()
            .filter(User::id.le(1200))
            .all()
            .unwrap();
        for u in &users {
            session.delete(u).unwrap();
        }
        engine.reset_statement_count();
        session.commit().unwrap();
        // PostgreSQL: one `DELETE … WHERE id = ANY($1)` of the 1,200 keys; SQLite: a page of
        // 1,000 keys in `IN (…)`, then one of 200. Before them, `User::posts` (no `delete`
        // cascade) clears the posts' `user_id` with one UPDATE per 500 users: three.
        let want = 3 + if is_postgres(&engine) { 1 } else { 2 };
        assert_eq!(engine.statement_count(), want);
        let rows = user_rows(&engine);
        assert_eq!(rows.len(), 300);
        assert!(rows.keys().all(|k| *k > 1200));
    });
}

/// Deletes by key of a text key: on PostgreSQL the keys go as one `text[]` array parameter
/// (`= ANY($1)`), so the element type follows the key column, and large runs go in pages of
/// 10,000 keys; SQLite pages them in `IN (…)` lists of 1,000.
#[test]
fn deletes_by_text_key_in_pages_leave_exactly_the_rest() {
    each_engine(|engine| {
        MetaData::new().add::<Tag>().create_all(&engine).unwrap();
        let session = Session::new(&engine);
        session.add_all((0..25_003).map(|i| Tag {
            code: format!("t{i:05}"),
            label: format!("tag {i}"),
        }));
        session.commit().unwrap();
        // Every tag but the three largest codes.
        let tags = session
            .query::<Tag>()
            .filter(Tag::code.lt("t25000"))
            .all()
            .unwrap();
        assert_eq!(tags.len(), 25_000);
        for t in &tags {
            session.delete(t).unwrap();
        }
        engine.reset_statement_count();
        session.commit().unwrap();
        let want = if is_postgres(&engine) { 3 } else { 25 };
        assert_eq!(engine.statement_count(), want);
        let left = engine
            .execute(orm::core::text("SELECT code FROM tags ORDER BY code"))
            .unwrap();
        let codes: Vec<Value> = left.rows.iter().map(|r| r[0].clone()).collect();
        assert_eq!(
            codes,
            ["t25000", "t25001", "t25002"].map(|c| Value::Text(c.into()))
        );
    });
}

#[test]
fn a_batched_update_that_misses_rows_is_stale_data_and_nothing_is_written() {
    each_engine(|engine| {
        let engine = with_tables(engine);
        let session = Session::new(&engine);
        session.add_all((0..20).map(user));
        session.commit().unwrap();
        let users = session.query::<User>().all().unwrap();
        for u in &users {
            u.borrow_mut().age = Some(1000);
        }
        // Another connection deletes two of the rows behind the session's back.
        engine
            .execute(orm::core::text("DELETE FROM users WHERE id IN (3, 4)"))
            .unwrap();
        let err = session.commit().unwrap_err();
        // PostgreSQL: one UPDATE of the 20 rows, 18 matched; SQLite: one UPDATE a row, the
        // third matched none.
        let (want_expected, want_matched) = if is_postgres(&engine) {
            (20, 18)
        } else {
            (1, 0)
        };
        assert!(
            matches!(
                &err,
                Error::StaleData { statement: "UPDATE", table, expected, matched }
                    if table == "users" && *expected == want_expected && *matched == want_matched
            ),
            "{err:?}"
        );
        // Rolled back: no row has the new age.
        assert!(user_rows(&engine)
            .values()
            .all(|(_, age)| *age != Some(1000)));
    });
}

#[test]
fn a_batched_delete_that_misses_rows_is_stale_data_and_nothing_is_deleted() {
    each_engine(|engine| {
        let engine = with_tables(engine);
        let session = Session::new(&engine);
        session.add_all((0..20).map(user));
        session.commit().unwrap();
        for u in session.query::<User>().all().unwrap() {
            session.delete(&u).unwrap();
        }
        engine
            .execute(orm::core::text("DELETE FROM users WHERE id = 7"))
            .unwrap();
        let err = session.commit().unwrap_err();
        assert!(
            matches!(
                &err,
                Error::StaleData { statement: "DELETE", table, expected: 20, matched: 19 }
                    if table == "users"
            ),
            "{err:?}"
        );
        assert_eq!(user_rows(&engine).len(), 19);
    });
}

#[test]
fn a_constraint_failure_in_the_second_page_leaves_nothing_written() {
    each_engine(|engine| {
        let engine = with_tables(engine);
        let session = Session::new(&engine);
        let users = session.add_all((0..1100).map(user));
        // Row 1,050 repeats the e-mail of row 3: refused by UNIQUE in the second statement.
        users[1050].borrow_mut().email = Some("u3@example.com".into());
        let err = session.commit().unwrap_err();
        assert!(
            matches!(
                &err,
                Error::UniqueViolation { table, columns, .. }
                    if table == "users" && columns == &["email"]
            ),
            "{err:?}"
        );
        assert!(user_rows(&engine).is_empty());
        // The objects left the session (SQLAlchemy's rollback expunges pending ones).
        assert_eq!(users[10].state(), ObjectState::Transient);
    });
}

#[test]
fn keys_sqlite_hands_out_at_random_still_land_on_their_own_rows() {
    each_engine(|engine| {
        let engine = with_tables(engine);
        // With the largest possible rowid taken, SQLite picks new rowids at random: the keys of
        // one INSERT are then not consecutive, and the unit of work inserts the page again row
        // by row rather than guess which key is whose.
        engine
            .execute(orm::core::text(format!(
                "INSERT INTO users (id, name) VALUES ({}, 'last')",
                i64::MAX
            )))
            .unwrap();
        let session = Session::new(&engine).expire_on_commit(false);
        let users = session.add_all((0..50).map(user));
        engine.reset_statement_count();
        session.commit().unwrap();
        // SQLite: the INSERT of the page, the DELETE of its rows, 50 INSERTs. PostgreSQL's
        // identity column does not look at the largest key: one INSERT.
        let statements = if is_postgres(&engine) { 1 } else { 52 };
        assert_eq!(engine.statement_count(), statements);
        assert_keys_match_rows(&engine, &users);
        assert_eq!(user_rows(&engine).len(), 51);
    });
}
