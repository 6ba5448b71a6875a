//! Threads with a session each (issue 17): T threads insert N users each through their own
//! `Session`, committing every 1,000, into one database (a SQLite file in a temporary folder, or
//! the server `WORKLOAD_URL` names). Prints the wall-clock time and the rows that arrived, as
//! JSON, for `tests/bench_threads.sh`; `orm/benches/threads_sqlalchemy.py` does the same steps.
//!
//!     threads [--threads T] [--n N] [--runs R]      (defaults 4, 20,000, 3; the median is kept)

mod common;

use common::arg;
use orm::prelude::*;
use std::time::Instant;

#[derive(Model, Debug, Clone, Default)]
#[orm(table = "thread_users")]
pub struct ThreadUser {
    #[orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub age: Option<i64>,
}

/// Rows per commit.
const BATCH: usize = 1_000;

fn run(url: &str, threads: usize, n: usize) -> orm::Result<(f64, i64)> {
    let engine = create_engine(url)?;
    let metadata = MetaData::new().add::<ThreadUser>();
    metadata.drop_all(&engine)?;
    metadata.create_all(&engine)?;
    let started = Instant::now();
    std::thread::scope(|scope| -> orm::Result<()> {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let engine = engine.clone();
                scope.spawn(move || -> orm::Result<()> {
                    let session = Session::new(&engine);
                    for i in 0..n {
                        session.add(ThreadUser {
                            name: format!("t{t}-{i}"),
                            age: Some((i % 80) as i64),
                            ..Default::default()
                        });
                        if (i + 1) % BATCH == 0 {
                            session.commit()?;
                        }
                    }
                    session.commit()
                })
            })
            .collect();
        for worker in workers {
            worker.join().expect("a worker thread")?;
        }
        Ok(())
    })?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let rows = Session::new(&engine).query::<ThreadUser>().count()?;
    Ok((ms, rows))
}

fn main() -> orm::Result<()> {
    let threads = arg("--threads", 4);
    let n = arg("--n", 20_000);
    let runs = arg("--runs", 3).max(1);
    let folder = tempfile::tempdir()?;
    let url = std::env::var("WORKLOAD_URL")
        .unwrap_or_else(|_| format!("sqlite:///{}", folder.path().join("threads.db").display()));
    let mut times = Vec::new();
    let mut rows = 0;
    for _ in 0..runs {
        let (ms, arrived) = run(&url, threads, n)?;
        times.push(ms);
        rows = arrived;
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{{\"threads\": {threads}, \"n\": {n}, \"runs\": {runs}, \"ms\": {:.1}, \"rows\": {rows}}}",
        times[times.len() / 2]
    );
    Ok(())
}
