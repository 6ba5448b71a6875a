//! The engines a test body runs on: SQLite in memory always, and PostgreSQL when
//! `ORM_TEST_POSTGRES_URL` names a server (`tests/postgres.sh` starts one). Each run gets an
//! empty database of its own, so tests run in parallel and leave nothing behind.
//!
//! A missing server (or SQLAlchemy reference, for the parity tests) fails the test loudly,
//! saying how to get one; only someone who opts out by name skips it:
//! `ORM_TEST_SKIP_POSTGRES=1` or `ORM_TEST_SKIP_PARITY=1` (then one line on the terminal says
//! what was skipped, and `tests/run.sh` repeats it in its summary).
#![allow(dead_code)]

#[macro_use]
pub mod models;

use orm::prelude::*;
use std::io::Write;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Once;

pub const POSTGRES_URL_VARIABLE: &str = "ORM_TEST_POSTGRES_URL";
/// Set to `1` to skip the PostgreSQL runs when no server is given.
pub const SKIP_POSTGRES_VARIABLE: &str = "ORM_TEST_SKIP_POSTGRES";
/// Set to `1` to skip the comparisons with SQLAlchemy when no reference is installed.
pub const SKIP_PARITY_VARIABLE: &str = "ORM_TEST_SKIP_PARITY";

/// For each of `objects`, the `name` of the parent its `relationship` leads to (loaded lazily
/// unless a query's `options` loaded it); panics when one has no parent.
pub fn parent_names<T: Model, P: Model>(
    objects: &[Obj<T>],
    relationship: orm::BelongsTo<T, P>,
    name: impl Fn(&P) -> String,
) -> Vec<String> {
    objects
        .iter()
        .map(|o| {
            let parent = o.related(relationship).unwrap().expect("a parent");
            let parent = parent.borrow();
            name(&parent)
        })
        .collect()
}

/// Appends `children` to `parent`'s collection `relationship`, in order: the objects, as
/// `append` hands them back (new ones join the parent's session).
pub fn append_all<P: Model, R: orm::Collection<P> + Copy, const N: usize>(
    parent: &Obj<P>,
    relationship: R,
    children: [R::Target; N],
) -> [Obj<R::Target>; N] {
    children.map(|child| parent.append(relationship, child).unwrap())
}

/// The rows `sql` gives on `engine`, each as its values; panics naming the statement on error.
pub fn rows(engine: &Engine, sql: &str) -> Vec<Vec<orm::Value>> {
    engine
        .execute(orm::core::text(sql))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .rows
}

/// Whether the variable `name` is set to `1`.
pub fn opted_out(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| v == "1")
}

/// Runs `body` once per engine, each time on an empty database.
pub fn each_engine(body: impl Fn(Engine)) {
    body(create_engine("sqlite:///:memory:").expect("an in-memory SQLite database"));
    if let Some(db) = TestDatabase::create() {
        body(db.engine());
    }
}

/// The URL of the PostgreSQL server to test against, or `None` (after saying why, once).
pub fn postgres_url() -> Option<String> {
    static SKIP_NOTICE: Once = Once::new();
    let url = std::env::var(POSTGRES_URL_VARIABLE)
        .ok()
        .filter(|u| !u.is_empty());
    let reason = match &url {
        None => format!("{POSTGRES_URL_VARIABLE} is not set"),
        Some(_) if cfg!(not(feature = "postgres")) => {
            "orm was built without the `postgres` feature".to_string()
        }
        Some(_) => return url,
    };
    if !opted_out(SKIP_POSTGRES_VARIABLE) {
        panic!(
            "{reason}: the PostgreSQL runs cannot be done. Start a server with \
             `eval \"$(bash tests/postgres.sh start)\"` and build with --all-features (tests/run.sh \
             does both), or skip them on purpose with {SKIP_POSTGRES_VARIABLE}=1"
        );
    }
    SKIP_NOTICE.call_once(|| {
        // Straight to the terminal: the test harness captures `eprintln!`.
        let _ = writeln!(
            std::io::stderr(),
            "note: skipping the PostgreSQL runs of {}: {reason}",
            std::env::args().next().unwrap_or_default()
        );
    });
    None
}

/// A database created for one test run and dropped after it, even when the test panics.
pub struct TestDatabase {
    admin: Engine,
    name: String,
    url: String,
}

impl TestDatabase {
    pub fn create() -> Option<TestDatabase> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let server = postgres_url()?;
        let admin = create_engine(&server).expect("connecting to ORM_TEST_POSTGRES_URL");
        let name = format!(
            "orm_test_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        admin
            .execute(orm::core::text(format!("CREATE DATABASE {name}")))
            .expect("creating a test database");
        let url = with_database(&server, &name);
        Some(TestDatabase { admin, name, url })
    }

    pub fn engine(&self) -> Engine {
        create_engine(&self.url).expect("connecting to the test database")
    }

    /// The URL of this database, password included (for tests that start processes).
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let _ = self.admin.execute(orm::core::text(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        )));
    }
}

/// The server URL with its database replaced: `postgresql://u:p@h:5432/postgres` → `…/name`.
fn with_database(server: &str, name: &str) -> String {
    let (base, query) = match server.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (server, String::new()),
    };
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    format!("{base}/{name}{query}")
}

/// The JSON a script of `tests/parity/` prints when run by SQLAlchemy 2.x from the project's
/// virtual environment (`ORM_VENV`, else `.venv` at the root; `tests/setup.sh` makes it), or
/// `None` (after saying why) when there is none and the comparisons were skipped on purpose
/// (`ORM_TEST_SKIP_PARITY=1`); otherwise a missing one is a failure.
pub fn sqlalchemy_reference(script: &str) -> Option<serde_json::Value> {
    use std::path::PathBuf;
    use std::process::Command;
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let venv = std::env::var_os("ORM_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".venv"));
    let python = venv.join("bin/python");
    let has_sqlalchemy = Command::new(&python)
        .args(["-c", "import sqlalchemy"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_sqlalchemy {
        assert!(
            opted_out(SKIP_PARITY_VARIABLE),
            "no virtual environment with SQLAlchemy at {}: run tests/setup.sh (or set ORM_VENV), \
             or skip the comparisons on purpose with {SKIP_PARITY_VARIABLE}=1",
            venv.display()
        );
        let _ = writeln!(
            std::io::stderr(),
            "note: skipping the SQLAlchemy comparison of {script}: no virtual environment with \
             SQLAlchemy (run tests/setup.sh, or set ORM_VENV)"
        );
        return None;
    }
    let out = Command::new(python)
        .arg(root.join("tests/parity").join(script))
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).expect("JSON from the script"))
}
