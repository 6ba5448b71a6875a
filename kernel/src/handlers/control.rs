//! The kernel's own life: kernel_info, interrupt, shutdown, and the comms and debugger it does
//! not offer.

use super::{After, Handled, Kernel};
use crate::protocol::message::{Message, PROTOCOL_VERSION};
use serde_json::json;

/// kernel_info_reply: protocol 5.3, the language (Rust, the toolchain's version), help links.
pub fn kernel_info(kernel: &Kernel, request: &Message) -> Handled {
    Handled::reply(kernel.session.reply(
        request,
        "kernel_info_reply",
        json!({
            "status": "ok",
            "protocol_version": PROTOCOL_VERSION,
            "implementation": "orm-kernel",
            "implementation_version": env!("CARGO_PKG_VERSION"),
            "language_info": {
                "name": "rust",
                "version": rustc_version(),
                "mimetype": "text/rust",
                "file_extension": ".rs",
                "pygments_lexer": "rust",
                "codemirror_mode": "rust",
            },
            "banner": format!(
                "orm-kernel {}: Rust cells run by evcxr, with `use orm::prelude::*;` in scope",
                env!("CARGO_PKG_VERSION")
            ),
            "help_links": [
                {"text": "The Rust Book", "url": "https://doc.rust-lang.org/book/"},
                {"text": "Rust standard library", "url": "https://doc.rust-lang.org/std/"},
                {"text": "evcxr", "url": "https://github.com/evcxr/evcxr"},
            ],
            "debugger": false,
        }),
    ))
}

/// The version of the rustc that compiles cells, asked once.
fn rustc_version() -> &'static str {
    static VERSION: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    VERSION.get_or_init(|| {
        std::process::Command::new("rustc")
            .arg("--version")
            .output()
            .ok()
            .and_then(|out| String::from_utf8(out.stdout).ok())
            .and_then(|text| text.split_whitespace().nth(1).map(str::to_owned))
            .unwrap_or_default()
    })
}

/// Stops the running cell.
pub async fn interrupt(kernel: &Kernel, request: &Message) -> Handled {
    interrupt_cell(kernel);
    Handled::reply(
        kernel
            .session
            .reply(request, "interrupt_reply", json!({"status": "ok"})),
    )
}

/// Killing the evaluation process may wait briefly for evcxr's lock on it, so the async
/// thread is handed over to other tasks meanwhile.
pub fn interrupt_cell(kernel: &Kernel) {
    // A cell waiting for a line of input is interrupted too: its read sees end of input.
    kernel.stdin.cancel();
    if tokio::task::block_in_place(|| kernel.worker.interrupt()) {
        eprintln!("orm-kernel: interrupted the running cell");
    }
}

/// shutdown_reply, then the server stops the kernel.
pub fn shutdown(kernel: &Kernel, request: &Message) -> Handled {
    let restart = request.bool_field("restart", false);
    Handled {
        reply: Some(kernel.session.reply(
            request,
            "shutdown_reply",
            json!({"status": "ok", "restart": restart}),
        )),
        after: After::ShutDown,
    }
}

/// comm_info_reply: no comms are open.
pub fn comm_info(kernel: &Kernel, request: &Message) -> Handled {
    Handled::reply(kernel.session.reply(
        request,
        "comm_info_reply",
        json!({"status": "ok", "comms": {}}),
    ))
}

/// No comm targets exist: a comm_open is answered with comm_close on iopub.
pub fn refuse_comm(kernel: &Kernel, request: &Message) -> Handled {
    let comm_id = request.str_field("comm_id");
    kernel.iopub.publish(kernel.session.broadcast(
        &request.header,
        "comm_close",
        json!({"comm_id": comm_id, "data": {}}),
    ));
    Handled {
        reply: None,
        after: After::Nothing,
    }
}

/// debug_reply for a kernel without a debugger (`metadata.debugger` is false).
pub fn no_debugger(kernel: &Kernel, request: &Message) -> Handled {
    Handled::reply(kernel.session.reply(
        request,
        "debug_reply",
        json!({"status": "error", "ename": "NotSupported", "evalue": "this kernel has no debugger", "traceback": []}),
    ))
}
