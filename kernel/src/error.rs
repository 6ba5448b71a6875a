//! Why a command of `orm-kernel` could not do its work (start a kernel, install a kernelspec, run a
//! notebook, serve as a standby): one error type, its causes kept as [`std::error::Error::source`].
//! A cell's own failure is not one of these: it is an [`orm_eval::EvalError`], shown in the cell.

use std::path::PathBuf;

/// What stopped a command; `main` prints it (with its causes) and exits with status 2.
#[derive(Debug, thiserror::Error)]
pub enum KernelError {
    /// A file or folder could not be read, written, created, removed or entered.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What was being done, e.g. "cannot read connection file".
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The connection file Jupyter wrote is not the JSON object the messaging spec describes.
    #[error("bad connection file {}: {source}", path.display())]
    BadConnectionFile {
        /// The connection file.
        path: PathBuf,
        /// What serde_json found wrong.
        #[source]
        source: serde_json::Error,
    },
    /// The connection file asks for a transport other than `tcp` (e.g. `ipc`).
    #[error("transport {0:?} is not supported (only tcp)")]
    UnsupportedTransport(String),
    /// The connection file asks for a signature scheme other than `hmac-sha256`.
    #[error("signature scheme {0:?} is not supported (only hmac-sha256)")]
    UnsupportedSignatureScheme(String),
    /// A zeromq socket could not bind its endpoint (the port is taken, the address is wrong).
    #[error("cannot bind {endpoint}: {source}")]
    Bind {
        /// The endpoint, e.g. `tcp://127.0.0.1:5555`.
        endpoint: String,
        /// zeromq's error.
        #[source]
        source: zeromq::ZmqError,
    },
    /// A message could not be sent on a socket.
    #[error("cannot send a message: {0}")]
    Send(#[source] zeromq::ZmqError),
    /// A message encoded to no frames (cannot happen for a message of the spec's shape).
    #[error("cannot send an empty message")]
    EmptyMessage,
    /// The async runtime or its signal handlers could not start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// The file given to `orm-kernel run` is not JSON.
    #[error("{} is not JSON: {source}", path.display())]
    NotJson {
        /// The notebook file.
        path: PathBuf,
        /// What serde_json found wrong.
        #[source]
        source: serde_json::Error,
    },
    /// The file given to `orm-kernel run` is JSON, but not an nbformat 4 notebook.
    #[error("{} is not an nbformat 4 notebook", path.display())]
    NotANotebook {
        /// The notebook file.
        path: PathBuf,
    },
    /// A notebook could not be written back as JSON.
    #[error("cannot write the notebook as JSON: {0}")]
    Serialize(#[source] serde_json::Error),
    /// The evaluator (evcxr with `orm` and the prelude) could not start.
    #[error(transparent)]
    Start(#[from] orm_eval::StartError),
    /// An environment variable the command needs is not set (`HOME`, `APPDATA`).
    #[error("{0} is not set")]
    MissingVariable(&'static str),
    /// `install --sys-prefix` without `$VIRTUAL_ENV` or `$CONDA_PREFIX` could not run python3.
    #[error("--sys-prefix needs python3 or $VIRTUAL_ENV: {0}")]
    NoPython(#[source] std::io::Error),
    /// python3 ran but did not print its `sys.prefix`.
    #[error("python3 did not tell its sys.prefix")]
    NoSysPrefix,
    /// The path of the running program (for the kernelspec's `argv`) is unknown.
    #[error("cannot find this program's path: {0}")]
    ProgramPath(#[source] std::io::Error),
    /// A standby's socket failed while it waited or answered.
    #[error("standby: {0}")]
    Standby(#[source] std::io::Error),
    /// A process connecting to a standby sent a line that is not a kernel's JSON request.
    #[error("standby: bad request: {0}")]
    StandbyRequest(#[source] serde_json::Error),
    /// Neither a command nor `--connection-file` was given.
    #[error("give --connection-file FILE (Jupyter does), or a command: see --help")]
    NoCommand,
}

impl KernelError {
    /// A [`KernelError::Io`] maker for `map_err`: `.map_err(KernelError::io("cannot read", &path))`.
    pub fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> KernelError {
        let path = path.into();
        move |source| KernelError::Io {
            action,
            path,
            source,
        }
    }
}
