//! The connection file Jupyter writes for a kernel: where to listen and how to sign.

use serde::Deserialize;
use std::path::Path;

#[derive(Debug, Clone, Deserialize)]
pub struct ConnectionInfo {
    pub transport: String,
    pub ip: String,
    pub shell_port: u16,
    pub iopub_port: u16,
    pub stdin_port: u16,
    pub control_port: u16,
    pub hb_port: u16,
    #[serde(default)]
    pub key: String,
    #[serde(default = "default_scheme")]
    pub signature_scheme: String,
}

fn default_scheme() -> String {
    "hmac-sha256".to_owned()
}

impl ConnectionInfo {
    pub fn read(path: &Path) -> Result<ConnectionInfo, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read connection file {}: {e}", path.display()))?;
        let info: ConnectionInfo = serde_json::from_str(&text)
            .map_err(|e| format!("bad connection file {}: {e}", path.display()))?;
        if info.transport != "tcp" {
            return Err(format!(
                "transport {:?} is not supported (only tcp)",
                info.transport
            ));
        }
        if !info.key.is_empty() && info.signature_scheme != "hmac-sha256" {
            return Err(format!(
                "signature scheme {:?} is not supported (only hmac-sha256)",
                info.signature_scheme
            ));
        }
        Ok(info)
    }

    /// The zeromq endpoint for `port`.
    pub fn endpoint(&self, port: u16) -> String {
        format!("tcp://{}:{port}", self.ip)
    }
}
