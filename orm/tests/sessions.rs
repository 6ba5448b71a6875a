//! Sessions you can trust (issue 17): a connection per session, expiry at commit, a rollback
//! that restores, stale rows refused, and the in-memory database's one connection guarded.
//! Each expected value is what SQLAlchemy 2.x gives for the same steps.

mod support;

use orm::prelude::*;
use orm::{ObjectState, Value};
use support::models::people::User;
use support::{each_engine, TestDatabase};

fn with_users(engine: Engine, ages: &[i64]) -> Engine {
    MetaData::new().add::<User>().create_all(&engine).unwrap();
    let session = Session::new(&engine);
    for (i, age) in ages.iter().enumerate() {
        session.add(User {
            name: format!("user{}", i + 1),
            age: Some(*age),
            ..Default::default()
        });
    }
    session.commit().unwrap();
    engine
}

/// The age in the database, read through a session of its own.
fn age_in_database(engine: &Engine, id: i64) -> Option<i64> {
    let fresh = Session::new(engine);
    let age = fresh
        .get::<User>(id)
        .unwrap()
        .expect("the row")
        .borrow()
        .age;
    fresh.close();
    age
}

#[test]
fn offset_without_limit_skips_rows_on_every_engine() {
    each_engine(|engine| {
        let engine = with_users(engine, &[1, 2, 3, 4, 5]);
        let session = Session::new(&engine);
        let query = session.query::<User>().order_by(User::id.asc()).offset(2);
        let names: Vec<String> = query
            .all()
            .unwrap()
            .iter()
            .map(|u| u.borrow().name.clone())
            .collect();
        // SQLAlchemy: ['user3', 'user4', 'user5'] (SQLite: LIMIT -1 OFFSET 2).
        assert_eq!(names, ["user3", "user4", "user5"]);
        if engine.dialect() == "sqlite" {
            assert!(
                query.to_sql().ends_with("LIMIT -1 OFFSET 2"),
                "{}",
                query.to_sql()
            );
        }
    });
}

#[test]
fn commit_expires_objects_so_another_sessions_commit_is_seen() {
    each_engine(|engine| {
        let engine = with_users(engine, &[30]);
        let a = Session::new(&engine);
        let alice = a.get::<User>(1).unwrap().unwrap();
        assert_eq!(alice.borrow().age, Some(30));
        a.commit().unwrap();
        assert!(alice.is_expired());

        let b = Session::new(&engine);
        b.get::<User>(1).unwrap().unwrap().borrow_mut().age = Some(31);
        b.commit().unwrap();

        // SQLAlchemy: a.get(User, 1).age == 31, and the query's object too (the same one).
        let again = a.get::<User>(1).unwrap().unwrap();
        assert!(again.ptr_eq(&alice));
        assert_eq!(again.borrow().age, Some(31));
        assert!(!alice.is_expired());

        b.get::<User>(1).unwrap().unwrap().borrow_mut().age = Some(32);
        b.commit().unwrap();
        a.commit().unwrap();
        let queried = a.query::<User>().filter(User::id.eq(1)).one().unwrap();
        assert!(queried.ptr_eq(&alice));
        assert_eq!(alice.borrow().age, Some(32));
    });
}

#[test]
fn without_expire_on_commit_the_identity_map_keeps_its_values() {
    each_engine(|engine| {
        let engine = with_users(engine, &[30]);
        let a = Session::new(&engine).expire_on_commit(false);
        let alice = a.get::<User>(1).unwrap().unwrap();
        a.commit().unwrap();
        assert!(!alice.is_expired());
        let b = Session::new(&engine);
        b.get::<User>(1).unwrap().unwrap().borrow_mut().age = Some(31);
        b.commit().unwrap();
        // SQLAlchemy with expire_on_commit=False: get() answers from the identity map, 30.
        assert_eq!(a.get::<User>(1).unwrap().unwrap().borrow().age, Some(30));
        // refresh() reads the row: 31.
        a.refresh(&alice).unwrap();
        assert_eq!(alice.borrow().age, Some(31));
    });
}

#[test]
fn expire_and_expire_all_reload_at_the_next_load() {
    each_engine(|engine| {
        let engine = with_users(engine, &[30, 40]);
        let a = Session::new(&engine).expire_on_commit(false);
        let first = a.get::<User>(1).unwrap().unwrap();
        let second = a.get::<User>(2).unwrap().unwrap();
        // An unflushed change is given up by expire (SQLAlchemy: the attribute reloads, 30).
        first.borrow_mut().age = Some(99);
        a.expire(&first);
        assert!(first.is_expired());
        assert_eq!(a.get::<User>(1).unwrap().unwrap().borrow().age, Some(30));
        assert!(!a.is_dirty());

        let b = Session::new(&engine);
        b.get::<User>(2).unwrap().unwrap().borrow_mut().age = Some(41);
        b.commit().unwrap();
        a.expire_all();
        assert!(second.is_expired());
        let all = a.query::<User>().order_by(User::id.asc()).all().unwrap();
        assert_eq!(all[1].borrow().age, Some(41));
        assert!(all[1].ptr_eq(&second));
    });
}

#[test]
fn refresh_reads_the_row_and_refuses_a_gone_one() {
    each_engine(|engine| {
        let engine = with_users(engine, &[30]);
        let a = Session::new(&engine);
        let alice = a.get::<User>(1).unwrap().unwrap();
        alice.borrow_mut().age = Some(50);
        a.refresh(&alice).unwrap();
        assert_eq!(alice.borrow().age, Some(30));
        assert!(!a.is_dirty());

        let b = Session::new(&engine);
        b.execute(orm::core::text("DELETE FROM users")).unwrap();
        b.commit().unwrap();
        let err = a.refresh(&alice).unwrap_err();
        assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
        let transient = Obj::new(User::default());
        assert!(matches!(
            a.refresh(&transient).unwrap_err(),
            Error::InvalidRequest(_)
        ));
    });
}

#[test]
fn rollback_after_autoflush_shows_the_database_values_again() {
    each_engine(|engine| {
        let engine = with_users(engine, &[30, 40]);
        let session = Session::new(&engine);
        let alice = session.get::<User>(1).unwrap().unwrap();
        let bob = session.get::<User>(2).unwrap().unwrap();
        alice.borrow_mut().age = Some(31);
        // The query autoflushes the change: the database holds 31 in the open transaction.
        let over_30 = session.query::<User>().filter(User::age.eq(31)).count();
        assert_eq!(over_30.unwrap(), 1);
        session.delete(&bob).unwrap();
        session.flush().unwrap();
        let carol = session.add(User {
            name: "carol".into(),
            age: Some(20),
            ..Default::default()
        });
        session.flush().unwrap();
        let dave = session.add(User {
            name: "dave".into(),
            ..Default::default()
        });
        session.rollback().unwrap();

        // SQLAlchemy: alice.age == 30; bob is persistent again; carol and dave are transient.
        assert_eq!(alice.borrow().age, Some(30));
        assert_eq!(alice.state(), ObjectState::Persistent);
        assert!(alice.is_expired());
        assert_eq!(bob.state(), ObjectState::Persistent);
        assert!(session.get::<User>(2).unwrap().unwrap().ptr_eq(&bob));
        assert_eq!(carol.state(), ObjectState::Transient);
        assert_eq!(dave.state(), ObjectState::Transient);
        assert_eq!(session.query::<User>().count().unwrap(), 2);
        assert_eq!(age_in_database(&engine, 1), Some(30));
        session.close();
    });
}

#[test]
fn update_of_a_row_deleted_elsewhere_is_stale_data() {
    each_engine(|engine| {
        let engine = with_users(engine, &[30]);
        let a = Session::new(&engine);
        let alice = a.get::<User>(1).unwrap().unwrap();
        a.commit().unwrap();
        let b = Session::new(&engine);
        let gone = b.get::<User>(1).unwrap().unwrap();
        b.delete(&gone).unwrap();
        b.commit().unwrap();

        alice.borrow_mut().age = Some(31);
        let err = a.commit().unwrap_err();
        // SQLAlchemy: StaleDataError("UPDATE statement on table 'users' expected to update
        // 1 row(s); 0 were matched.")
        assert!(
            matches!(
                &err,
                Error::StaleData {
                    statement: "UPDATE",
                    table,
                    expected: 1,
                    matched: 0
                } if table == "users"
            ),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "UPDATE statement on table 'users' expected to update 1 row(s); 0 were matched."
        );
    });
}

#[test]
fn delete_of_a_row_deleted_elsewhere_is_stale_data() {
    each_engine(|engine| {
        let engine = with_users(engine, &[30]);
        let a = Session::new(&engine);
        let alice = a.get::<User>(1).unwrap().unwrap();
        let b = Session::new(&engine);
        b.execute(orm::core::text("DELETE FROM users")).unwrap();
        b.commit().unwrap();
        a.delete(&alice).unwrap();
        let err = a.commit().unwrap_err();
        assert!(
            matches!(
                err,
                Error::StaleData {
                    statement: "DELETE",
                    matched: 0,
                    ..
                }
            ),
            "{err:?}"
        );
    });
}

#[test]
fn session_execute_runs_inside_the_sessions_transaction() {
    each_engine(|engine| {
        let engine = with_users(engine, &[30]);
        let session = Session::new(&engine);
        session
            .execute(orm::core::text("UPDATE users SET age = 35"))
            .unwrap();
        session.rollback().unwrap();
        assert_eq!(age_in_database(&engine, 1), Some(30));
        session
            .execute(orm::core::text("UPDATE users SET age = 36"))
            .unwrap();
        session.commit().unwrap();
        assert_eq!(age_in_database(&engine, 1), Some(36));
    });
}

#[test]
fn in_memory_database_refuses_a_commit_inside_another_sessions_transaction() {
    let engine = with_users(create_engine("sqlite:///:memory:").unwrap(), &[]);
    let outer = Session::new(&engine);
    outer.add(User {
        name: "Draft".into(),
        ..Default::default()
    });
    outer.flush().unwrap();
    let inner = Session::scoped(&engine, |session| {
        session.add(User {
            name: "Saved".into(),
            ..Default::default()
        });
        Ok(())
    });
    // SQLAlchemy's StaticPool would let the inner commit end the outer transaction; here the
    // inner session is told, rather than told `Ok` for work the outer rollback then undoes.
    let err = inner.unwrap_err();
    assert!(matches!(err, Error::TransactionConflict { .. }), "{err:?}");
    assert!(err.to_string().contains("sqlite:///:memory:"), "{err}");
    // The engine refuses to write into the open transaction too; reading is fine.
    assert!(matches!(
        engine.execute(orm::core::text("DELETE FROM users")),
        Err(Error::TransactionConflict { .. })
    ));
    let seen = engine.execute(orm::core::text("SELECT count(*) FROM users"));
    assert_eq!(
        seen.unwrap().rows[0][0],
        Value::Integer(1),
        "the open transaction's row"
    );
    let reader = Session::new(&engine);
    let read = reader.execute(orm::core::text("SELECT count(*) FROM users"));
    assert_eq!(read.unwrap().rows[0][0], Value::Integer(1));
    assert!(matches!(
        reader.execute(orm::core::text("DELETE FROM users")),
        Err(Error::TransactionConflict { .. })
    ));
    outer.rollback().unwrap();
    let check = Session::new(&engine);
    assert_eq!(check.query::<User>().count().unwrap(), 0);
    // With the outer transaction over, the same inner work commits.
    Session::scoped(&engine, |session| {
        session.add(User {
            name: "Saved".into(),
            ..Default::default()
        });
        Ok(())
    })
    .unwrap();
    assert_eq!(check.query::<User>().count().unwrap(), 1);
}

fn file_engine(dir: &tempfile::TempDir) -> Engine {
    let url = format!("sqlite:///{}", dir.path().join("app.db").display());
    create_engine(&url).unwrap()
}

#[test]
fn file_database_sessions_have_transactions_of_their_own() {
    let dir = tempfile::tempdir().unwrap();
    let engine = with_users(file_engine(&dir), &[30]);
    let a = Session::new(&engine);
    let b = Session::new(&engine);
    a.get::<User>(1).unwrap().unwrap().borrow_mut().age = Some(31);
    a.flush().unwrap();
    // B reads the committed row: A's change is not committed yet.
    assert_eq!(b.get::<User>(1).unwrap().unwrap().borrow().age, Some(30));
    a.commit().unwrap();
    b.commit().unwrap();
    assert_eq!(b.get::<User>(1).unwrap().unwrap().borrow().age, Some(31));
}

#[test]
fn file_database_writer_waits_then_reports_locked() {
    let dir = tempfile::tempdir().unwrap();
    let engine = with_users(file_engine(&dir), &[30]);
    let a = Session::new(&engine);
    a.add(User {
        name: "a".into(),
        ..Default::default()
    });
    a.flush().unwrap();
    let b = Session::new(&engine);
    b.add(User {
        name: "b".into(),
        ..Default::default()
    });
    let started = std::time::Instant::now();
    let err = b.commit().unwrap_err();
    assert!(matches!(err, Error::DatabaseLocked { .. }), "{err:?}");
    assert!(started.elapsed() >= orm::SQLITE_BUSY_TIMEOUT / 2);
    a.commit().unwrap();
    assert_eq!(Session::new(&engine).query::<User>().count().unwrap(), 2);
}

#[test]
fn engine_is_shared_between_threads() {
    fn shareable<T: Send + Sync>(_: &T) {}
    let engine = create_engine("sqlite:///:memory:").unwrap();
    shareable(&engine);
}

/// 8 threads × 500 commits, a session of its own in each: every row arrives.
fn threads_commit(engine: &Engine) {
    const THREADS: i64 = 8;
    const COMMITS: i64 = 500;
    MetaData::new().add::<User>().create_all(engine).unwrap();
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let engine = engine.clone();
            scope.spawn(move || {
                for i in 0..COMMITS {
                    let session = Session::new(&engine);
                    session.add(User {
                        name: format!("t{t}-{i}"),
                        age: Some(t),
                        ..Default::default()
                    });
                    session.commit().unwrap();
                }
            });
        }
    });
    let session = Session::new(engine);
    assert_eq!(session.query::<User>().count().unwrap(), THREADS * COMMITS);
    for t in 0..THREADS {
        let count = session.query::<User>().filter(User::age.eq(t)).count();
        assert_eq!(count.unwrap(), COMMITS);
    }
}

#[test]
fn threads_with_their_own_sessions_commit_every_row_on_a_file() {
    let dir = tempfile::tempdir().unwrap();
    threads_commit(&file_engine(&dir));
}

#[test]
fn threads_with_their_own_sessions_commit_every_row_on_postgres() {
    if let Some(db) = TestDatabase::create() {
        threads_commit(&db.engine());
    }
}

#[test]
fn error_messages_cut_long_statements() {
    each_engine(|engine| {
        let engine = with_users(engine, &[]);
        let long = format!(
            "SELECT id FROM users WHERE id IN ({}) NONSENSE",
            vec!["1"; 50_000].join(", ")
        );
        let err = engine.execute(orm::core::text(long)).unwrap_err();
        assert!(matches!(err, Error::Database { .. }), "{err:?}");
        let shown = err.to_string();
        assert!(shown.len() < 2_000, "{} characters", shown.len());
        assert!(shown.contains("more characters)"), "{shown}");
    });
}

/// Every notebook cell links its own copy of the driver, whose statement names (`s0`, `s1`, …)
/// come from a global counter: a name left on the connection by one cell's copy is drawn again
/// by the next one's ("prepared statement \"s0\" already exists"). No named statement may stay.
#[test]
fn postgres_leaves_no_named_prepared_statement_on_a_connection() {
    let Some(db) = TestDatabase::create() else {
        return;
    };
    let engine = with_users(db.engine(), &[30, 40]);
    let session = Session::new(&engine);
    assert_eq!(
        session.get::<User>(1).unwrap().unwrap().borrow().age,
        Some(30)
    );
    let older = session
        .query::<User>()
        .filter(User::age.gt(35))
        .all()
        .unwrap();
    assert_eq!(older.len(), 1);
    older[0].borrow_mut().age = Some(41);
    session.add(User {
        name: "carol".into(),
        ..Default::default()
    });
    session.flush().unwrap();
    let left = session
        .execute(orm::core::text(
            "SELECT count(*) FROM pg_prepared_statements",
        ))
        .unwrap();
    assert_eq!(left.rows[0][0], Value::Integer(0));
    session.commit().unwrap();
    // The same statements again, on the connection the pool hands out next: still none left.
    let again = Session::new(&engine);
    again.get::<User>(2).unwrap().unwrap();
    let left = again
        .execute(orm::core::text(
            "SELECT count(*) FROM pg_prepared_statements",
        ))
        .unwrap();
    assert_eq!(left.rows[0][0], Value::Integer(0));
}

/// A schema change on one pooled connection reaches the shapes another one learnt: a
/// `SELECT *` run on both sides of an `ALTER TABLE` shows the new column.
#[test]
fn postgres_connections_relearn_statements_after_a_schema_change_elsewhere() {
    let Some(db) = TestDatabase::create() else {
        return;
    };
    let engine = db.engine();
    engine
        .execute(orm::core::text("CREATE TABLE notes (body TEXT)"))
        .unwrap();
    let everything = || orm::core::text("SELECT * FROM notes");
    let first = Session::new(&engine);
    assert_eq!(first.execute(everything()).unwrap().columns, ["body"]);
    first.commit().unwrap();
    // This session keeps that connection while the engine alters the table on another one.
    let holder = Session::new(&engine);
    holder.execute(orm::core::text("SELECT 1")).unwrap();
    engine
        .execute(orm::core::text("ALTER TABLE notes ADD COLUMN extra TEXT"))
        .unwrap();
    holder.commit().unwrap();
    let after = Session::new(&engine);
    assert_eq!(
        after.execute(everything()).unwrap().columns,
        ["body", "extra"]
    );
}

#[test]
fn rollback_restores_the_values_from_before_the_transaction_and_keeps_committed_inserts() {
    each_engine(|engine| {
        let engine = with_users(engine, &[30]);
        let session = Session::new(&engine);
        let committed = session.add(User {
            name: "committed".into(),
            age: Some(50),
            ..Default::default()
        });
        session.commit().unwrap();
        let alice = session.get::<User>(1).unwrap().unwrap();
        alice.borrow_mut().age = Some(31);
        session.flush().unwrap();
        alice.borrow_mut().age = Some(32);
        session.flush().unwrap();
        alice.borrow_mut().age = Some(33);
        session.rollback().unwrap();
        // SQLAlchemy: 30 (the database's value), and the row committed earlier stays persistent.
        assert_eq!(alice.borrow().age, Some(30));
        assert_eq!(committed.state(), ObjectState::Persistent);
        assert_eq!(session.identity_count(), 2);
        assert_eq!(session.query::<User>().count().unwrap(), 2);
        assert_eq!(age_in_database(&engine, 1), Some(30));
    });
}
