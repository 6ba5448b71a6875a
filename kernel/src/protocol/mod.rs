//! Jupyter messaging plumbing: connection file, wire format and signing, message shapes,
//! sockets. Nothing here knows what a message asks for; that is `handlers`.

/// The connection file.
pub mod connection;
/// Messages and how they are made.
pub mod message;
/// The five sockets.
pub mod sockets;
/// The wire format and its signatures.
pub mod wire;
