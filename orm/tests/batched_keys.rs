//! Batched writes for the models that were written one row a statement (issue 19): a composite
//! primary key and a version counter (`version_id_col`). New rows go out in pages of multi-row
//! `INSERT`s, updates in pages of `UPDATE … FROM (VALUES …)` on PostgreSQL (joined on every key
//! column and the version loaded), deletes in pages matched by a list of row values (every key
//! column, and the version), on SQLite and PostgreSQL from one body; a page that matches fewer
//! rows than it names is `StaleData` and the flush writes nothing.

mod support;

use orm::prelude::*;
use orm::Value;
use support::models::keys::Enrollment;
use support::models::versions::Account;
use support::{each_engine, rows};

fn with_tables(engine: Engine) -> Engine {
    MetaData::new()
        .add::<Enrollment>()
        .add::<Account>()
        .create_all(&engine)
        .unwrap();
    engine
}

fn enrollment(i: i64) -> Enrollment {
    Enrollment {
        student_id: i / 3,
        course_code: format!("c{}", i % 3),
        grade: Some(format!("g{i}")),
    }
}

fn account(i: i64) -> Account {
    Account {
        owner: format!("owner {i}"),
        balance: i * 10,
        ..Default::default()
    }
}

fn count(engine: &Engine, table: &str) -> i64 {
    match rows(engine, &format!("SELECT count(*) FROM {table}"))[0][0] {
        Value::Integer(n) => n,
        ref other => panic!("a count, not {other:?}"),
    }
}

/// `(statement, table, expected, matched)` of the `StaleData` a commit must fail with.
fn stale(result: orm::Result<()>) -> (&'static str, String, usize, usize) {
    match result {
        Err(Error::StaleData {
            statement,
            table,
            expected,
            matched,
        }) => (statement, table, expected, matched),
        other => panic!("expected StaleData, got {other:?}"),
    }
}

#[test]
fn composite_key_rows_are_inserted_and_deleted_a_page_at_a_time() {
    each_engine(|engine| {
        let engine = with_tables(engine);
        let dialect = engine.dialect();
        let session = Session::new(&engine);
        session.add_all((0..1500).map(enrollment));
        engine.reset_statement_count();
        session.commit().unwrap();
        // Pages of 1,000 rows: 1,000 then 500.
        assert_eq!(engine.statement_count(), 2, "{dialect}: inserts");
        assert_eq!(count(&engine, "enrollments"), 1500);
        assert_eq!(
            rows(
                &engine,
                "SELECT grade FROM enrollments WHERE student_id = 400 AND course_code = 'c2'"
            ),
            [[Value::Text("g1202".into())]]
        );
        // Every enrollment of students 0 to 399 (1,200 rows) goes, by its pair.
        let gone = session
            .query::<Enrollment>()
            .filter(Enrollment::student_id.lt(400))
            .all()
            .unwrap();
        assert_eq!(gone.len(), 1200);
        for e in &gone {
            session.delete(e).unwrap();
        }
        engine.reset_statement_count();
        session.commit().unwrap();
        assert_eq!(engine.statement_count(), 2, "{dialect}: deletes");
        // Only the pairs of students 400 and up are left: no other row matched a pair.
        assert_eq!(
            rows(
                &engine,
                "SELECT count(*), min(student_id), max(student_id) FROM enrollments"
            ),
            [[
                Value::Integer(300),
                Value::Integer(400),
                Value::Integer(499)
            ]]
        );
    });
}

#[test]
fn a_composite_key_delete_page_that_misses_a_row_is_stale_data_and_deletes_nothing() {
    each_engine(|engine| {
        let engine = with_tables(engine);
        let session = Session::new(&engine);
        session.add_all((0..30).map(enrollment));
        session.commit().unwrap();
        for e in session.query::<Enrollment>().all().unwrap() {
            session.delete(&e).unwrap();
        }
        // Another connection deletes one pair behind the session's back.
        rows(
            &engine,
            "DELETE FROM enrollments WHERE student_id = 4 AND course_code = 'c1'",
        );
        assert_eq!(
            stale(session.commit()),
            ("DELETE", "enrollments".into(), 30, 29)
        );
        assert_eq!(count(&engine, "enrollments"), 29, "rolled back");
    });
}

#[test]
fn versioned_rows_are_inserted_at_version_1_and_deleted_by_key_and_version_in_pages() {
    each_engine(|engine| {
        let engine = with_tables(engine);
        let dialect = engine.dialect();
        let session = Session::new(&engine).expire_on_commit(false);
        let accounts = session.add_all((0..1200).map(account));
        engine.reset_statement_count();
        session.commit().unwrap();
        assert_eq!(engine.statement_count(), 2, "{dialect}: inserts");
        assert!(accounts.iter().all(|a| a.borrow().version == 1));
        assert_eq!(
            rows(
                &engine,
                "SELECT count(*), min(version), max(version) FROM accounts"
            ),
            [[Value::Integer(1200), Value::Integer(1), Value::Integer(1)]]
        );
        // The keys are each object's own row.
        let key = accounts[777].borrow().id;
        assert_eq!(
            rows(
                &engine,
                &format!("SELECT owner FROM accounts WHERE id = {key}")
            ),
            [[Value::Text("owner 777".into())]]
        );
        for a in &accounts[..1100] {
            session.delete(a).unwrap();
        }
        engine.reset_statement_count();
        session.commit().unwrap();
        assert_eq!(engine.statement_count(), 2, "{dialect}: deletes");
        assert_eq!(count(&engine, "accounts"), 100);
    });
}

#[test]
fn a_delete_page_with_a_row_at_another_version_is_stale_data_and_deletes_nothing() {
    each_engine(|engine| {
        let engine = with_tables(engine);
        let session = Session::new(&engine).expire_on_commit(false);
        let accounts = session.add_all((0..20).map(account));
        session.commit().unwrap();
        for a in &accounts {
            session.delete(a).unwrap();
        }
        // Another session updated one account: its version is 2 now, the session holds 1.
        let key = accounts[5].borrow().id;
        rows(
            &engine,
            &format!("UPDATE accounts SET balance = 0, version = 2 WHERE id = {key}"),
        );
        assert_eq!(
            stale(session.commit()),
            ("DELETE", "accounts".into(), 20, 19)
        );
        assert_eq!(count(&engine, "accounts"), 20, "rolled back");
        assert_eq!(
            rows(
                &engine,
                &format!("SELECT version FROM accounts WHERE id = {key}")
            ),
            [[Value::Integer(2)]]
        );
    });
}

#[test]
fn versioned_updates_go_a_page_at_a_time_on_postgresql_and_each_row_moves_one_version() {
    each_engine(|engine| {
        let engine = with_tables(engine);
        let dialect = engine.dialect();
        let session = Session::new(&engine).expire_on_commit(false);
        let accounts = session.add_all((0..1200).map(account));
        session.commit().unwrap();
        for a in &accounts {
            a.borrow_mut().balance += 1;
        }
        engine.reset_statement_count();
        session.commit().unwrap();
        // PostgreSQL: pages of 1,000 rows; SQLite: one prepared UPDATE a row.
        let want = if dialect == "postgresql" { 2 } else { 1200 };
        assert_eq!(engine.statement_count(), want, "{dialect}");
        assert!(accounts.iter().all(|a| a.borrow().version == 2));
        assert_eq!(
            rows(
                &engine,
                "SELECT count(*) FROM accounts WHERE version = 2 AND balance = \
                 CAST(substr(owner, 7) AS INTEGER) * 10 + 1"
            ),
            [[Value::Integer(1200)]]
        );
    });
}

#[test]
fn a_versioned_update_page_with_a_row_moved_on_is_stale_data_and_writes_nothing() {
    each_engine(|engine| {
        let engine = with_tables(engine);
        let dialect = engine.dialect();
        let session = Session::new(&engine).expire_on_commit(false);
        let accounts = session.add_all((0..20).map(account));
        session.commit().unwrap();
        for a in &accounts {
            a.borrow_mut().balance = 777;
        }
        let key = accounts[5].borrow().id;
        rows(
            &engine,
            &format!("UPDATE accounts SET version = 2 WHERE id = {key}"),
        );
        // PostgreSQL: one UPDATE of the 20 rows, 19 matched; SQLite: one a row, the sixth
        // matched none.
        let want = if dialect == "postgresql" {
            (20, 19)
        } else {
            (1, 0)
        };
        assert_eq!(
            stale(session.commit()),
            ("UPDATE", "accounts".into(), want.0, want.1),
            "{dialect}"
        );
        assert_eq!(
            rows(&engine, "SELECT count(*) FROM accounts WHERE balance = 777"),
            [[Value::Integer(0)]],
            "{dialect}: rolled back"
        );
    });
}

#[test]
fn composite_key_updates_match_every_key_column() {
    each_engine(|engine| {
        let engine = with_tables(engine);
        let dialect = engine.dialect();
        let session = Session::new(&engine);
        session.add_all((0..1500).map(enrollment));
        session.commit().unwrap();
        // Course c1 of every student: 500 rows, each sharing its student_id with two others.
        for e in session
            .query::<Enrollment>()
            .filter(Enrollment::course_code.eq("c1"))
            .all()
            .unwrap()
        {
            e.borrow_mut().grade = Some("updated".into());
        }
        engine.reset_statement_count();
        session.commit().unwrap();
        let want = if dialect == "postgresql" { 1 } else { 500 };
        assert_eq!(engine.statement_count(), want, "{dialect}");
        assert_eq!(
            rows(
                &engine,
                "SELECT course_code, count(*) FROM enrollments WHERE grade = 'updated' \
                 GROUP BY course_code"
            ),
            [[Value::Text("c1".into()), Value::Integer(500)]]
        );
    });
}
