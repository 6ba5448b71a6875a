//! Serves one kernel: binds the sockets, runs the shell and control loops side by side (so an
//! interrupt arrives while a cell runs), and shuts down on request.

use crate::error::KernelError;
use crate::handlers::{execution, After, Kernel};
use crate::protocol::connection::ConnectionInfo;
use crate::protocol::message::{Message, Session};
use crate::protocol::sockets::{self, Iopub};
use crate::protocol::wire::Signer;
use crate::stdin::Stdin;
use crate::worker::{Extras, Worker};
use orm_eval::EvaluatorOptions;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use zeromq::RouterSocket;

/// How long to poll for requests that already arrived (buffered in zeromq) after a failed cell.
const ARRIVED_WINDOW: Duration = Duration::from_millis(2);

/// Serves the kernel named by `connection_file`: through a waiting standby if one answers
/// (this process then only stands for it, see `standby`), else here, starting the evaluator now.
///
/// # Errors
///
/// The connection file's errors ([`ConnectionInfo::read`]), [`KernelError::Bind`], and
/// [`KernelError::Runtime`] when the async runtime cannot start.
pub fn serve(connection_file: &Path) -> Result<(), KernelError> {
    if let Some(adopted) = crate::standby::adopt(connection_file) {
        return adopted.wait();
    }
    let info = ConnectionInfo::read(connection_file)?;
    // Before any thread exists: it may set an environment variable.
    let extras = extras_from_env();
    let worker = Worker::spawn(EvaluatorOptions::default(), extras.clone());
    serve_with(info, worker, extras, |_| {})
}

/// Serves a kernel with a worker already started; `watch` gets a sender that stops the kernel.
///
/// # Errors
///
/// [`KernelError::Runtime`] when the async runtime cannot start, [`KernelError::Bind`] when a
/// socket cannot bind.
pub fn serve_with(
    info: ConnectionInfo,
    worker: Worker,
    extras: Extras,
    watch: impl FnOnce(mpsc::UnboundedSender<()>),
) -> Result<(), KernelError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(KernelError::Runtime)?;
    let result = runtime.block_on(run(info, worker, extras, watch));
    runtime.shutdown_timeout(Duration::from_secs(1));
    result
}

async fn run(
    info: ConnectionInfo,
    worker: Worker,
    extras: Extras,
    watch: impl FnOnce(mpsc::UnboundedSender<()>),
) -> Result<(), KernelError> {
    let signer = Signer::new(&info.key);
    let (sockets, iopub): (_, Iopub) = sockets::bind(&info, signer.clone()).await?;
    let session = Session::new();
    let stdin = Stdin::serve(sockets.stdin, signer.clone(), session.clone());
    let kernel = Arc::new(Kernel::new(session, iopub, worker, stdin));
    let (stop, mut stopped) = mpsc::unbounded_channel::<()>();
    watch(stop.clone());
    tokio::spawn(serve_socket(
        Arc::clone(&kernel),
        sockets.shell,
        signer.clone(),
        Channel::Shell,
        stop.clone(),
    ));
    tokio::spawn(serve_socket(
        Arc::clone(&kernel),
        sockets.control,
        signer.clone(),
        Channel::Control,
        stop,
    ));
    tokio::spawn(interrupt_on_sigint(Arc::clone(&kernel)));
    stopped.recv().await;
    // First: Jupyter kills a kernel that has not exited 5 s after its shutdown_request, and
    // the worker may take that long (found by the lesson's temp-folder test, #21).
    if let Some(log) = &extras.statement_log {
        let _ = std::fs::remove_file(log);
    }
    kernel.iopub.flush().await;
    kernel.stdin.cancel();
    tokio::task::block_in_place(|| kernel.worker.shut_down(Duration::from_secs(5)));
    Ok(())
}

/// The kernel's additions, as the environment (the kernelspec's `env`) sets them: replaying
/// cells after the evaluation process was replaced (`ORM_KERNEL_REPLAY`, default on) and the
/// N+1 note (`ORM_KERNEL_NPLUS1`, default on). For the note, the statement log's path goes into
/// this process's environment before the evaluator starts, so that the evaluation process
/// and every engine made in it inherit it.
pub fn extras_from_env() -> Extras {
    let on = |name: &str| {
        !matches!(
            std::env::var(name).unwrap_or_default().trim(),
            "0" | "off" | "false" | "no"
        )
    };
    remove_abandoned_statement_logs();
    let statement_log = on("ORM_KERNEL_NPLUS1").then(|| {
        std::env::temp_dir().join(format!("orm-kernel-{}-statements.log", std::process::id()))
    });
    if let Some(log) = &statement_log {
        std::env::set_var(STATEMENT_LOG_VAR, log);
    }
    Extras {
        replay: on("ORM_KERNEL_REPLAY"),
        statement_log,
    }
}

/// Removes the statement logs of kernels that were killed (they remove their own on shutdown).
fn remove_abandoned_statement_logs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let pid = name
            .strip_prefix("orm-kernel-")
            .and_then(|rest| rest.strip_suffix("-statements.log"));
        if let Some(pid) = pid.filter(|pid| pid.parse::<u32>().is_ok()) {
            if !Path::new(&format!("/proc/{pid}")).exists() {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

/// Read by `orm`'s engines: where they append each statement's SQL.
const STATEMENT_LOG_VAR: &str = "ORM_STATEMENT_LOG";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Channel {
    Shell,
    Control,
}

impl Channel {
    fn name(self) -> &'static str {
        match self {
            Channel::Shell => "shell",
            Channel::Control => "control",
        }
    }
}

/// Handles the requests of one socket in order.
async fn serve_socket(
    kernel: Arc<Kernel>,
    mut socket: RouterSocket,
    signer: Signer,
    channel: Channel,
    stop: mpsc::UnboundedSender<()>,
) {
    loop {
        let request = sockets::recv(&mut socket, &signer, channel.name()).await;
        if serve_one(&kernel, &mut socket, &signer, channel, &request).await == After::ShutDown {
            let _ = stop.send(());
        }
    }
}

/// One request: busy, the handler's reply, idle (the order ipykernel keeps). After a failed
/// cell with `stop_on_error`, the execute requests that had already arrived (a "run all") are
/// answered `aborted` instead of run; other requests among them are served as usual.
async fn serve_one(
    kernel: &Kernel,
    socket: &mut RouterSocket,
    signer: &Signer,
    channel: Channel,
    request: &Message,
) -> After {
    kernel.publish_status(request, "busy");
    let handled = match channel {
        Channel::Shell => kernel.handle_shell(request).await,
        Channel::Control => kernel.handle_control(request).await,
    };
    // Collected before the failing reply goes out, so that nothing sent in answer to it counts.
    let queued = match handled.after {
        After::AbortQueued => already_arrived(socket, signer, channel).await,
        _ => Vec::new(),
    };
    if let Some(reply) = &handled.reply {
        send_reply(socket, reply, signer, channel).await;
    }
    kernel.publish_status(request, "idle");
    let mut after = handled.after;
    for waiting in queued {
        if waiting.msg_type() == "execute_request" {
            kernel.publish_status(&waiting, "busy");
            send_reply(
                socket,
                &execution::aborted(kernel, &waiting),
                signer,
                channel,
            )
            .await;
            kernel.publish_status(&waiting, "idle");
        } else if Box::pin(serve_one(kernel, socket, signer, channel, &waiting)).await
            == After::ShutDown
        {
            after = After::ShutDown;
        }
    }
    after
}

async fn send_reply(socket: &mut RouterSocket, reply: &Message, signer: &Signer, channel: Channel) {
    if let Err(error) = sockets::send(socket, reply, signer).await {
        eprintln!("orm-kernel: {} reply failed: {error}", channel.name());
    }
}

/// The requests already received by the socket, without waiting for new ones.
async fn already_arrived(
    socket: &mut RouterSocket,
    signer: &Signer,
    channel: Channel,
) -> Vec<Message> {
    let mut arrived = Vec::new();
    while let Ok(request) = tokio::time::timeout(
        ARRIVED_WINDOW,
        sockets::recv(socket, signer, channel.name()),
    )
    .await
    {
        arrived.push(request);
    }
    arrived
}

/// SIGINT (a terminal's Ctrl-C, or `interrupt_mode: signal`) interrupts the running cell
/// instead of killing the kernel.
async fn interrupt_on_sigint(kernel: Arc<Kernel>) {
    while tokio::signal::ctrl_c().await.is_ok() {
        crate::handlers::control::interrupt_cell(&kernel);
    }
}
