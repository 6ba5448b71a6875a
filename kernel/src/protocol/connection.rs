//! The connection file Jupyter writes for a kernel: where to listen and how to sign.

use crate::error::KernelError;
use serde::Deserialize;
use std::path::Path;

/// The connection file's fields (Jupyter messaging spec, "Connection files").
#[derive(Debug, Clone, Deserialize)]
pub struct ConnectionInfo {
    /// `tcp` (the only transport served).
    pub transport: String,
    /// The address to bind, e.g. `127.0.0.1`.
    pub ip: String,
    /// The shell ROUTER socket's port.
    pub shell_port: u16,
    /// The iopub PUB socket's port.
    pub iopub_port: u16,
    /// The stdin ROUTER socket's port.
    pub stdin_port: u16,
    /// The control ROUTER socket's port.
    pub control_port: u16,
    /// The heartbeat REP socket's port.
    pub hb_port: u16,
    /// The HMAC key; empty: messages are not signed.
    #[serde(default)]
    pub key: String,
    /// `hmac-sha256` (the only scheme served).
    #[serde(default = "default_scheme")]
    pub signature_scheme: String,
}

fn default_scheme() -> String {
    "hmac-sha256".to_owned()
}

impl ConnectionInfo {
    /// Reads and checks the connection file at `path`.
    ///
    /// # Errors
    ///
    /// [`KernelError::Io`] if it cannot be read, [`KernelError::BadConnectionFile`] if it is not
    /// the spec's JSON object, [`KernelError::UnsupportedTransport`] for a transport other than
    /// `tcp`, [`KernelError::UnsupportedSignatureScheme`] for a signed file whose scheme is not
    /// `hmac-sha256`.
    pub fn read(path: &Path) -> Result<ConnectionInfo, KernelError> {
        let text = std::fs::read_to_string(path)
            .map_err(KernelError::io("cannot read connection file", path))?;
        let info: ConnectionInfo =
            serde_json::from_str(&text).map_err(|source| KernelError::BadConnectionFile {
                path: path.to_owned(),
                source,
            })?;
        if info.transport != "tcp" {
            return Err(KernelError::UnsupportedTransport(info.transport));
        }
        if !info.key.is_empty() && info.signature_scheme != "hmac-sha256" {
            return Err(KernelError::UnsupportedSignatureScheme(
                info.signature_scheme,
            ));
        }
        Ok(info)
    }

    /// The zeromq endpoint for `port`.
    pub fn endpoint(&self, port: u16) -> String {
        format!("tcp://{}:{port}", self.ip)
    }
}
