//! Runs the cells given as arguments and prints what happens: a manual probe of the evaluator.

use orm_eval::{Evaluator, EvaluatorOptions, Event};
use std::time::Instant;

fn main() {
    orm_eval::runtime_hook();
    let started = Instant::now();
    let mut evaluator = match Evaluator::start(&EvaluatorOptions::default()) {
        Ok(e) => e,
        Err(error) => {
            eprintln!("start failed: {error}");
            std::process::exit(1);
        }
    };
    println!(
        "start: {:?} {:?}",
        started.elapsed(),
        evaluator.start_report()
    );
    for cell in std::env::args().skip(1) {
        if let Some(rest) = cell.strip_prefix("@complete ") {
            let t = Instant::now();
            let r = evaluator.complete(rest, rest.len());
            println!(
                "complete {rest:?} ({:?}): {:?}",
                t.elapsed(),
                r.map(|c| (
                    c.start,
                    c.end,
                    c.matches.len(),
                    c.matches
                        .into_iter()
                        .take(12)
                        .map(|m| m.text)
                        .collect::<Vec<_>>()
                ))
            );
            continue;
        }
        if let Some(rest) = cell.strip_prefix("@inspect ") {
            let t = Instant::now();
            let r = evaluator.inspect(rest, rest.len());
            println!("inspect {rest:?} ({:?}): {:?}", t.elapsed(), r);
            continue;
        }
        let t = Instant::now();
        let mut sink = |e: Event| println!("  event {e:?}");
        let result = evaluator.eval(&cell, &mut sink);
        println!("cell {cell:?} ({:?}): {result:?}", t.elapsed());
    }
}
