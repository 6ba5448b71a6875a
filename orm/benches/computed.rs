//! Columns the database computes (issue 19): N rows of a model with a `server_default`
//! timestamp inserted through the session in one commit, then every row loaded, changed and
//! committed again, which sets its `onupdate` timestamp; beside the same steps for the same
//! model without the computed columns (what the database computes is the only difference).
//! Prints the times as JSON for `tests/bench_computed.sh`; `orm/benches/computed_sqlalchemy.py`
//! runs the same steps through SQLAlchemy 2.x (`eager_defaults=True`).
//!
//!     computed [--n N] [--runs R]      (defaults 20,000 and 3; the median of each step is kept)
//!
//! The database is SQLite in memory, or the server `WORKLOAD_URL` names.

mod common;

use common::arg;
use orm::prelude::*;
use std::time::Instant;

/// A row whose creation and last update times the database writes.
#[derive(Model, Debug, Clone, Default)]
#[orm(table = "stamped")]
pub struct Stamped {
    #[orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub age: Option<i64>,
    #[orm(server_default = "CURRENT_TIMESTAMP")]
    pub created_at: Option<NaiveDateTime>,
    #[orm(onupdate = "CURRENT_TIMESTAMP")]
    pub updated_at: Option<NaiveDateTime>,
}

/// The same columns, none computed by the database.
#[derive(Model, Debug, Clone, Default)]
#[orm(table = "plain")]
pub struct Plain {
    #[orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub age: Option<i64>,
    pub created_at: Option<NaiveDateTime>,
    pub updated_at: Option<NaiveDateTime>,
}

/// Milliseconds since `started`.
fn ms(started: Instant) -> f64 {
    started.elapsed().as_secs_f64() * 1000.0
}

/// Row `i` of the benchmark.
fn stamped(i: usize) -> Stamped {
    Stamped {
        name: format!("user {i}"),
        age: Some((i % 80) as i64),
        ..Default::default()
    }
}

impl From<Stamped> for Plain {
    fn from(s: Stamped) -> Plain {
        Plain {
            id: s.id,
            name: s.name,
            age: s.age,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

/// How one model goes through the steps: made by `make(i)`, every row loaded by `load`, a loaded
/// object changed by `bump`; `is_set` says whether a new object got its computed value.
struct Steps<M, L, B, S> {
    make: M,
    load: L,
    bump: B,
    is_set: S,
}

/// The insert and update times of one run of `steps`.
fn run<T, M, L, B, S>(
    engine: &Engine,
    n: usize,
    steps: &Steps<M, L, B, S>,
) -> orm::Result<(f64, f64)>
where
    T: Model,
    M: Fn(usize) -> T,
    L: Fn(&Session) -> orm::Result<Vec<Obj<T>>>,
    B: Fn(&mut T),
    S: Fn(&T) -> bool,
{
    let Steps {
        make,
        load,
        bump,
        is_set,
    } = steps;
    let metadata = MetaData::new().add::<T>();
    metadata.drop_all(engine)?;
    metadata.create_all(engine)?;
    let session = Session::new(engine).expire_on_commit(false);
    let started = Instant::now();
    let objects = session.add_all((0..n).map(make));
    session.commit()?;
    let insert = ms(started);
    // The computed column is on every object: a run that lost it measured nothing.
    if !objects.iter().all(|o| is_set(&o.borrow())) {
        return Err(orm::Error::InvalidRequest(format!(
            "{}: a row did not get its computed value",
            T::TABLE_NAME
        )));
    }
    drop(objects);
    let session = Session::new(engine);
    let started = Instant::now();
    let loaded = load(&session)?;
    for o in &loaded {
        bump(&mut o.borrow_mut());
    }
    session.commit()?;
    let update = ms(started);
    metadata.drop_all(engine)?;
    Ok((insert, update))
}

fn median(mut times: Vec<f64>) -> f64 {
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn main() -> orm::Result<()> {
    let n = arg("--n", 20_000);
    let runs = arg("--runs", 3).max(1);
    let url = std::env::var("WORKLOAD_URL").unwrap_or_else(|_| "sqlite:///:memory:".into());
    let engine = create_engine(&url)?;
    let with_computed = Steps {
        make: stamped,
        load: |s: &Session| s.query::<Stamped>().all(),
        bump: |s: &mut Stamped| s.age = s.age.map(|a| a + 1),
        is_set: |s: &Stamped| s.created_at.is_some(),
    };
    // The same values; nothing for the database to compute.
    let without = Steps {
        make: |i| Plain::from(stamped(i)),
        load: |s: &Session| s.query::<Plain>().all(),
        bump: |p: &mut Plain| p.age = p.age.map(|a| a + 1),
        is_set: |_: &Plain| true,
    };
    let (mut computed, mut plain_times) = (vec![Vec::new(); 2], vec![Vec::new(); 2]);
    for _ in 0..runs {
        let (insert, update) = run(&engine, n, &with_computed)?;
        computed[0].push(insert);
        computed[1].push(update);
        let (insert, update) = run(&engine, n, &without)?;
        plain_times[0].push(insert);
        plain_times[1].push(update);
    }
    let [ins, upd] = [0, 1].map(|i| median(computed[i].clone()));
    let [plain_ins, plain_upd] = [0, 1].map(|i| median(plain_times[i].clone()));
    println!(
        "{{\"n\": {n}, \"runs\": {runs}, \"insert_ms\": {ins:.1}, \"update_ms\": {upd:.1}, \
         \"plain_insert_ms\": {plain_ins:.1}, \"plain_update_ms\": {plain_upd:.1}}}"
    );
    Ok(())
}
