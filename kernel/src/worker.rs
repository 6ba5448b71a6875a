//! The thread that owns the evaluator. evcxr blocks while it compiles and runs, so every
//! evaluation, completion and inspection runs here, one at a time, while the sockets stay served.

use orm_eval::{
    Completions, EvalError, Evaluator, EvaluatorOptions, Event, Inspection, Interrupter, Outputs,
};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;

/// Receives what a running cell shows.
pub type Sink = Box<dyn FnMut(Event) + Send>;

enum Job {
    Execute {
        code: String,
        sink: Sink,
        reply: oneshot::Sender<Result<Outputs, EvalError>>,
    },
    Complete {
        code: String,
        cursor: usize,
        reply: oneshot::Sender<Result<Completions, EvalError>>,
    },
    Inspect {
        code: String,
        cursor: usize,
        reply: oneshot::Sender<Result<Option<Inspection>, EvalError>>,
    },
}

pub struct Worker {
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    interrupter: Arc<Mutex<Option<Interrupter>>>,
    finished: Mutex<Option<mpsc::Receiver<()>>>,
}

impl Worker {
    /// Starts the thread; the evaluator starts on it at once (building `orm` on a first run), and
    /// requests wait for it.
    pub fn spawn(options: EvaluatorOptions) -> Worker {
        let (jobs, queue) = mpsc::channel();
        let (finished_tx, finished) = mpsc::channel();
        let interrupter = Arc::new(Mutex::new(None));
        let slot = Arc::clone(&interrupter);
        std::thread::Builder::new()
            .name("evaluator".into())
            .spawn(move || {
                run(options, queue, slot);
                let _ = finished_tx.send(());
            })
            .expect("the evaluator thread could not be started");
        Worker {
            jobs: Mutex::new(Some(jobs)),
            interrupter,
            finished: Mutex::new(Some(finished)),
        }
    }

    pub async fn execute(&self, code: String, sink: Sink) -> Result<Outputs, EvalError> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Execute { code, sink, reply });
        answer.await.unwrap_or_else(|_| Err(gone()))
    }

    pub async fn complete(&self, code: String, cursor: usize) -> Result<Completions, EvalError> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Complete {
            code,
            cursor,
            reply,
        });
        answer.await.unwrap_or_else(|_| Err(gone()))
    }

    pub async fn inspect(
        &self,
        code: String,
        cursor: usize,
    ) -> Result<Option<Inspection>, EvalError> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Inspect {
            code,
            cursor,
            reply,
        });
        answer.await.unwrap_or_else(|_| Err(gone()))
    }

    /// Stops the running cell, if any (blocks briefly: call it off the async threads).
    pub fn interrupt(&self) -> bool {
        let interrupter = lock(&self.interrupter).clone();
        interrupter.is_some_and(|i| i.interrupt())
    }

    /// Stops taking jobs, stops a running cell, and waits (at most `patience`) for the evaluator
    /// to end its process and remove its working folder.
    pub fn shut_down(&self, patience: Duration) {
        lock(&self.jobs).take();
        self.interrupt();
        if let Some(finished) = lock(&self.finished).take() {
            let _ = finished.recv_timeout(patience);
        }
    }

    fn submit(&self, job: Job) {
        // Without a sender (shutting down) the job is dropped and its reply reports `gone`.
        if let Some(jobs) = lock(&self.jobs).as_ref() {
            let _ = jobs.send(job);
        }
    }
}

fn gone() -> EvalError {
    EvalError::Other("the evaluator has stopped".to_owned())
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn run(
    options: EvaluatorOptions,
    queue: mpsc::Receiver<Job>,
    slot: Arc<Mutex<Option<Interrupter>>>,
) {
    let mut evaluator = match Evaluator::start(&options) {
        Ok(evaluator) => evaluator,
        Err(error) => {
            eprintln!("orm-kernel: the evaluator did not start: {error}");
            answer_failed_start(&queue, &error.to_string());
            return;
        }
    };
    log_start(&evaluator);
    *lock(&slot) = Some(evaluator.interrupter());
    while let Ok(job) = queue.recv() {
        match job {
            Job::Execute {
                code,
                mut sink,
                reply,
            } => {
                let _ = reply.send(evaluator.eval(&code, &mut *sink));
            }
            Job::Complete {
                code,
                cursor,
                reply,
            } => {
                let _ = reply.send(evaluator.complete(&code, cursor));
            }
            Job::Inspect {
                code,
                cursor,
                reply,
            } => {
                let _ = reply.send(evaluator.inspect(&code, cursor));
            }
        }
    }
}

/// Without an evaluator every request gets the start error, so the notebook shows why.
fn answer_failed_start(queue: &mpsc::Receiver<Job>, message: &str) {
    let error = || EvalError::Other(format!("the Rust evaluator did not start: {message}"));
    while let Ok(job) = queue.recv() {
        match job {
            Job::Execute { reply, .. } => drop(reply.send(Err(error()))),
            Job::Complete { reply, .. } => drop(reply.send(Err(error()))),
            Job::Inspect { reply, .. } => drop(reply.send(Err(error()))),
        }
    }
}

fn log_start(evaluator: &Evaluator) {
    let report = evaluator.start_report();
    eprintln!(
        "orm-kernel: evaluator ready in {:.1} s ({}: copy {:.2} s, context {:.1} s, prelude {:.1} s, save {:.2} s)",
        report.total.as_secs_f64(),
        report.cache.describe(),
        report.copy.as_secs_f64(),
        report.context.as_secs_f64(),
        report.prelude.as_secs_f64(),
        report.save.as_secs_f64(),
    );
    for note in &report.notes {
        eprintln!("orm-kernel: note: {note}");
    }
}
