//! Errors of the connection: everything a call, dump, stream or subscription can fail with.

use std::sync::Arc;
use std::time::Duration;

use crate::api_error::ApiError;
use crate::codec::{DecodeError, EncodeError};

/// Why a message cannot be used on the current connection (see [`crate::compat`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unavailable {
    /// VPP knows a message of this name, but with another CRC (another definition).
    DifferentCrc,
    /// VPP has no message of this name (plugin not loaded, or too old / too new).
    Missing,
}

/// An error of the async connection.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// VPP answered with a non-zero `retval`.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// No reply within the call's timeout (VPP drops bad requests without a word).
    #[error("no reply to {message} within {timeout:?}")]
    Timeout {
        /// The request's name.
        message: &'static str,
        /// The timeout that expired.
        timeout: Duration,
    },
    /// The connection broke while the call was in flight; the request may or may not have run.
    #[error("connection to VPP lost while waiting for the reply to {message}")]
    ConnectionLost {
        /// The request's name.
        message: &'static str,
    },
    /// There is no connection at the moment (the runtime keeps reconnecting in the background).
    #[error("not connected to VPP")]
    NotConnected,
    /// The connection was closed by [`crate::Connection::close`] or dropped.
    #[error("connection closed")]
    Closed,
    /// The message is not in this VPP's message table.
    #[error("{name_crc} cannot be used with this VPP: {}", match .why { Unavailable::DifferentCrc => "VPP has this message with another CRC", Unavailable::Missing => "VPP has no message of this name" })]
    Unavailable {
        /// `name_crc` of the message.
        name_crc: &'static str,
        /// Another CRC or missing.
        why: Unavailable,
    },
    /// The request could not be encoded.
    #[error("encoding {message}: {source}")]
    Encode {
        /// The request's name.
        message: &'static str,
        /// The codec's error.
        source: EncodeError,
    },
    /// A reply could not be decoded.
    #[error("decoding {message}: {source}")]
    Decode {
        /// The reply's name.
        message: &'static str,
        /// The codec's error.
        source: DecodeError,
    },
    /// A stream or subscription misuse or protocol violation (e.g. an event type the
    /// subscription does not turn on, a cursor request without a leading `cursor` field).
    #[error("{0}")]
    Usage(String),
    /// The socket handshake failed.
    #[error("handshake with VPP failed: {0}")]
    Handshake(String),
    /// Socket I/O.
    #[error("socket {path}: {source}")]
    Io {
        /// The socket path.
        path: String,
        /// The OS error.
        source: Arc<std::io::Error>,
    },
    /// [`crate::Connection::connect`] gave up after its connect timeout.
    #[error("could not connect to VPP within {timeout:?}: {last}")]
    ConnectTimeout {
        /// The connect timeout.
        timeout: Duration,
        /// The last attempt's error.
        last: String,
    },
}

impl Error {
    /// The VPP error, if the call failed with a non-zero `retval`.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e),
            _ => None,
        }
    }
}

/// Result of the connection's operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;
