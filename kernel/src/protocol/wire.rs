//! The wire format of Jupyter messages over zeromq, and their HMAC-SHA256 signatures.
//!
//! `[identities…, "<IDS|MSG>", signature, header, parent_header, metadata, content, buffers…]`,
//! where the signature is the hex HMAC of the four JSON frames under the connection file's key.

use super::message::Message;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use sha2::Sha256;

const DELIMITER: &[u8] = b"<IDS|MSG>";

/// Signs and checks messages; with an empty key (signing disabled) every signature is "".
#[derive(Clone)]
pub struct Signer {
    mac: Option<Hmac<Sha256>>,
}

impl Signer {
    /// A signer for the connection file's `key` (HMAC-SHA256; an empty key: no signing).
    pub fn new(key: &str) -> Signer {
        let mac = (!key.is_empty()).then(|| {
            // HMAC takes keys of any length; this cannot fail.
            Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC accepts any key length")
        });
        Signer { mac }
    }

    fn digest(&self, parts: &[&[u8]]) -> Option<Hmac<Sha256>> {
        let mut mac = self.mac.clone()?;
        for part in parts {
            mac.update(part);
        }
        Some(mac)
    }

    /// The hex HMAC of the header, parent header, metadata and content frames, in order.
    pub fn sign(&self, parts: &[&[u8]]) -> String {
        match self.digest(parts) {
            Some(mac) => to_hex(&mac.finalize().into_bytes()),
            None => String::new(),
        }
    }

    /// Checks in constant time.
    pub fn verify(&self, signature: &[u8], parts: &[&[u8]]) -> bool {
        match self.digest(parts) {
            None => true,
            Some(mac) => match from_hex(signature) {
                Some(bytes) => mac.verify_slice(&bytes).is_ok(),
                None => false,
            },
        }
    }
}

/// Why incoming frames were not accepted as a message (the wire format of the Jupyter
/// messaging spec: identities, `<IDS|MSG>`, signature, header, parent header, metadata, content).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// No `<IDS|MSG>` frame.
    #[error("no <IDS|MSG> delimiter")]
    NoDelimiter,
    /// Fewer than the five frames after the delimiter (signature and four JSON parts).
    #[error("{0} frames after the delimiter, 5 needed")]
    TooFewFrames(usize),
    /// The HMAC does not match the frames (checked before any JSON is read).
    #[error("bad signature")]
    BadSignature,
    /// A JSON part (named) is not a JSON object; serde_json's message, kept as text so that
    /// the error compares equal in tests.
    #[error("{0} is not a JSON object: {1}")]
    BadJson(&'static str, String),
}

/// Reads and checks a message; the signature is checked before any JSON is parsed.
pub fn decode(frames: Vec<Bytes>, signer: &Signer) -> Result<Message, WireError> {
    let split = frames
        .iter()
        .position(|f| f.as_ref() == DELIMITER)
        .ok_or(WireError::NoDelimiter)?;
    let rest = &frames[split + 1..];
    if rest.len() < 5 {
        return Err(WireError::TooFewFrames(rest.len()));
    }
    let parts: Vec<&[u8]> = rest[1..5].iter().map(|b| b.as_ref()).collect();
    if !signer.verify(&rest[0], &parts) {
        return Err(WireError::BadSignature);
    }
    let object = |index: usize, name: &'static str| {
        serde_json::from_slice::<serde_json::Value>(&rest[index])
            .map_err(|e| WireError::BadJson(name, e.to_string()))
            .and_then(|value| match value {
                serde_json::Value::Object(_) => Ok(value),
                _ => Err(WireError::BadJson(name, "not an object".to_owned())),
            })
    };
    Ok(Message {
        identities: frames[..split].to_vec(),
        header: object(1, "header")?,
        parent_header: object(2, "parent_header")?,
        metadata: object(3, "metadata")?,
        content: object(4, "content")?,
        buffers: rest[5..].to_vec(),
    })
}

/// Writes a message's frames, signed.
pub fn encode(message: &Message, signer: &Signer) -> Vec<Bytes> {
    let json = |value: &serde_json::Value| Bytes::from(value.to_string());
    let header = json(&message.header);
    let parent = json(&message.parent_header);
    let metadata = json(&message.metadata);
    let content = json(&message.content);
    let signature = signer.sign(&[&header, &parent, &metadata, &content]);
    let mut frames = message.identities.clone();
    frames.push(Bytes::from_static(DELIMITER));
    frames.push(Bytes::from(signature));
    frames.extend([header, parent, metadata, content]);
    frames.extend(message.buffers.iter().cloned());
    frames
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(text: &[u8]) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    text.chunks(2)
        .map(|pair| {
            let digit = |c: u8| (c as char).to_digit(16);
            Some((digit(pair[0])? * 16 + digit(pair[1])?) as u8)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Message {
        Message {
            identities: vec![Bytes::from_static(b"client")],
            header: json!({"msg_id": "1", "msg_type": "kernel_info_request"}),
            parent_header: json!({}),
            metadata: json!({}),
            content: json!({}),
            buffers: vec![],
        }
    }

    #[test]
    fn signed_messages_round_trip() {
        let signer = Signer::new("secret");
        let decoded = decode(encode(&sample(), &signer), &signer).unwrap();
        assert_eq!(decoded.header, sample().header);
        assert_eq!(decoded.identities, sample().identities);
    }

    #[test]
    fn forged_signatures_are_refused() {
        let frames = encode(&sample(), &Signer::new("other key"));
        assert_eq!(
            decode(frames, &Signer::new("secret")).unwrap_err(),
            WireError::BadSignature
        );
    }

    #[test]
    fn tampered_content_is_refused() {
        let signer = Signer::new("secret");
        let mut frames = encode(&sample(), &signer);
        let last = frames.len() - 1;
        frames[last] = Bytes::from_static(b"{\"code\": \"evil\"}");
        assert_eq!(
            decode(frames, &signer).unwrap_err(),
            WireError::BadSignature
        );
    }

    #[test]
    fn truncated_and_garbage_frames_are_refused() {
        let signer = Signer::new("secret");
        let frames = encode(&sample(), &signer);
        let delimiter = frames
            .iter()
            .position(|f| f.as_ref() == DELIMITER)
            .expect("an encoded message has its delimiter");
        for cut in 0..frames.len() {
            let expected = if cut <= delimiter {
                WireError::NoDelimiter
            } else {
                WireError::TooFewFrames(cut - delimiter - 1)
            };
            assert_eq!(
                decode(frames[..cut].to_vec(), &signer).unwrap_err(),
                expected,
                "cut at {cut}"
            );
        }
        let garbage = vec![
            Bytes::from_static(b"\xff\x00"),
            Bytes::from_static(b"<IDS|MSG>"),
        ];
        assert_eq!(
            decode(garbage, &signer).unwrap_err(),
            WireError::TooFewFrames(0)
        );
        assert_eq!(decode(vec![], &signer).unwrap_err(), WireError::NoDelimiter);
    }

    #[test]
    fn unsigned_json_errors_are_reported_after_the_signature_check() {
        let signer = Signer::new("");
        let mut frames = encode(&sample(), &signer);
        let last = frames.len() - 1;
        frames[last] = Bytes::from_static(b"[1, 2");
        assert!(matches!(
            decode(frames, &signer),
            Err(WireError::BadJson("content", _))
        ));
    }
}
