//! Running revisions: one transaction per revision with the version update, foreign keys off
//! around it (SQLite's procedure for changing a table), and the batch rebuild. On PostgreSQL the
//! DDL is transactional too, constraints are checked as they are added, and batch blocks are
//! refused (they are SQLite's way to change a table).

use super::inspect::rows;
use super::script::{create_table_name, Revision, Sql, Step};
use super::{quote, Dialect, VERSION_TABLE};
use crate::engine::{Conn, Engine};
use crate::error::{Error, Result, RevisionRun};
use crate::value::{Value, ValueRef};

fn shown(version: Option<&str>) -> &str {
    version.unwrap_or("<base>")
}

/// The revision the database records, `None` at base (or before any migration ran).
pub(crate) fn read_version(conn: &mut Conn<'_>, dialect: Dialect) -> Result<Option<String>> {
    if !table_exists(conn, dialect, VERSION_TABLE)? {
        return Ok(None);
    }
    let found = rows(
        conn,
        &format!("SELECT version_num FROM {}", quote(VERSION_TABLE)),
        &[],
    )?;
    match found.as_slice() {
        [] => Ok(None),
        [one] => match &one[0] {
            Value::Text(id) => Ok(Some(id.clone())),
            other => Err(Error::Migration(format!("{VERSION_TABLE} holds {other:?}, which is not a revision id"))),
        },
        many => Err(Error::Migration(format!(
            "{VERSION_TABLE} holds {} rows, but a database stands at one revision: `stamp` the revision it is at",
            many.len()
        ))),
    }
}

/// Whether the database has a table of that name (in the current schema, on PostgreSQL).
fn table_exists(conn: &mut Conn<'_>, dialect: Dialect, table: &str) -> Result<bool> {
    let sql = match dialect {
        Dialect::Sqlite => "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
        Dialect::Postgres => {
            "SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = $1"
        }
    };
    Ok(!rows(conn, sql, &[table])?.is_empty())
}

fn write_version(conn: &mut Conn<'_>, dialect: Dialect, version: Option<&str>) -> Result<()> {
    let table = quote(VERSION_TABLE);
    conn.fetch_all(
        &format!(
            "CREATE TABLE IF NOT EXISTS {table} (\"version_num\" VARCHAR(32) NOT NULL, \
             CONSTRAINT \"orm_version_pkc\" PRIMARY KEY (\"version_num\"))"
        ),
        &[],
        Some(VERSION_TABLE),
    )?;
    conn.fetch_all(&format!("DELETE FROM {table}"), &[], Some(VERSION_TABLE))?;
    if let Some(id) = version {
        conn.fetch_all(
            &format!(
                "INSERT INTO {table} (\"version_num\") VALUES ({})",
                dialect.placeholder(1)
            ),
            &[ValueRef::Text(id)],
            Some(VERSION_TABLE),
        )?;
    }
    Ok(())
}

/// Sets the recorded revision without running anything (`stamp`).
pub(crate) fn stamp(engine: &Engine, version: Option<&str>) -> Result<()> {
    let dialect = Dialect::of(engine);
    engine
        .connect()?
        .atomically(|conn| write_version(conn, dialect, version))
}

/// Runs `work` in one transaction with foreign keys off, restoring them after. The pragma is a
/// no-op inside a transaction, so it is set before `BEGIN` and after `COMMIT`/`ROLLBACK`.
/// `work` is told whether they were on (then it must run `PRAGMA foreign_key_check`).
/// PostgreSQL has no such switch: its constraints are checked as they are added, so there the
/// transaction is all there is.
fn with_foreign_keys_off<R>(
    engine: &Engine,
    dialect: Dialect,
    work: impl FnOnce(&mut Conn<'_>, bool) -> Result<R>,
) -> Result<R> {
    let mut conn = engine.connect()?;
    if !conn.is_autocommit() {
        return Err(Error::Migration(
            "a transaction is open on this engine (a session with uncommitted work?): commit or roll it back \
             before migrating, so each revision can run in a transaction of its own"
                .into(),
        ));
    }
    if dialect == Dialect::Postgres {
        return conn.atomically(|conn| work(conn, false));
    }
    let was_on = matches!(
        rows(&mut conn, "PRAGMA foreign_keys", &[])?
            .first()
            .map(|r| &r[0]),
        Some(Value::Integer(1))
    );
    if was_on {
        conn.control("PRAGMA foreign_keys = OFF")?;
    }
    let result = conn.atomically(|conn| work(conn, was_on));
    if was_on {
        let restored = conn.control("PRAGMA foreign_keys = ON");
        if result.is_ok() {
            restored?;
        }
    }
    result
}

/// Which way a revision is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Way {
    Upgrade,
    Downgrade,
}

/// Applies one revision's upgrade or downgrade and moves the version, all or nothing.
pub(crate) fn run_revision(engine: &Engine, rev: &Revision, way: Way) -> Result<()> {
    let (from, to, steps, verb) = match way {
        Way::Upgrade => (rev.down_revision(), Some(rev.id()), &rev.up, "upgrade"),
        Way::Downgrade => (Some(rev.id()), rev.down_revision(), &rev.down, "downgrade"),
    };
    // A failure names the revision, its file and the line.
    let run = || {
        Box::new(RevisionRun {
            way: verb,
            revision: rev.id().to_string(),
            title: rev.message().to_string(),
            from: from.map(str::to_string),
            to: to.map(str::to_string),
            file: rev.path().to_path_buf(),
        })
    };
    let failed =
        |line: Option<usize>, detail: String, source: Option<Error>| Error::MigrationFailed {
            run: run(),
            line,
            detail,
            source: source.map(|e| Box::new(e) as _),
        };
    let dialect = Dialect::of(engine);
    if dialect == Dialect::Postgres {
        refuse_batches(rev, steps).map_err(|(line, reason)| Error::MigrationRefused {
            run: run(),
            line,
            reason,
        })?;
    }
    // A revision written for another database: its SQL is attempted, and a failure says why.
    let mismatch = rev
        .generated_for()
        .filter(|d| *d != dialect)
        .map(|d| {
            format!(
                " (this revision was generated for {} and is applied to {}: its SQL may not suit {}; \
                 regenerate it with autogenerate on {}, or edit it)",
                d.name(),
                dialect.name(),
                dialect.name(),
                dialect.name()
            )
        })
        .unwrap_or_default();
    with_foreign_keys_off(engine, dialect, |conn, foreign_keys_on| {
        let recorded = read_version(conn, dialect)?;
        if recorded.as_deref() != from {
            return Err(Error::Migration(format!(
                "the database moved to revision {} while migrating; expected {}",
                shown(recorded.as_deref()),
                shown(from)
            )));
        }
        for step in steps {
            run_step(conn, step).map_err(|failure| {
                let StepError { line, doing, error } = *failure;
                match error {
                    // The step's own refusal (no statement failed): its words are the detail.
                    Error::Migration(why) => {
                        failed(Some(line), format!("{doing}{why}{mismatch}"), None)
                    }
                    error => failed(Some(line), format!("{doing}{error}{mismatch}"), Some(error)),
                }
            })?;
        }
        write_version(conn, dialect, to)?;
        // SQLite's procedure checks only when foreign keys were on: off, they were not promised.
        let broken = if foreign_keys_on {
            rows(conn, "PRAGMA foreign_key_check", &[])?
        } else {
            Vec::new()
        };
        if !broken.is_empty() {
            let list: Vec<String> = broken
                .iter()
                .take(5)
                .map(|r| format!("{} row {} refers to a missing row of {}", r[0], r[1], r[2]))
                .collect();
            let more = if broken.len() > 5 {
                format!(" and {} more", broken.len() - 5)
            } else {
                String::new()
            };
            return Err(failed(
                None,
                format!("the foreign key check: {}{more}", list.join("; ")),
                None,
            ));
        }
        Ok(())
    })
}

/// Batch blocks rebuild a table the SQLite way (`pragma_table_info`, copy, rename); on
/// PostgreSQL, whose `ALTER TABLE` changes a table in place, they are refused before anything runs.
/// The refusal is the line of the first batch block and why.
fn refuse_batches(rev: &Revision, steps: &[Step]) -> std::result::Result<(), (usize, String)> {
    let Some(line) = steps.iter().find_map(|s| match s {
        Step::Batch { line, .. } => Some(*line),
        Step::Sql(_) => None,
    }) else {
        return Ok(());
    };
    let postgres = Dialect::Postgres.name();
    let why = match rev.generated_for() {
        Some(Dialect::Sqlite) => format!(
            "this revision was generated for sqlite; batch blocks rebuild tables the SQLite way and are \
             not run on {postgres}: regenerate it with autogenerate on {postgres}"
        ),
        _ => format!(
            "batch blocks rebuild tables the SQLite way and are not run on {postgres}: write ALTER TABLE \
             statements instead"
        ),
    };
    Err((line, why))
}

/// A step that failed: the line of the revision file, what the batch was doing when the
/// statement is one it made (else empty), and the error.
struct StepError {
    line: usize,
    doing: String,
    error: Error,
}

impl StepError {
    fn at(line: usize, error: Error) -> Box<StepError> {
        Box::new(StepError {
            line,
            doing: String::new(),
            error,
        })
    }
}

fn exec(conn: &mut Conn<'_>, sql: &Sql) -> std::result::Result<(), Box<StepError>> {
    conn.fetch_all(&sql.text, &[], None)
        .map(|_| ())
        .map_err(|e| StepError::at(sql.line, e))
}

/// The table's columns and their declared types, upper case (`DATE`, `VARCHAR(20)`).
fn columns_of(conn: &mut Conn<'_>, table: &str) -> Result<Vec<(String, String)>> {
    Ok(rows(
        conn,
        "SELECT name, upper(type) FROM pragma_table_info(?) ORDER BY cid",
        &[table],
    )?
    .into_iter()
    .map(|r| (r[0].to_string(), r[1].to_string()))
    .collect())
}

/// How the batch copy turns a value stored under the declared type `from` into one the model
/// reads under `to`, as a SQLite function of the quoted column `c`; `None` when it is copied as
/// it is (same type, or SQLite's type affinity converts it on insert, as for numbers).
///
/// SQLite keeps dates and times as text (`2003-12-17`, `2003-12-17 10:30:00`); a column turned
/// from `DATE` into `TIMESTAMP` must hold the second form, else no read of it succeeds. The
/// conversions are SQLite's date and time functions
/// (<https://sqlite.org/lang_datefunc.html>), which give `NULL` for text that is no date: the
/// copy checks for such values first and refuses with the first one named.
fn conversion(c: &str, from: &str, to: &str) -> Option<String> {
    let kind = |ty: &str| {
        if ty.starts_with("TIMESTAMP") || ty.starts_with("DATETIME") {
            Some("datetime")
        } else if ty.starts_with("DATE") {
            Some("date")
        } else if ty.starts_with("TIME") {
            Some("time")
        } else {
            None
        }
    };
    if from == to {
        return None;
    }
    match kind(to) {
        // Fractions of a second are kept (`%f`), as the model writes them.
        Some("datetime") => Some(format!(
            "CASE WHEN {c} IS NULL THEN NULL WHEN datetime({c}) = {c} OR date({c}) = {c} \
             THEN datetime({c}) ELSE strftime('%Y-%m-%d %H:%M:%f', {c}) END"
        )),
        Some(f) => Some(format!("{f}({c})")),
        // Date or time text into a text column reads as text: copied as it is.
        None => None,
    }
}

fn run_step(conn: &mut Conn<'_>, step: &Step) -> std::result::Result<(), Box<StepError>> {
    let (table, line, create, after) = match step {
        Step::Sql(sql) => return exec(conn, sql),
        Step::Batch {
            table,
            line,
            create,
            after,
        } => (table, *line, create, after),
    };
    let at = |e: Error| StepError::at(line, e);
    let old = columns_of(conn, table).map_err(at)?;
    if old.is_empty() {
        return Err(StepError::at(
            line,
            Error::Migration(format!(
                "cannot rebuild table {table}: the database has no such table"
            )),
        ));
    }
    // SQLite's order: create the new table under another name, copy, drop the old, rename.
    let temp = format!("_orm_batch_{table}");
    conn.fetch_all(&format!("DROP TABLE IF EXISTS {}", quote(&temp)), &[], None)
        .map_err(at)?;
    let Some((_, span)) = create_table_name(&create.text) else {
        return Err(StepError::at(
            create.line,
            Error::Migration(format!(
                "the batch block for {table} must start with CREATE TABLE"
            )),
        ));
    };
    let renamed = format!(
        "{}{}{}",
        &create.text[..span.start],
        quote(&temp),
        &create.text[span.end..]
    );
    exec(
        conn,
        &Sql {
            text: renamed,
            line: create.line,
        },
    )?;
    let new = columns_of(conn, &temp).map_err(at)?;
    // Each kept column, and the expression its values are copied with.
    let kept: Vec<(String, String)> = new
        .iter()
        .filter_map(|(name, to)| {
            let (_, from) = old.iter().find(|(o, _)| o == name)?;
            let c = quote(name);
            let expr = conversion(&c, from, to).unwrap_or_else(|| c.clone());
            Some((c, expr))
        })
        .collect();
    for ((name, to), (c, expr)) in new
        .iter()
        .filter(|(n, _)| old.iter().any(|(o, _)| o == n))
        .zip(&kept)
    {
        if expr == c {
            continue;
        }
        // A value the conversion turns into NULL would be lost: refuse, naming it.
        let lost = conn
            .fetch_all(
                &format!(
                    "SELECT {c} FROM {} WHERE {c} IS NOT NULL AND ({expr}) IS NULL LIMIT 1",
                    quote(table)
                ),
                &[],
                Some(table),
            )
            .map_err(at)?;
        if let Some(row) = lost.rows.first() {
            return Err(StepError::at(
                line,
                Error::Migration(format!(
                    "cannot change the type of {table}.{name} to {to}: the value {} is not a \
                     {to} (SQLite's date and time functions read it as NULL); fix or remove such \
                     rows first",
                    row[0]
                )),
            ));
        }
    }
    if !kept.is_empty() {
        let list = kept
            .iter()
            .map(|(c, _)| c.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let values = kept
            .iter()
            .map(|(_, e)| e.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let copy = format!(
            "INSERT INTO {} ({list}) SELECT {values} FROM {}",
            quote(&temp),
            quote(table)
        );
        conn.fetch_all(&copy, &[], Some(table)).map_err(|error| {
            Box::new(StepError {
                line,
                doing: format!("copying the rows of {table} into its rebuilt table: "),
                error,
            })
        })?;
    }
    conn.fetch_all(&format!("DROP TABLE {}", quote(table)), &[], Some(table))
        .map_err(at)?;
    conn.fetch_all(
        &format!("ALTER TABLE {} RENAME TO {}", quote(&temp), quote(table)),
        &[],
        Some(table),
    )
    .map_err(at)?;
    for sql in after {
        exec(conn, sql)?;
    }
    Ok(())
}
