//! Jupyter messages (protocol 5.3) as JSON values, and how replies and broadcasts are made.

use bytes::Bytes;
use serde_json::{json, Value};

/// The Jupyter messaging protocol version this kernel speaks (sent in every header).
pub const PROTOCOL_VERSION: &str = "5.3";

/// One message, frames decoded; the JSON parts stay loosely typed since clients vary.
#[derive(Debug, Clone)]
pub struct Message {
    /// zeromq routing identities of the sender (shell, control, stdin).
    pub identities: Vec<Bytes>,
    /// `msg_id`, `msg_type`, `session`, `username`, `date`, `version`.
    pub header: Value,
    /// The header of the request this message answers (`{}` for none).
    pub parent_header: Value,
    /// Free-form metadata (`{}` unless a message type defines some).
    pub metadata: Value,
    /// The message type's own fields.
    pub content: Value,
    /// Extra binary frames after the content (kept, never sent by this kernel).
    pub buffers: Vec<Bytes>,
}

/// What a kernel-made message needs to name itself.
#[derive(Debug, Clone)]
pub struct Session {
    /// A UUID, the `session` of every header this kernel makes.
    pub id: String,
}

impl Session {
    /// A session with a fresh UUID.
    pub fn new() -> Session {
        Session {
            id: uuid::Uuid::new_v4().to_string(),
        }
    }

    fn header(&self, msg_type: &str) -> Value {
        json!({
            "msg_id": uuid::Uuid::new_v4().to_string(),
            "session": self.id,
            "username": "kernel",
            "date": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "msg_type": msg_type,
            "version": PROTOCOL_VERSION,
        })
    }

    /// A reply to `request`, routed back to its sender.
    pub fn reply(&self, request: &Message, msg_type: &str, content: Value) -> Message {
        Message {
            identities: request.identities.clone(),
            header: self.header(msg_type),
            parent_header: request.header.clone(),
            metadata: json!({}),
            content,
            buffers: Vec::new(),
        }
    }

    /// A broadcast on iopub caused by the request whose header is `parent`; the topic frame
    /// is the message type, as ipykernel does.
    pub fn broadcast(&self, parent: &Value, msg_type: &str, content: Value) -> Message {
        Message {
            identities: vec![Bytes::from(format!("kernel.{}.{msg_type}", self.id))],
            header: self.header(msg_type),
            parent_header: parent.clone(),
            metadata: json!({}),
            content,
            buffers: Vec::new(),
        }
    }
}

impl Message {
    /// The header's `msg_type` ("" if missing).
    pub fn msg_type(&self) -> &str {
        self.header["msg_type"].as_str().unwrap_or("")
    }

    /// A string field of the content, "" if missing or not a string.
    pub fn str_field(&self, name: &str) -> &str {
        self.content[name].as_str().unwrap_or("")
    }

    /// A boolean field of the content, `default` if missing.
    pub fn bool_field(&self, name: &str, default: bool) -> bool {
        self.content[name].as_bool().unwrap_or(default)
    }

    /// An integer field of the content, `default` if missing or negative.
    pub fn usize_field(&self, name: &str, default: usize) -> usize {
        self.content[name]
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(default)
    }
}

/// Jupyter counts cursor positions in Unicode code points; these convert to and from bytes.
pub fn char_to_byte(text: &str, chars: usize) -> usize {
    text.char_indices()
        .nth(chars)
        .map_or(text.len(), |(index, _)| index)
}

/// The char index of byte offset `bytes` in `text` (Jupyter counts cursor positions in
/// Unicode code points since protocol 5.2; Rust strings in bytes).
pub fn byte_to_char(text: &str, bytes: usize) -> usize {
    let bytes = bytes.min(text.len());
    text.char_indices()
        .take_while(|(index, _)| *index < bytes)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_positions_convert_between_chars_and_bytes() {
        let text = "é = 1; x";
        assert_eq!(char_to_byte(text, 1), 2);
        assert_eq!(byte_to_char(text, 2), 1);
        assert_eq!(char_to_byte(text, 100), text.len());
        assert_eq!(byte_to_char(text, text.len()), text.chars().count());
    }
}
