//! Batched writes of models with columns the database computes (issue 19), on SQLite and
//! PostgreSQL from one body: `server_default` columns left unset and `onupdate` columns come
//! back in the `RETURNING` of the paged INSERT and UPDATE statements (SQLAlchemy's
//! `eager_defaults`, without a `SELECT` per row), each returned row paired with its own object
//! by key, and the statement counts show pages, not one statement (or two) a row.

mod support;

use orm::prelude::*;
use orm::{Error, Value};
use std::collections::HashMap;
use support::each_engine;

/// Rows a statement of the unit of work: SQLAlchemy's `insertmanyvalues_page_size`, which
/// `orm` follows (`session/persistence.rs`).
const PAGE_ROWS: usize = 1000;

/// An event: the database fills in `created_at`, `status` and `revision` at INSERT when they
/// are left unset, and recomputes `revision` and `updated_at` at every UPDATE.
#[derive(Model, Debug, Clone, Default)]
#[orm(table = "events")]
pub struct Event {
    #[orm(primary_key)]
    pub id: i64,
    pub name: String,
    #[orm(server_default = "CURRENT_TIMESTAMP")]
    pub created_at: Option<NaiveDateTime>,
    #[orm(length = 20, server_default = "'draft'")]
    pub status: Option<String>,
    #[orm(server_default = "0", onupdate = "revision + 1")]
    pub revision: Option<i64>,
    #[orm(onupdate = "CURRENT_TIMESTAMP")]
    pub updated_at: Option<NaiveDateTime>,
}

/// A raffle entry whose ticket the database draws at random for each row: the model only says
/// that the column has a server default; [`with_raffle`] gives the table its random one, so a
/// ticket paired with the wrong object shows at once.
#[derive(Model, Debug, Clone, Default)]
#[orm(table = "raffle")]
pub struct Entry {
    #[orm(primary_key)]
    pub id: i64,
    pub name: String,
    #[orm(server_default = "0")]
    pub ticket: Option<i64>,
}

/// A reading keyed by station and number (a composite key the caller gives), with a ticket
/// drawn at random by the database as [`Entry`]'s.
#[derive(Model, Debug, Clone, Default)]
#[orm(table = "readings")]
pub struct Reading {
    #[orm(primary_key, length = 20)]
    pub station: String,
    #[orm(primary_key)]
    pub n: i64,
    pub celsius: f64,
    #[orm(server_default = "0")]
    pub ticket: Option<i64>,
}

/// A ledger whose updates are checked against the version loaded (SQLAlchemy's
/// `version_id_col`), with `onupdate` columns beside the version counter.
#[derive(Model, Debug, Clone, Default)]
#[orm(table = "ledgers", version_id_col = "version")]
pub struct Ledger {
    #[orm(primary_key)]
    pub id: i64,
    pub owner: String,
    pub balance: i64,
    pub version: i64,
    #[orm(server_default = "0", onupdate = "changes + 1")]
    pub changes: Option<i64>,
    #[orm(onupdate = "CURRENT_TIMESTAMP")]
    pub updated_at: Option<NaiveDateTime>,
}

/// Flushes `session` and returns the number of statements the flush ran.
fn flushed(engine: &Engine, session: &Session) -> u64 {
    engine.reset_statement_count();
    session.flush().unwrap();
    engine.statement_count()
}

fn is_postgres(engine: &Engine) -> bool {
    engine.dialect() == "postgresql"
}

fn run(engine: &Engine, sql: &str) -> Vec<Vec<Value>> {
    engine
        .execute(orm::core::text(sql))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .rows
}

/// The rows of `sql`, whose first column is an integer key, by that key.
fn by_key(engine: &Engine, sql: &str) -> HashMap<i64, Vec<Value>> {
    run(engine, sql)
        .into_iter()
        .map(|row| match row[0] {
            Value::Integer(key) => (key, row[1..].to_vec()),
            ref other => panic!("key {other:?} in {sql}"),
        })
        .collect()
}

/// A timestamp as the database holds it: PostgreSQL's `timestamp`, SQLite's text.
fn timestamp(value: &Value) -> Option<NaiveDateTime> {
    match value {
        Value::Null => None,
        Value::DateTime(d) => Some(*d),
        Value::Text(t) => Some(
            NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S%.f")
                .unwrap_or_else(|e| panic!("{t:?} is not a timestamp: {e}")),
        ),
        other => panic!("{other:?} is not a timestamp"),
    }
}

fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Null => None,
        Value::Integer(i) => Some(*i),
        other => panic!("{other:?} is not an integer"),
    }
}

fn event(i: usize) -> Event {
    Event {
        name: format!("event {i}"),
        ..Default::default()
    }
}

fn with_events(engine: &Engine) {
    MetaData::new().add::<Event>().create_all(engine).unwrap();
}

/// Asserts that each event holds what the database holds in its row (read with Core, by key):
/// the values the database computed, exactly.
fn assert_events_match_rows(engine: &Engine, events: &[Obj<Event>]) {
    let rows = by_key(
        engine,
        "SELECT id, name, created_at, status, revision, updated_at FROM events",
    );
    assert_eq!(rows.len(), events.len(), "{}", engine.dialect());
    for e in events {
        let e = e.borrow();
        let row = rows
            .get(&e.id)
            .unwrap_or_else(|| panic!("no row with the key {} of {}", e.id, e.name));
        assert_eq!(row[0], Value::Text(e.name.clone()), "key {}", e.id);
        assert_eq!(e.created_at, timestamp(&row[1]), "created_at of {}", e.name);
        assert_eq!(e.status.clone().map(Value::Text), Some(row[2].clone()));
        assert_eq!(e.revision, integer(&row[3]), "revision of {}", e.name);
        assert_eq!(e.updated_at, timestamp(&row[4]), "updated_at of {}", e.name);
    }
}

#[test]
fn an_insert_of_a_page_and_one_events_is_two_statements_that_return_what_the_database_computed() {
    each_engine(|engine| {
        with_events(&engine);
        let session = Session::new(&engine).expire_on_commit(false);
        let events = session.add_all((0..=PAGE_ROWS).map(event));
        // A page of 1,000 rows, then one of 1: no SELECT after any row.
        assert_eq!(flushed(&engine, &session), 2, "{}", engine.dialect());
        session.commit().unwrap();
        let keys: Vec<i64> = events.iter().map(|e| e.borrow().id).collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "{keys:?}");
        for e in &events {
            let e = e.borrow();
            assert!(e.created_at.is_some(), "created_at of {} not set", e.name);
            assert_eq!(e.status.as_deref(), Some("draft"));
            assert_eq!(e.revision, Some(0));
            assert_eq!(e.updated_at, None, "no UPDATE yet");
        }
        assert_events_match_rows(&engine, &events);
    });
}

#[test]
fn one_event_is_one_statement_and_rows_leaving_other_columns_to_the_database_go_apart() {
    each_engine(|engine| {
        with_events(&engine);
        let session = Session::new(&engine).expire_on_commit(false);
        let first = session.add(event(1));
        assert_eq!(flushed(&engine, &session), 1, "{}", engine.dialect());
        // Given values are written as given: only the columns left unset come back.
        let given = NaiveDate::from_ymd_opt(2001, 2, 3)
            .unwrap()
            .and_hms_opt(4, 5, 6)
            .unwrap();
        let events = session.add_all([
            event(2),
            Event {
                created_at: Some(given),
                status: Some("final".into()),
                ..event(3)
            },
            event(4),
            event(5),
        ]);
        // Three shapes in the objects' order: [2], [3], [4, 5].
        assert_eq!(flushed(&engine, &session), 3, "{}", engine.dialect());
        session.commit().unwrap();
        assert_eq!(events[1].borrow().created_at, Some(given));
        assert_eq!(events[1].borrow().status.as_deref(), Some("final"));
        assert_eq!(events[1].borrow().revision, Some(0));
        let mut all = vec![first];
        all.extend(events);
        assert_events_match_rows(&engine, &all);
    });
}

#[test]
fn events_with_keys_given_get_what_the_database_computed_in_pages() {
    each_engine(|engine| {
        with_events(&engine);
        let session = Session::new(&engine).expire_on_commit(false);
        // Keys given in decreasing order: a pairing by the rows' order would show.
        let events = session.add_all((0..=PAGE_ROWS).map(|i| Event {
            id: 50_000 - i as i64,
            ..event(i)
        }));
        assert_eq!(flushed(&engine, &session), 2, "{}", engine.dialect());
        session.commit().unwrap();
        assert_eq!(events[0].borrow().id, 50_000);
        assert_eq!(events[PAGE_ROWS].borrow().id, 50_000 - PAGE_ROWS as i64);
        assert_events_match_rows(&engine, &events);
    });
}

/// The `raffle` and `readings` tables, each ticket drawn at random by the database for its row.
fn with_raffle(engine: &Engine) {
    if is_postgres(engine) {
        MetaData::new()
            .add::<Entry>()
            .add::<Reading>()
            .create_all(engine)
            .unwrap();
        for table in ["raffle", "readings"] {
            run(
                engine,
                &format!(
                    "ALTER TABLE {table} ALTER COLUMN ticket \
                     SET DEFAULT floor(random() * 1000000000000)::bigint"
                ),
            );
        }
    } else {
        // SQLite cannot change a column's default: the tables are written by hand.
        run(
            engine,
            "CREATE TABLE raffle (id INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, \
             ticket BIGINT DEFAULT (abs(random()) % 1000000000000))",
        );
        run(
            engine,
            "CREATE TABLE readings (station VARCHAR(20) NOT NULL, n BIGINT NOT NULL, \
             celsius REAL NOT NULL, ticket BIGINT DEFAULT (abs(random()) % 1000000000000), \
             PRIMARY KEY (station, n))",
        );
    }
}

/// Asserts that each entry's ticket is the one in its own row, and that the tickets differ
/// (else a wrong pairing would not show).
fn assert_tickets_match_rows(engine: &Engine, entries: &[Obj<Entry>]) {
    let rows = by_key(engine, "SELECT id, name, ticket FROM raffle");
    assert_eq!(rows.len(), entries.len());
    let mut tickets = std::collections::HashSet::new();
    for e in entries {
        let e = e.borrow();
        let row = &rows[&e.id];
        assert_eq!(row[0], Value::Text(e.name.clone()));
        assert_eq!(e.ticket, integer(&row[1]), "ticket of {}", e.name);
        tickets.insert(e.ticket);
    }
    assert!(
        tickets.len() > entries.len() - 3,
        "{} tickets",
        tickets.len()
    );
}

#[test]
fn each_row_s_random_server_default_lands_on_its_own_object_with_keys_generated_or_given() {
    each_engine(|engine| {
        with_raffle(&engine);
        let session = Session::new(&engine).expire_on_commit(false);
        let entry = |i: usize, id: i64| Entry {
            id,
            name: format!("entry {i}"),
            ticket: None,
        };
        let generated = session.add_all((0..=PAGE_ROWS).map(|i| entry(i, 0)));
        assert_eq!(flushed(&engine, &session), 2, "{}", engine.dialect());
        let given =
            session.add_all((0..=PAGE_ROWS).map(|i| entry(PAGE_ROWS + 1 + i, 90_000 - i as i64)));
        assert_eq!(flushed(&engine, &session), 2, "{}", engine.dialect());
        session.commit().unwrap();
        let mut all = generated;
        all.extend(given);
        assert_tickets_match_rows(&engine, &all);

        // A composite key the caller gives: station and number.
        let readings = session.add_all((0..=PAGE_ROWS).map(|i| Reading {
            station: ["north", "south", "east"][i % 3].into(),
            n: (PAGE_ROWS - i) as i64,
            celsius: i as f64 / 10.0,
            ticket: None,
        }));
        assert_eq!(flushed(&engine, &session), 2, "{}", engine.dialect());
        session.commit().unwrap();
        let rows: HashMap<(String, i64), Option<i64>> =
            run(&engine, "SELECT station, n, ticket FROM readings")
                .into_iter()
                .map(|row| match (&row[0], &row[1]) {
                    (Value::Text(s), Value::Integer(n)) => ((s.clone(), *n), integer(&row[2])),
                    other => panic!("{other:?}"),
                })
                .collect();
        assert_eq!(rows.len(), readings.len());
        for r in &readings {
            let r = r.borrow();
            assert!(r.ticket.is_some());
            assert_eq!(
                r.ticket,
                rows[&(r.station.clone(), r.n)],
                "{} {}",
                r.station,
                r.n
            );
        }
    });
}

#[test]
fn an_update_of_a_page_and_one_events_returns_each_row_s_onupdate_values() {
    each_engine(|engine| {
        with_events(&engine);
        let session = Session::new(&engine).expire_on_commit(false);
        // Each row starts at a revision of its own, so a row paired with the wrong object shows.
        let events = session.add_all((0..=PAGE_ROWS).map(|i| Event {
            revision: Some(3 * i as i64),
            ..event(i)
        }));
        session.commit().unwrap();
        for e in &events {
            e.borrow_mut().name.push_str(" (moved)");
        }
        // PostgreSQL: a page of 1,000 rows and one of 1, each `UPDATE … FROM (VALUES …)
        // RETURNING`. SQLite: one prepared UPDATE a row, then the recomputed columns read a page
        // of 1,000 keys a SELECT (two), not one SELECT a row.
        let expected = if is_postgres(&engine) {
            2
        } else {
            PAGE_ROWS as u64 + 1 + 2
        };
        assert_eq!(flushed(&engine, &session), expected, "{}", engine.dialect());
        session.commit().unwrap();
        for (i, e) in events.iter().enumerate() {
            let e = e.borrow();
            assert_eq!(e.revision, Some(3 * i as i64 + 1), "{}", e.name);
            assert!(e.updated_at.is_some(), "updated_at of {} not set", e.name);
        }
        assert_events_match_rows(&engine, &events);

        // One row: one statement on both engines.
        events[7].borrow_mut().name = "renamed".into();
        engine.reset_statement_count();
        session.commit().unwrap();
        assert_eq!(engine.statement_count(), 1, "{}", engine.dialect());
        assert_eq!(events[7].borrow().revision, Some(3 * 7 + 2));
        // A column with an `onupdate` that the change sets itself is written as given.
        events[8].borrow_mut().revision = Some(-1);
        session.commit().unwrap();
        assert_eq!(events[8].borrow().revision, Some(-1));
        assert_events_match_rows(&engine, &events);
    });
}

#[test]
fn a_changed_key_is_paired_with_its_row_at_its_new_value() {
    each_engine(|engine| {
        with_events(&engine);
        let session = Session::new(&engine).expire_on_commit(false);
        let events = session.add_all((0..5).map(|i| Event {
            id: 100 + i as i64,
            revision: Some(10 * i as i64),
            ..event(i)
        }));
        session.commit().unwrap();
        for e in &events {
            let mut e = e.borrow_mut();
            e.id += 1000;
        }
        session.commit().unwrap();
        for (i, e) in events.iter().enumerate() {
            assert_eq!(e.borrow().id, 1100 + i as i64);
            assert_eq!(e.borrow().revision, Some(10 * i as i64 + 1));
        }
        assert_events_match_rows(&engine, &events);
    });
}

fn with_ledgers(engine: &Engine) -> (Session, Vec<Obj<Ledger>>) {
    MetaData::new().add::<Ledger>().create_all(engine).unwrap();
    let session = Session::new(engine).expire_on_commit(false);
    let ledgers = session.add_all((0..3).map(|i| Ledger {
        owner: format!("owner {i}"),
        balance: 100 * i,
        ..Default::default()
    }));
    engine.reset_statement_count();
    session.commit().unwrap();
    assert_eq!(engine.statement_count(), 1, "{}", engine.dialect());
    (session, ledgers)
}

/// Asserts each ledger holds its row's version, change count and update time.
fn assert_ledgers_match_rows(engine: &Engine, ledgers: &[Obj<Ledger>]) {
    let rows = by_key(
        engine,
        "SELECT id, balance, version, changes, updated_at FROM ledgers",
    );
    for l in ledgers {
        let l = l.borrow();
        let row = &rows[&l.id];
        assert_eq!(integer(&row[0]), Some(l.balance));
        assert_eq!(integer(&row[1]), Some(l.version), "version of {}", l.owner);
        assert_eq!(integer(&row[2]), l.changes, "changes of {}", l.owner);
        assert_eq!(
            timestamp(&row[3]),
            l.updated_at,
            "updated_at of {}",
            l.owner
        );
    }
}

#[test]
fn version_counters_still_count_and_still_refuse_a_stale_row_beside_onupdate_columns() {
    each_engine(|engine| {
        let (session, ledgers) = with_ledgers(&engine);
        for l in &ledgers {
            let l = l.borrow();
            assert_eq!((l.version, l.changes, l.updated_at), (1, Some(0), None));
        }
        assert_ledgers_match_rows(&engine, &ledgers);
        for l in &ledgers {
            l.borrow_mut().balance += 5;
        }
        session.commit().unwrap();
        for l in &ledgers {
            let l = l.borrow();
            assert_eq!((l.version, l.changes), (2, Some(1)), "{}", l.owner);
            assert!(l.updated_at.is_some());
        }
        assert_ledgers_match_rows(&engine, &ledgers);

        // Another session moves the second ledger on to version 3.
        let other = Session::new(&engine);
        let theirs = other
            .get::<Ledger>(ledgers[1].borrow().id)
            .unwrap()
            .unwrap();
        theirs.borrow_mut().balance = 999;
        other.commit().unwrap();
        for l in &ledgers {
            l.borrow_mut().balance += 1;
        }
        let stale = session.commit().unwrap_err();
        // PostgreSQL matches the page of three rows at once; SQLite row by row, the second
        // matching none.
        let (expected, matched) = if is_postgres(&engine) { (3, 2) } else { (1, 0) };
        match stale {
            Error::StaleData {
                statement,
                table,
                expected: e,
                matched: m,
            } => {
                assert_eq!((statement, table.as_str()), ("UPDATE", "ledgers"));
                assert_eq!((e, m), (expected, matched), "{}", engine.dialect());
            }
            other => panic!("expected StaleData, got {other:?}"),
        }
        session.rollback().unwrap();
        // Nothing of the failed flush stays: the rows are as the two commits left them.
        let rows = by_key(&engine, "SELECT id, balance, version, changes FROM ledgers");
        let balances: Vec<(Option<i64>, Option<i64>, Option<i64>)> = ledgers
            .iter()
            .map(|l| {
                let row = &rows[&l.borrow().id];
                (integer(&row[0]), integer(&row[1]), integer(&row[2]))
            })
            .collect();
        assert_eq!(
            balances,
            [
                (Some(5), Some(2), Some(1)),
                (Some(999), Some(3), Some(2)),
                (Some(205), Some(2), Some(1))
            ]
        );
    });
}
