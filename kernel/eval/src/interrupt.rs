//! Stopping a running cell from another thread (Jupyter's interrupt, a grader's time limit).

use crate::evaluator::lock;
use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A handle that stops the cell an [`crate::Evaluator`] is running, usable from any thread.
///
/// Interrupting kills the evaluation process (evcxr runs cells in a subprocess); evcxr starts a
/// new one, so every variable is lost. Interrupting while no cell runs does nothing.
#[derive(Clone)]
pub struct Interrupter {
    shared: Arc<Shared>,
}

struct Shared {
    /// evcxr's handle; it stays valid across evcxr's restarts of the process.
    process: Arc<Mutex<Child>>,
    state: Mutex<RunState>,
}

#[derive(Default)]
struct RunState {
    running: bool,
    interrupted: bool,
}

impl Interrupter {
    pub(crate) fn new(process: Arc<Mutex<Child>>) -> Self {
        Interrupter {
            shared: Arc::new(Shared {
                process,
                state: Mutex::new(RunState::default()),
            }),
        }
    }

    /// Stops the running cell, if any. Returns whether a cell was running.
    pub fn interrupt(&self) -> bool {
        let mut state = lock(&self.shared.state);
        if !state.running {
            return false;
        }
        state.interrupted = true;
        // evcxr holds this lock only briefly (restarts, waiting for a process that already
        // ended); a bounded wait keeps a stuck evcxr from freezing the caller (the control socket).
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            if let Ok(mut child) = self.shared.process.try_lock() {
                let _ = child.kill();
                return true;
            }
            if Instant::now() > deadline {
                return true;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Marks a cell as running.
    pub(crate) fn begin(&self) {
        let mut state = lock(&self.shared.state);
        state.running = true;
        state.interrupted = false;
    }

    /// Marks the cell as done; returns whether it was interrupted.
    pub(crate) fn end(&self) -> bool {
        let mut state = lock(&self.shared.state);
        state.running = false;
        std::mem::take(&mut state.interrupted)
    }
}
