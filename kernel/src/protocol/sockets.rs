//! The five zeromq sockets of a kernel and the small tasks that own the simple ones.

use super::connection::ConnectionInfo;
use super::message::Message;
use super::wire::{self, Signer};
use crate::error::KernelError;
use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};
use zeromq::{PubSocket, RepSocket, RouterSocket, Socket, SocketRecv, SocketSend, ZmqMessage};

/// The bound sockets that handlers read from and reply on.
pub struct Sockets {
    /// Requests from the frontend (execute, complete, inspect, history, ...).
    pub shell: RouterSocket,
    /// Interrupt, shutdown and debug requests, served while a cell runs.
    pub control: RouterSocket,
    /// The kernel's `input_request`s and the frontend's replies.
    pub stdin: RouterSocket,
}

/// How long a port still in use is tried again before binding fails: longer than the kernel
/// before a restart takes to let its ports go (its evaluator's shutdown waits at most 5 s).
const PORT_IN_USE_PATIENCE: std::time::Duration = std::time::Duration::from_secs(15);

/// Binds every socket; starts the heartbeat echo and the iopub publisher.
///
/// # Errors
///
/// [`KernelError::Bind`] when a socket cannot bind its endpoint (a port still in use after
/// 15 s, an address that is not this machine's).
pub async fn bind(info: &ConnectionInfo, signer: Signer) -> Result<(Sockets, Iopub), KernelError> {
    async fn bound<S: Socket>(
        mut socket: S,
        info: &ConnectionInfo,
        port: u16,
    ) -> Result<S, KernelError> {
        let endpoint = info.endpoint(port);
        let started = std::time::Instant::now();
        loop {
            match socket.bind(&endpoint).await {
                Ok(_) => return Ok(socket),
                // A restart reuses the ports of the kernel before, which may still be letting
                // them go (a standby's kernel ends its evaluator first, for up to 5 s).
                Err(zeromq::ZmqError::Network(error))
                    if error.kind() == std::io::ErrorKind::AddrInUse
                        && started.elapsed() < PORT_IN_USE_PATIENCE =>
                {
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Err(source) => return Err(KernelError::Bind { endpoint, source }),
            }
        }
    }
    let shell = bound(RouterSocket::new(), info, info.shell_port).await?;
    let control = bound(RouterSocket::new(), info, info.control_port).await?;
    let stdin = bound(RouterSocket::new(), info, info.stdin_port).await?;
    let iopub = bound(PubSocket::new(), info, info.iopub_port).await?;
    let heartbeat = bound(RepSocket::new(), info, info.hb_port).await?;
    tokio::spawn(echo_heartbeats(heartbeat));
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(publish(iopub, rx, signer));
    Ok((
        Sockets {
            shell,
            control,
            stdin,
        },
        Iopub { tx },
    ))
}

/// Heartbeats are echoed as they are: the frontend only checks that the kernel answers.
async fn echo_heartbeats(mut socket: RepSocket) {
    loop {
        match socket.recv().await {
            Ok(ping) => {
                if let Err(error) = socket.send(ping).await {
                    eprintln!("orm-kernel: heartbeat send failed: {error}");
                }
            }
            Err(error) => {
                eprintln!("orm-kernel: heartbeat receive failed: {error}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
}

enum IopubItem {
    Publish(Message),
    Flush(oneshot::Sender<()>),
}

/// The iopub broadcast channel; cheap to clone, usable from any thread.
#[derive(Clone)]
pub struct Iopub {
    tx: mpsc::UnboundedSender<IopubItem>,
}

impl Iopub {
    /// Queues `message` for the iopub socket (dropped once the kernel is shutting down).
    pub fn publish(&self, message: Message) {
        // Fails only once the publisher task is gone, i.e. while shutting down.
        let _ = self.tx.send(IopubItem::Publish(message));
    }

    /// Waits until everything published so far has been handed to zeromq, so that a reply sent
    /// next on another socket does not overtake the outputs it concludes.
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(IopubItem::Flush(done)).is_ok() {
            let _ = wait.await;
        }
    }
}

async fn publish(
    mut socket: PubSocket,
    mut items: mpsc::UnboundedReceiver<IopubItem>,
    signer: Signer,
) {
    while let Some(item) = items.recv().await {
        match item {
            IopubItem::Publish(message) => {
                if let Err(error) = send(&mut socket, &message, &signer).await {
                    eprintln!("orm-kernel: iopub send failed: {error}");
                }
            }
            IopubItem::Flush(done) => {
                let _ = done.send(());
            }
        }
    }
}

/// Signs and sends `message` on `socket`.
///
/// # Errors
///
/// [`KernelError::Send`] when zeromq cannot send it ([`KernelError::EmptyMessage`] cannot
/// happen: an encoded message always has its delimiter and five frames).
pub async fn send<S: SocketSend>(
    socket: &mut S,
    message: &Message,
    signer: &Signer,
) -> Result<(), KernelError> {
    let frames = wire::encode(message, signer);
    let zmq_message = ZmqMessage::try_from(frames).map_err(|_| KernelError::EmptyMessage)?;
    socket.send(zmq_message).await.map_err(KernelError::Send)
}

/// Receives the next well-formed, correctly signed message; anything else is logged to
/// stderr and dropped, never handled.
pub async fn recv<S: SocketRecv>(socket: &mut S, signer: &Signer, name: &str) -> Message {
    loop {
        let frames: Vec<Bytes> = match socket.recv().await {
            Ok(message) => message.into_vec(),
            Err(error) => {
                eprintln!("orm-kernel: {name} receive failed: {error}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        match wire::decode(frames, signer) {
            Ok(message) => return message,
            Err(error) => eprintln!("orm-kernel: dropped a message on {name}: {error}"),
        }
    }
}
