//! Jupyter messaging plumbing: connection file, wire format and signing, message shapes,
//! sockets. Nothing here knows what a message asks for; that is `handlers`.

pub mod connection;
pub mod message;
pub mod sockets;
pub mod wire;
