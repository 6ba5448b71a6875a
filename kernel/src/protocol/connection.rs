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

#[cfg(test)]
mod tests {
    use super::ConnectionInfo;
    use crate::error::KernelError;
    use std::path::PathBuf;

    /// A connection file with `text`, in a folder of this test process.
    fn file(name: &str, text: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("orm-kernel-connection-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    const PORTS: &str = r#""ip": "127.0.0.1", "shell_port": 1, "iopub_port": 2, "stdin_port": 3,
        "control_port": 4, "hb_port": 5"#;

    #[test]
    fn a_valid_file_is_read_with_the_default_scheme() {
        let path = file(
            "ok.json",
            &format!(r#"{{"transport": "tcp", {PORTS}, "key": "k"}}"#),
        );
        let info = ConnectionInfo::read(&path).unwrap();
        assert_eq!((info.shell_port, info.hb_port), (1, 5));
        assert_eq!(info.signature_scheme, "hmac-sha256");
        assert_eq!(info.endpoint(info.iopub_port), "tcp://127.0.0.1:2");
    }

    #[test]
    fn each_fault_is_its_own_error_naming_the_file_or_the_value() {
        let missing = std::env::temp_dir().join("orm-kernel-no-such-connection-file.json");
        match ConnectionInfo::read(&missing) {
            Err(KernelError::Io {
                action,
                path,
                source,
            }) => {
                assert_eq!(action, "cannot read connection file");
                assert_eq!(path, missing);
                assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
            }
            other => panic!("expected Io, got {other:?}"),
        }
        let bad = file("bad.json", "{\"transport\": ");
        match ConnectionInfo::read(&bad) {
            Err(error @ KernelError::BadConnectionFile { .. }) => {
                assert!(error.to_string().starts_with("bad connection file "));
                // serde_json's error is kept as the cause.
                let source = std::error::Error::source(&error).expect("a source");
                assert!(source.is::<serde_json::Error>());
            }
            other => panic!("expected BadConnectionFile, got {other:?}"),
        }
        let ipc = file("ipc.json", &format!(r#"{{"transport": "ipc", {PORTS}}}"#));
        match ConnectionInfo::read(&ipc) {
            Err(KernelError::UnsupportedTransport(transport)) => assert_eq!(transport, "ipc"),
            other => panic!("expected UnsupportedTransport, got {other:?}"),
        }
        let md5 = file(
            "md5.json",
            &format!(
                r#"{{"transport": "tcp", {PORTS}, "key": "k", "signature_scheme": "hmac-md5"}}"#
            ),
        );
        match ConnectionInfo::read(&md5) {
            Err(KernelError::UnsupportedSignatureScheme(scheme)) => assert_eq!(scheme, "hmac-md5"),
            other => panic!("expected UnsupportedSignatureScheme, got {other:?}"),
        }
    }
}
