//! What the kernel does with each request, grouped by what it serves: running cells
//! (`execution`), understanding code (`introspection`), past inputs (`history`), and the
//! kernel's own life (`control`).

/// The kernel's own `:commands` (`:vars`, `:timing`, `:help`, `:clear`).
pub mod commands;
/// kernel_info, shutdown, interrupt, comm and debug requests.
pub mod control;
/// execute_request.
pub mod execution;
/// history_request.
pub mod history;
/// complete, inspect and is_complete requests.
pub mod introspection;

use crate::protocol::message::{Message, Session};
use crate::protocol::sockets::Iopub;
use crate::stdin::Stdin;
use crate::worker::Worker;
use serde_json::json;
use std::sync::atomic::AtomicBool;
use std::sync::Mutex;

/// State shared by the handlers of all sockets.
pub struct Kernel {
    /// Names the messages this kernel makes.
    pub session: Session,
    /// Where outputs and status go.
    pub iopub: Iopub,
    /// The evaluator's thread.
    pub worker: Worker,
    /// Asks the frontend for input lines.
    pub stdin: Stdin,
    /// The cells run so far, for history_request.
    pub history: Mutex<history::History>,
    /// Whether each cell's time is shown after it (`:timing`).
    pub timing: AtomicBool,
    execution_count: Mutex<usize>,
}

/// What the socket loop does after sending the reply.
#[derive(Debug, PartialEq, Eq)]
pub enum After {
    Nothing,
    /// An execution failed with `stop_on_error`: abort the execute requests already queued.
    AbortQueued,
    /// Shut the kernel down (restarting is the frontend's job: it starts a new process).
    ShutDown,
}

/// A handler's answer: the reply to send (some messages have none) and what follows.
pub struct Handled {
    /// The reply, sent on the request's socket.
    pub reply: Option<Message>,
    /// What the server does after sending it.
    pub after: After,
}

impl Handled {
    fn reply(reply: Message) -> Handled {
        Handled {
            reply: Some(reply),
            after: After::Nothing,
        }
    }
}

impl Kernel {
    /// A kernel with no cells run yet.
    pub fn new(session: Session, iopub: Iopub, worker: Worker, stdin: Stdin) -> Kernel {
        Kernel {
            session,
            iopub,
            worker,
            stdin,
            history: Mutex::new(history::History::default()),
            timing: AtomicBool::new(false),
            execution_count: Mutex::new(0),
        }
    }

    /// Counts a new execution when it is stored in history; returns the count to show.
    pub fn next_execution_count(&self, counts: bool) -> usize {
        let mut count = self
            .execution_count
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if counts {
            *count += 1;
        }
        *count
    }

    /// Publishes a `status` message (`busy`, `idle`, `starting`) for `parent`.
    pub fn publish_status(&self, parent: &Message, state: &str) {
        self.iopub.publish(self.session.broadcast(
            &parent.header,
            "status",
            json!({"execution_state": state}),
        ));
    }

    /// Handles a shell request, framed by busy and idle on iopub.
    pub async fn handle_shell(&self, request: &Message) -> Handled {
        match request.msg_type() {
            "execute_request" => execution::execute(self, request).await,
            "is_complete_request" => introspection::is_complete(self, request),
            "complete_request" => introspection::complete(self, request).await,
            "inspect_request" => introspection::inspect(self, request).await,
            "history_request" => history::history(self, request),
            "kernel_info_request" => control::kernel_info(self, request),
            "comm_info_request" => control::comm_info(self, request),
            "shutdown_request" => control::shutdown(self, request),
            // No comms are offered: opening one is answered by closing it, as ipykernel does
            // for unknown targets; messages to it are ignored.
            "comm_open" => control::refuse_comm(self, request),
            "comm_msg" | "comm_close" => Handled {
                reply: None,
                after: After::Nothing,
            },
            other => unknown(other, "shell"),
        }
    }

    /// Handles a control request; never waits for the evaluator.
    pub async fn handle_control(&self, request: &Message) -> Handled {
        match request.msg_type() {
            "interrupt_request" => control::interrupt(self, request).await,
            "shutdown_request" => control::shutdown(self, request),
            "kernel_info_request" => control::kernel_info(self, request),
            "debug_request" => control::no_debugger(self, request),
            other => unknown(other, "control"),
        }
    }
}

fn unknown(msg_type: &str, socket: &str) -> Handled {
    eprintln!("orm-kernel: ignored a {msg_type:?} message on {socket}: not supported");
    Handled {
        reply: None,
        after: After::Nothing,
    }
}
