//! The standard workload (DESIGN.md, "Performance: the standard workload") through `orm` and
//! through hand-written rusqlite, the floor: same statements, `prepare_cached`, one transaction
//! where the ORM uses one, rows decoded into plain structs.
//!
//! A plain binary (`harness = false`), not criterion: every step is a whole workload phase that
//! runs for milliseconds to seconds, the figures we want are ratios between implementations
//! measured in one process, and the output must be JSON for `tests/bench.sh` to compare with
//! SQLAlchemy. Criterion's sampling of one closure would add nothing but build time.
//!
//! ```text
//! workload [--n N] [--runs R] [--json] [--only orm|rusqlite|load-orm|load-rusqlite|empty]
//! ```
//! - no `--only`: both variants, `R` times each (alternating), median per step;
//! - `--only orm` / `--only rusqlite`: one variant, for its peak memory (`VmHWM`);
//! - `--only load-orm` / `--only load-rusqlite` / `--only empty`: the memory check of "load all".
//!   Each fills the database with SQL alone (no Rust objects), then loads every user and holds
//!   them, or (`empty`) runs the same query keeping one row; the difference in peak memory is
//!   what holding the users costs, compared with the byte size of the rows.
//!
//! `N` defaults to 20,000 (`--n` or `WORKLOAD_N`), `R` to 3 (`--runs` or `WORKLOAD_RUNS`).
//! `WORKLOAD_URL` runs `--only orm` on another database (PostgreSQL, `tests/bench_postgres.sh`).
//! `WORKLOAD_SKIP` lists steps to leave out when profiling (see `skipped`); `WORKLOAD_CLOCK=cpu`
//! times steps by CPU time rather than the wall clock (see `cpu_clock`).

use orm::prelude::*;
use rusqlite::params;
use rustc_hash::FxHashMap;
use std::time::{Duration, Instant};

#[derive(Model, Debug, Clone, Default)]
#[orm(
    table = "users",
    has_many(posts: Post, foreign_key = "user_id", cascade = "all, delete-orphan")
)]
pub struct User {
    #[orm(primary_key)]
    pub id: i64,
    /// Indexed, as an application that lists users by name would: the filtered queries then
    /// measure query overhead rather than SQLite sorting half the table a thousand times.
    #[orm(index)]
    pub name: String,
    #[orm(unique)]
    pub email: Option<String>,
    #[orm(index)]
    pub age: Option<i64>,
}

#[derive(Model, Debug, Clone, Default)]
#[orm(table = "posts")]
pub struct Post {
    #[orm(primary_key)]
    pub id: i64,
    pub title: String,
    #[orm(foreign_key = "users.id", index)]
    pub user_id: Option<i64>,
}

/// The steps, in order; the names are the keys of the JSON output (shared with SQLAlchemy's script).
const STEPS: [&str; 11] = [
    "insert users",
    "insert posts",
    "load all",
    "filtered queries",
    "get by key",
    "lazy N+1",
    "eager joined",
    "eager select-in",
    "update",
    "aggregates",
    "delete",
];

/// Users touched by the relationship and delete steps: "the first 1,000 users".
const FIRST: i64 = 1000;
const QUERIES: usize = 1000;
const AGGREGATES: usize = 100;

// The data, the same for all three implementations (the Python script computes the same values).
fn user_name(i: usize) -> String {
    format!("user{i:05}")
}
fn user_email(i: usize) -> String {
    format!("user{i}@example.com")
}
fn user_age(i: usize) -> i64 {
    18 + (i as i64 * 7) % 63
}
fn post_title(j: usize) -> String {
    format!("post {j}")
}
/// Posts are spread over the users: post `j` belongs to user `j % n + 1`.
fn post_user(j: usize, n: usize) -> i64 {
    (j % n) as i64 + 1
}
fn filter_age(q: usize) -> i64 {
    18 + (q as i64 * 13) % 63
}
/// Distinct keys spread over the table (7919 is prime, so coprime with any N that is not a multiple).
fn get_key(k: usize, n: usize) -> i64 {
    (k * 7919 % n) as i64 + 1
}

type Timings = Vec<(&'static str, Duration)>;

fn time<E>(
    timings: &mut Timings,
    step: &'static str,
    work: impl FnOnce() -> Result<(), E>,
) -> Result<(), E> {
    if skipped(step) {
        return Ok(());
    }
    let (start, cpu) = (Instant::now(), cpu_time());
    let out = work();
    let elapsed = match (cpu_clock(), cpu, cpu_time()) {
        (true, Some(before), Some(after)) => after - before,
        _ => start.elapsed(),
    };
    timings.push((step, elapsed));
    out
}

/// `WORKLOAD_CLOCK=cpu`: time steps by the CPU time of this thread instead of the wall clock,
/// for comparing changes on a machine other work shares (waiting for a core is not counted).
fn cpu_clock() -> bool {
    std::env::var("WORKLOAD_CLOCK").is_ok_and(|c| c == "cpu")
}

/// This thread's CPU time so far (`clock_gettime(CLOCK_THREAD_CPUTIME_ID)`; std has no such
/// clock, and /proc's figures only move at scheduler ticks).
#[cfg(target_os = "linux")]
fn cpu_time() -> Option<Duration> {
    #[repr(C)]
    struct Timespec {
        tv_sec: i64,
        tv_nsec: i64,
    }
    extern "C" {
        fn clock_gettime(clock: i32, now: *mut Timespec) -> i32;
    }
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    if !cpu_clock() {
        return None;
    }
    let mut now = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec (two C longs on 64-bit Linux).
    let ok = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut now) } == 0;
    ok.then(|| Duration::new(now.tv_sec as u64, now.tv_nsec as u32))
}

#[cfg(not(target_os = "linux"))]
fn cpu_time() -> Option<Duration> {
    None
}

// ---------------------------------------------------------------------------------------------
// Through the ORM.

/// The database of one run: SQLite in memory, or the server `WORKLOAD_URL` names (a PostgreSQL
/// URL: the same workload on the second engine, emptied before each run).
fn orm_engine() -> Engine {
    let url = std::env::var("WORKLOAD_URL").unwrap_or_else(|_| "sqlite:///:memory:".into());
    let engine = create_engine(&url).expect("engine");
    let metadata = MetaData::new().add::<User>().add::<Post>();
    metadata.drop_all(&engine).expect("drop_all");
    metadata.create_all(&engine).expect("create_all");
    engine
}

fn orm_run(n: usize) -> orm::Result<Timings> {
    let engine = orm_engine();
    let mut t = Timings::new();
    let mut check = 0usize;

    time(&mut t, "insert users", || {
        let session = Session::new(&engine);
        for i in 0..n {
            session.add(User {
                id: 0,
                name: user_name(i),
                email: Some(user_email(i)),
                age: Some(user_age(i)),
            });
        }
        session.commit()
    })?;

    time(&mut t, "insert posts", || {
        let session = Session::new(&engine);
        for j in 0..5 * n {
            session.add(Post {
                id: 0,
                title: post_title(j),
                user_id: Some(post_user(j, n)),
            });
        }
        session.commit()
    })?;

    time(&mut t, "load all", || -> orm::Result<()> {
        let session = Session::new(&engine);
        check += session.query::<User>().all()?.len();
        Ok(())
    })?;

    time(&mut t, "filtered queries", || -> orm::Result<()> {
        let session = Session::new(&engine);
        for q in 0..QUERIES {
            let rows = session
                .query::<User>()
                .filter(User::age.gt(filter_age(q)))
                .order_by(User::name)
                .limit(10)
                .all()?;
            check += rows.len();
        }
        Ok(())
    })?;

    time(&mut t, "get by key", || -> orm::Result<()> {
        let session = Session::new(&engine);
        for k in 0..QUERIES {
            check += session.get::<User>(get_key(k, n))?.is_some() as usize;
        }
        Ok(())
    })?;

    let first_users = |session: &Session| {
        session
            .query::<User>()
            .filter(User::id.le(FIRST))
            .order_by(User::id)
    };

    time(&mut t, "lazy N+1", || -> orm::Result<()> {
        let session = Session::new(&engine);
        for user in first_users(&session).all()? {
            check += user.related(User::posts)?.len();
        }
        Ok(())
    })?;

    time(&mut t, "eager joined", || -> orm::Result<()> {
        let session = Session::new(&engine);
        let users = first_users(&session)
            .options(joinedload(User::posts))
            .all()?;
        for user in users {
            check += user.related(User::posts)?.len();
        }
        Ok(())
    })?;

    time(&mut t, "eager select-in", || -> orm::Result<()> {
        let session = Session::new(&engine);
        let users = first_users(&session)
            .options(selectinload(User::posts))
            .all()?;
        for user in users {
            check += user.related(User::posts)?.len();
        }
        Ok(())
    })?;

    time(&mut t, "update", || -> orm::Result<()> {
        let session = Session::new(&engine);
        for user in session.query::<User>().all()? {
            let mut u = user.borrow_mut();
            u.age = u.age.map(|a| a + 1);
        }
        session.commit()
    })?;

    time(&mut t, "aggregates", || -> orm::Result<()> {
        let session = Session::new(&engine);
        for _ in 0..AGGREGATES {
            let rows = session
                .query_values((User::age.modulo(10), func::avg(User::age)))
                .group_by(User::age.modulo(10))
                .all()?;
            check += rows.len();
        }
        Ok(())
    })?;

    time(&mut t, "delete", || -> orm::Result<()> {
        let session = Session::new(&engine);
        // The posts go with their user (cascade "all, delete-orphan"), loaded in one statement.
        let users = first_users(&session)
            .options(selectinload(User::posts))
            .all()?;
        for user in &users {
            session.delete(user)?;
        }
        session.commit()
    })?;

    let left = Session::new(&engine).query::<User>().count()?;
    if !skipped("delete") {
        assert_eq!(
            left as usize,
            n - FIRST as usize,
            "the delete step removed 1,000 users"
        );
    }
    std::hint::black_box(check);
    Ok(t)
}

// ---------------------------------------------------------------------------------------------
// The floor: hand-written rusqlite, the statements the ORM writes, decoded into plain structs.

#[derive(Debug, Clone)]
struct RawUser {
    id: i64,
    name: String,
    email: Option<String>,
    age: Option<i64>,
}

#[derive(Debug, Clone)]
struct RawPost {
    id: i64,
    title: String,
    user_id: Option<i64>,
}

const USER_COLUMNS: &str =
    r#"SELECT "users"."id", "users"."name", "users"."email", "users"."age" FROM "users""#;
const POST_COLUMNS: &str =
    r#"SELECT "posts"."id", "posts"."title", "posts"."user_id" FROM "posts""#;

fn raw_user(row: &rusqlite::Row<'_>) -> rusqlite::Result<RawUser> {
    Ok(RawUser {
        id: row.get(0)?,
        name: row.get(1)?,
        email: row.get(2)?,
        age: row.get(3)?,
    })
}

fn raw_post_at(row: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<RawPost> {
    Ok(RawPost {
        id: row.get(at)?,
        title: row.get(at + 1)?,
        user_id: row.get(at + 2)?,
    })
}

fn raw_connection() -> rusqlite::Connection {
    let conn = rusqlite::Connection::open_in_memory().expect("open");
    conn.execute_batch("PRAGMA foreign_keys = ON")
        .expect("pragma");
    // The DDL the ORM's create_all writes.
    let engine_sql: Vec<String> = MetaData::new()
        .add::<User>()
        .add::<Post>()
        .create_statements()
        .iter()
        .map(|s| {
            orm::core::SqlWriter::compile(&orm::core::SqliteWriter, s)
                .sql
                .clone()
        })
        .collect();
    for sql in engine_sql {
        conn.execute(&sql, []).expect("ddl");
    }
    conn.set_prepared_statement_cache_capacity(256);
    conn
}

fn in_placeholders(count: usize) -> String {
    vec!["?"; count].join(", ")
}

fn raw_run(n: usize) -> rusqlite::Result<Timings> {
    let mut conn = raw_connection();
    let mut t = Timings::new();
    let mut check = 0usize;

    time(&mut t, "insert users", || -> rusqlite::Result<()> {
        let mut users = Vec::with_capacity(n);
        let tx = conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                r#"INSERT INTO "users" ("name", "email", "age") VALUES (?, ?, ?)"#,
            )?;
            for i in 0..n {
                let mut user = RawUser {
                    id: 0,
                    name: user_name(i),
                    email: Some(user_email(i)),
                    age: Some(user_age(i)),
                };
                stmt.execute(params![user.name, user.email, user.age])?;
                user.id = tx.last_insert_rowid();
                users.push(user);
            }
        }
        tx.commit()?;
        check += users.len();
        Ok(())
    })?;

    time(&mut t, "insert posts", || -> rusqlite::Result<()> {
        let mut posts = Vec::with_capacity(5 * n);
        let tx = conn.transaction()?;
        {
            let mut stmt =
                tx.prepare_cached(r#"INSERT INTO "posts" ("title", "user_id") VALUES (?, ?)"#)?;
            for j in 0..5 * n {
                let mut post = RawPost {
                    id: 0,
                    title: post_title(j),
                    user_id: Some(post_user(j, n)),
                };
                stmt.execute(params![post.title, post.user_id])?;
                post.id = tx.last_insert_rowid();
                posts.push(post);
            }
        }
        tx.commit()?;
        check += posts.len();
        Ok(())
    })?;

    let load_all = |conn: &rusqlite::Connection| -> rusqlite::Result<Vec<RawUser>> {
        let mut stmt = conn.prepare_cached(USER_COLUMNS)?;
        let rows = stmt.query_map([], raw_user)?;
        rows.collect()
    };

    time(&mut t, "load all", || -> rusqlite::Result<()> {
        check += load_all(&conn)?.len();
        Ok(())
    })?;

    time(&mut t, "filtered queries", || -> rusqlite::Result<()> {
        let sql = format!(
            r#"{USER_COLUMNS} WHERE "users"."age" > ? ORDER BY "users"."name" ASC LIMIT 10"#
        );
        for q in 0..QUERIES {
            let mut stmt = conn.prepare_cached(&sql)?;
            let rows: Vec<RawUser> = stmt
                .query_map([filter_age(q)], raw_user)?
                .collect::<rusqlite::Result<_>>()?;
            check += rows.len();
        }
        Ok(())
    })?;

    time(&mut t, "get by key", || -> rusqlite::Result<()> {
        let sql = format!(r#"{USER_COLUMNS} WHERE "users"."id" = ?"#);
        for k in 0..QUERIES {
            let mut stmt = conn.prepare_cached(&sql)?;
            let mut rows = stmt.query([get_key(k, n)])?;
            let user = match rows.next()? {
                Some(row) => Some(raw_user(row)?),
                None => None,
            };
            check += user.is_some() as usize;
        }
        Ok(())
    })?;

    let first_sql = format!(r#"{USER_COLUMNS} WHERE "users"."id" <= ? ORDER BY "users"."id" ASC"#);
    let first_users = |conn: &rusqlite::Connection| -> rusqlite::Result<Vec<RawUser>> {
        let mut stmt = conn.prepare_cached(&first_sql)?;
        let rows = stmt.query_map([FIRST], raw_user)?;
        rows.collect()
    };
    // Select-in loading: one `IN (…)` with every parent key, grouped by parent.
    let posts_of = |conn: &rusqlite::Connection,
                    users: &[RawUser]|
     -> rusqlite::Result<FxHashMap<i64, Vec<RawPost>>> {
        let sql = format!(
            r#"{POST_COLUMNS} WHERE "posts"."user_id" IN ({})"#,
            in_placeholders(users.len())
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let keys = rusqlite::params_from_iter(users.iter().map(|u| u.id));
        let mut by_user: FxHashMap<i64, Vec<RawPost>> = FxHashMap::default();
        let mut rows = stmt.query(keys)?;
        while let Some(row) = rows.next()? {
            let post = raw_post_at(row, 0)?;
            if let Some(u) = post.user_id {
                by_user.entry(u).or_default().push(post);
            }
        }
        Ok(by_user)
    };

    time(&mut t, "lazy N+1", || -> rusqlite::Result<()> {
        let sql = format!(r#"{POST_COLUMNS} WHERE "posts"."user_id" = ?"#);
        let mut loaded = Vec::new();
        for user in first_users(&conn)? {
            let mut stmt = conn.prepare_cached(&sql)?;
            let posts: Vec<RawPost> = stmt
                .query_map([user.id], |r| raw_post_at(r, 0))?
                .collect::<rusqlite::Result<_>>()?;
            check += posts.len();
            loaded.push((user, posts));
        }
        Ok(())
    })?;

    time(&mut t, "eager joined", || -> rusqlite::Result<()> {
        let sql = r#"SELECT "users"."id", "users"."name", "users"."email", "users"."age", "posts"."id", "posts"."title", "posts"."user_id" FROM "users" LEFT OUTER JOIN "posts" ON "posts"."user_id" = "users"."id" WHERE "users"."id" <= ? ORDER BY "users"."id" ASC"#;
        let mut stmt = conn.prepare_cached(sql)?;
        let mut rows = stmt.query([FIRST])?;
        let mut loaded: Vec<(RawUser, Vec<RawPost>)> = Vec::new();
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            if loaded.last().is_none_or(|(u, _)| u.id != id) {
                loaded.push((raw_user(row)?, Vec::new()));
            }
            if row.get_ref(4)? != rusqlite::types::ValueRef::Null {
                let post = raw_post_at(row, 4)?;
                loaded.last_mut().expect("pushed").1.push(post);
            }
        }
        check += loaded.iter().map(|(_, p)| p.len()).sum::<usize>();
        Ok(())
    })?;

    time(&mut t, "eager select-in", || -> rusqlite::Result<()> {
        let users = first_users(&conn)?;
        let mut by_user = posts_of(&conn, &users)?;
        let loaded: Vec<(RawUser, Vec<RawPost>)> = users
            .into_iter()
            .map(|u| {
                let posts = by_user.remove(&u.id).unwrap_or_default();
                (u, posts)
            })
            .collect();
        check += loaded.iter().map(|(_, p)| p.len()).sum::<usize>();
        Ok(())
    })?;

    time(&mut t, "update", || -> rusqlite::Result<()> {
        let mut users = load_all(&conn)?;
        let tx = conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(r#"UPDATE "users" SET "age" = ? WHERE "id" = ?"#)?;
            for u in &mut users {
                u.age = u.age.map(|a| a + 1);
                stmt.execute(params![u.age, u.id])?;
            }
        }
        tx.commit()
    })?;

    time(&mut t, "aggregates", || -> rusqlite::Result<()> {
        let sql = r#"SELECT "users"."age" % ?, avg("users"."age") FROM "users" GROUP BY "users"."age" % ?"#;
        for _ in 0..AGGREGATES {
            let mut stmt = conn.prepare_cached(sql)?;
            let rows: Vec<(Option<i64>, Option<f64>)> = stmt
                .query_map([10, 10], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            check += rows.len();
        }
        Ok(())
    })?;

    time(&mut t, "delete", || -> rusqlite::Result<()> {
        let users = first_users(&conn)?;
        let mut by_user = posts_of(&conn, &users)?;
        let tx = conn.transaction()?;
        {
            let mut posts = tx.prepare_cached(r#"DELETE FROM "posts" WHERE "id" = ?"#)?;
            for u in &users {
                for p in by_user.remove(&u.id).unwrap_or_default() {
                    posts.execute([p.id])?;
                }
            }
            let mut stmt = tx.prepare_cached(r#"DELETE FROM "users" WHERE "id" = ?"#)?;
            for u in &users {
                stmt.execute([u.id])?;
            }
        }
        tx.commit()
    })?;

    let left: i64 = conn.query_row("SELECT count(*) FROM users", [], |r| r.get(0))?;
    if !skipped("delete") {
        assert_eq!(
            left as usize,
            n - FIRST as usize,
            "the delete step removed 1,000 users"
        );
    }
    std::hint::black_box(check);
    Ok(t)
}

// ---------------------------------------------------------------------------------------------
// The memory check of "load all".

/// Fills the tables with SQL alone, so the process holds no Rust objects for the rows.
/// The values are the ones the workload inserts.
fn fill_sql(n: usize) -> String {
    format!(
        "WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < {n}) \
         INSERT INTO users (name, email, age) \
         SELECT printf('user%05d', i), printf('user%d@example.com', i), 18 + (i * 7) % 63 FROM seq"
    )
}

/// The byte size of the users' rows: the sum of field sizes, text counted by its bytes.
const ROW_BYTES_SQL: &str = "SELECT sum(8 + length(CAST(name AS BLOB)) \
     + coalesce(length(CAST(email AS BLOB)), 0) + CASE WHEN age IS NULL THEN 0 ELSE 8 END) FROM users";
/// The bytes of the text alone, for the size of the rows as plain Rust structs.
const TEXT_BYTES_SQL: &str =
    "SELECT sum(length(CAST(name AS BLOB)) + coalesce(length(CAST(email AS BLOB)), 0)) FROM users";

fn memory_check(mode: &str, n: usize) -> serde_json::Value {
    let (rows, (row_bytes, text_bytes), before, peak) = if mode == "load-rusqlite" {
        let conn = raw_connection();
        conn.execute(&fill_sql(n), []).expect("fill users");
        let sum = |sql| -> i64 { conn.query_row(sql, [], |r| r.get(0)).expect("row bytes") };
        let row_bytes = (sum(ROW_BYTES_SQL), sum(TEXT_BYTES_SQL));
        let before = vm_kib("VmHWM");
        let mut stmt = conn.prepare_cached(USER_COLUMNS).expect("prepare");
        let users: Vec<RawUser> = stmt
            .query_map([], raw_user)
            .expect("query")
            .collect::<rusqlite::Result<_>>()
            .expect("rows");
        let peak = vm_kib("VmHWM");
        (std::hint::black_box(users).len(), row_bytes, before, peak)
    } else {
        let engine = orm_engine();
        engine
            .execute(orm::core::text(fill_sql(n)))
            .expect("fill users");
        let sum = |sql: &str| match engine
            .execute(orm::core::text(sql))
            .expect("row bytes")
            .scalar()
        {
            Some(orm::Value::Integer(b)) => *b,
            other => panic!("row bytes: {other:?}"),
        };
        let row_bytes = (sum(ROW_BYTES_SQL), sum(TEXT_BYTES_SQL));
        let before = vm_kib("VmHWM");
        let session = Session::new(&engine);
        let query = session.query::<User>();
        let users = match mode {
            "load-orm" => query.all(),
            // Everything but holding the users: the same query and code path, one row kept.
            "empty" => query.limit(1).all(),
            other => panic!("unknown mode {other}"),
        }
        .expect("load all");
        let peak = vm_kib("VmHWM");
        (std::hint::black_box(users).len(), row_bytes, before, peak)
    };
    serde_json::json!({
        "mode": mode, "n": n, "rows": rows, "row_bytes": row_bytes,
        // The rows as plain structs: the struct itself plus its text on the heap.
        "struct_bytes": rows * std::mem::size_of::<RawUser>() + text_bytes as usize,
        "hwm_before_kib": before, "hwm_kib": peak,
    })
}

/// A `Vm…` line of /proc/self/status, in KiB (0 where there is no /proc).
fn vm_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Median per step over the runs, in seconds.
fn medians(runs: &[Timings]) -> serde_json::Map<String, serde_json::Value> {
    let mut out = serde_json::Map::new();
    for step in STEPS {
        let mut samples: Vec<Duration> = runs
            .iter()
            .filter_map(|r| r.iter().find(|(s, _)| *s == step).map(|(_, d)| *d))
            .collect();
        if !samples.is_empty() {
            out.insert(step.into(), median(&mut samples).as_secs_f64().into());
        }
    }
    out
}

struct Args {
    n: usize,
    runs: usize,
    json: bool,
    only: Option<String>,
}

/// Steps left out (`WORKLOAD_SKIP="filtered queries,aggregates"`), for profiling the others: no
/// step depends on those two, which spend their time inside SQLite.
fn skipped(step: &str) -> bool {
    std::env::var("WORKLOAD_SKIP").is_ok_and(|s| s.split(',').any(|x| x.trim() == step))
}

fn args() -> Args {
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse().ok());
    let mut args = Args {
        n: env("WORKLOAD_N").unwrap_or(20_000),
        runs: env("WORKLOAD_RUNS").unwrap_or(3),
        json: false,
        only: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--n" => args.n = value().parse().expect("--n takes a number"),
            "--runs" => args.runs = value().parse().expect("--runs takes a number"),
            "--only" => args.only = Some(value()),
            "--json" => args.json = true,
            // `cargo bench` passes `--bench`; nothing else is expected.
            "--bench" => {}
            other => panic!(
                "unknown argument {other}; usage: workload [--n N] [--runs R] [--json] \
                 [--only orm|rusqlite|load-orm|load-rusqlite|empty]"
            ),
        }
    }
    assert!(
        args.n > FIRST as usize,
        "N must exceed {FIRST} (the steps touch the first {FIRST} users)"
    );
    args.runs = args.runs.max(1);
    args
}

fn main() {
    let args = args();
    let (n, runs) = (args.n, args.runs);
    let output = match args.only.as_deref() {
        Some(mode @ ("load-orm" | "load-rusqlite" | "empty")) => memory_check(mode, n),
        Some("orm") => {
            let timings: Vec<Timings> = (0..runs)
                .map(|_| orm_run(n).expect("orm workload"))
                .collect();
            serde_json::json!({ "n": n, "runs": runs, "orm": medians(&timings), "peak_kib": vm_kib("VmHWM") })
        }
        Some("rusqlite") => {
            let timings: Vec<Timings> = (0..runs)
                .map(|_| raw_run(n).expect("rusqlite workload"))
                .collect();
            serde_json::json!({ "n": n, "runs": runs, "rusqlite": medians(&timings), "peak_kib": vm_kib("VmHWM") })
        }
        Some(other) => panic!("unknown --only {other}"),
        None => {
            let (mut orm_runs, mut raw_runs) = (Vec::new(), Vec::new());
            for _ in 0..runs {
                orm_runs.push(orm_run(n).expect("orm workload"));
                raw_runs.push(raw_run(n).expect("rusqlite workload"));
            }
            let out = serde_json::json!({
                "n": n, "runs": runs,
                "clock": if cpu_clock() { "thread CPU time" } else { "wall clock" },
                "sqlite": rusqlite::version(),
                "orm": medians(&orm_runs), "rusqlite": medians(&raw_runs),
            });
            if !args.json {
                println!(
                    "{:<18} {:>10} {:>10} {:>7}",
                    "step", "orm ms", "raw ms", "ratio"
                );
                for step in STEPS {
                    let o = out["orm"][step].as_f64().unwrap_or(0.0);
                    let r = out["rusqlite"][step].as_f64().unwrap_or(0.0);
                    println!(
                        "{step:<18} {:>10.2} {:>10.2} {:>7.2}",
                        o * 1e3,
                        r * 1e3,
                        o / r
                    );
                }
                return;
            }
            out
        }
    };
    println!("{output}");
}
