//! The stdin channel: a cell's read of stdin becomes an `input_request` to the frontend that
//! sent the cell (routed with its identities, as ipykernel does), and the `input_reply` the
//! line the cell reads. Only for execute requests with `allow_stdin`; an interrupt cancels a
//! pending request (the read sees end of input).

use crate::protocol::message::{Message, Session};
use crate::protocol::sockets;
use crate::protocol::wire::Signer;
use orm_eval::lock;
use serde_json::json;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;
use zeromq::RouterSocket;

/// The sender of the answer a cell waits for.
type Waiting = Arc<Mutex<Option<std::sync::mpsc::Sender<Option<String>>>>>;

/// A request for one line, for the stdin task to send.
struct Ask {
    request: Message,
    prompt: String,
    password: bool,
}

/// The kernel's end of the stdin socket.
pub struct Stdin {
    asks: mpsc::UnboundedSender<Ask>,
    waiting: Waiting,
}

impl Stdin {
    /// Serves `socket` on a task of the current runtime.
    pub fn serve(socket: RouterSocket, signer: Signer, session: Session) -> Stdin {
        let (asks, queue) = mpsc::unbounded_channel();
        let waiting: Waiting = Arc::default();
        tokio::spawn(serve(socket, signer, session, queue, Arc::clone(&waiting)));
        Stdin { asks, waiting }
    }

    /// What answers the reads of stdin of the cell `request` runs: each read asks the frontend
    /// and waits (on the evaluator's thread) for its reply.
    pub fn reader(&self, request: &Message) -> crate::worker::Stdin {
        let asks = self.asks.clone();
        let waiting = Arc::clone(&self.waiting);
        let request = request.clone();
        Box::new(move |prompt: &str, password: bool| {
            let (answer, answered) = std::sync::mpsc::channel();
            *lock(&waiting) = Some(answer);
            let ask = Ask {
                request: request.clone(),
                prompt: prompt.to_owned(),
                password,
            };
            if asks.send(ask).is_err() {
                return None;
            }
            answered.recv().ok().flatten()
        })
    }

    /// Ends a pending read with end of input (the cell is being interrupted).
    pub fn cancel(&self) {
        if let Some(answer) = lock(&self.waiting).take() {
            let _ = answer.send(None);
        }
    }
}

async fn serve(
    mut socket: RouterSocket,
    signer: Signer,
    session: Session,
    mut queue: mpsc::UnboundedReceiver<Ask>,
    waiting: Waiting,
) {
    loop {
        tokio::select! {
            ask = queue.recv() => {
                let Some(ask) = ask else { return };
                let message = session.reply(
                    &ask.request,
                    "input_request",
                    json!({"prompt": ask.prompt, "password": ask.password}),
                );
                if let Err(error) = sockets::send(&mut socket, &message, &signer).await {
                    eprintln!("orm-kernel: input_request failed: {error}");
                    if let Some(answer) = lock(&waiting).take() {
                        let _ = answer.send(None);
                    }
                }
            }
            message = sockets::recv(&mut socket, &signer, "stdin") => {
                if message.msg_type() != "input_reply" {
                    eprintln!("orm-kernel: ignored a {:?} message on stdin", message.msg_type());
                    continue;
                }
                let value = message.str_field("value").to_owned();
                if let Some(answer) = lock(&waiting).take() {
                    let _ = answer.send(Some(value));
                }
            }
        }
    }
}
