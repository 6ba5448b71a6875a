//! Running revisions: one transaction per revision with the version update, foreign keys off
//! around it (SQLite's procedure for changing a table), and the batch rebuild.

use super::inspect::rows;
use super::script::{create_table_name, Revision, Sql, Step};
use super::{quote, VERSION_TABLE};
use crate::engine::{Conn, Engine};
use crate::error::{Error, Result};
use crate::value::{Value, ValueRef};

fn shown(version: Option<&str>) -> &str {
    version.unwrap_or("<base>")
}

/// The revision the database records, `None` at base (or before any migration ran).
pub(crate) fn read_version(conn: &mut Conn<'_>) -> Result<Option<String>> {
    if rows(
        conn,
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
        &[VERSION_TABLE],
    )?
    .is_empty()
    {
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

fn write_version(conn: &mut Conn<'_>, version: Option<&str>) -> Result<()> {
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
            &format!("INSERT INTO {table} (\"version_num\") VALUES (?)"),
            &[ValueRef::Text(id)],
            Some(VERSION_TABLE),
        )?;
    }
    Ok(())
}

/// Sets the recorded revision without running anything (`stamp`).
pub(crate) fn stamp(engine: &Engine, version: Option<&str>) -> Result<()> {
    engine
        .connect()
        .atomically(|conn| write_version(conn, version))
}

/// Runs `work` in one transaction with foreign keys off, restoring them after. The pragma is a
/// no-op inside a transaction, so it is set before `BEGIN` and after `COMMIT`/`ROLLBACK`.
/// `work` is told whether they were on (then it must run `PRAGMA foreign_key_check`).
fn with_foreign_keys_off<R>(
    engine: &Engine,
    work: impl FnOnce(&mut Conn<'_>, bool) -> Result<R>,
) -> Result<R> {
    let mut conn = engine.connect();
    if !conn.is_autocommit() {
        return Err(Error::Migration(
            "a transaction is open on this engine (a session with uncommitted work?): commit or roll it back \
             before migrating, so each revision can run in a transaction of its own"
                .into(),
        ));
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
    let context = |detail: String| {
        Error::Migration(format!(
            "{verb} {} -> {} ({}) failed {detail}. The revision was rolled back: the database is still at {}, \
             its data as it was",
            shown(from),
            shown(to),
            rev.message(),
            shown(from)
        ))
    };
    with_foreign_keys_off(engine, |conn, foreign_keys_on| {
        let recorded = read_version(conn)?;
        if recorded.as_deref() != from {
            return Err(Error::Migration(format!(
                "the database moved to revision {} while migrating; expected {}",
                shown(recorded.as_deref()),
                shown(from)
            )));
        }
        for step in steps {
            run_step(conn, step)
                .map_err(|(line, e)| context(format!("at {}:{line}: {e}", rev.path().display())))?;
        }
        write_version(conn, to)?;
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
            return Err(context(format!(
                "the foreign key check: {}{more}",
                list.join("; ")
            )));
        }
        Ok(())
    })
}

fn exec(conn: &mut Conn<'_>, sql: &Sql) -> std::result::Result<(), (usize, Error)> {
    conn.fetch_all(&sql.text, &[], None)
        .map(|_| ())
        .map_err(|e| (sql.line, e))
}

fn column_names(conn: &mut Conn<'_>, table: &str) -> Result<Vec<String>> {
    Ok(rows(
        conn,
        "SELECT name FROM pragma_table_info(?) ORDER BY cid",
        &[table],
    )?
    .into_iter()
    .map(|r| r[0].to_string())
    .collect())
}

fn run_step(conn: &mut Conn<'_>, step: &Step) -> std::result::Result<(), (usize, Error)> {
    let (table, line, create, after) = match step {
        Step::Sql(sql) => return exec(conn, sql),
        Step::Batch {
            table,
            line,
            create,
            after,
        } => (table, *line, create, after),
    };
    let at = |e: Error| (line, e);
    let old = column_names(conn, table).map_err(at)?;
    if old.is_empty() {
        return Err((
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
        return Err((
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
    let new = column_names(conn, &temp).map_err(at)?;
    let kept: Vec<String> = new
        .iter()
        .filter(|c| old.contains(c))
        .map(|c| quote(c))
        .collect();
    if !kept.is_empty() {
        let list = kept.join(", ");
        let copy = format!(
            "INSERT INTO {} ({list}) SELECT {list} FROM {}",
            quote(&temp),
            quote(table)
        );
        conn.fetch_all(&copy, &[], Some(table)).map_err(|e| {
            (
                line,
                Error::Migration(format!(
                    "copying the rows of {table} into its rebuilt table: {e}"
                )),
            )
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
