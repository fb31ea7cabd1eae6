//! The socket transport: connect to VPP's API socket and do the `sockclnt_create` handshake
//! (wire doc 4.4). Both transports start here.

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use tokio::net::UnixStream;

use super::frame::{append_frame, msg_id, FrameBuf, FrameError};
use crate::codec::decode_message;
use crate::compat::MessageTable;
use crate::error::{Error, Result};
use crate::memclnt::{
    SockclntCreate, SockclntCreateReply, SOCKCLNT_CREATE_ID, SOCKCLNT_CREATE_REPLY_ID,
};

/// Context of `sockclnt_create`: vpp_papi's constant, so our handshake bytes equal its.
pub const HANDSHAKE_CONTEXT: u32 = 124;

/// A connected, registered socket.
pub(crate) struct Handshake {
    pub stream: UnixStream,
    /// What was read after the reply (normally nothing): the reader starts from it.
    pub buf: FrameBuf,
    /// `sockclnt_create_reply.index` as the 4 bytes requests carry.
    pub client_index: [u8; 4],
    pub table: MessageTable,
}

pub(crate) fn io_err(path: &Path, e: std::io::Error) -> Error {
    Error::Io {
        path: path.display().to_string(),
        source: Arc::new(e),
    }
}

/// Write all of `bytes` to a shared stream (readiness loop; no `&mut` needed).
pub(crate) async fn write_all(stream: &UnixStream, mut bytes: &[u8]) -> std::io::Result<()> {
    while !bytes.is_empty() {
        match stream.try_write(bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                stream.writable().await?;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The next frame from a shared stream, or `None` at a clean end of stream.
pub(crate) async fn read_frame(
    stream: &UnixStream,
    buf: &mut FrameBuf,
) -> std::result::Result<Option<Bytes>, FrameError> {
    loop {
        if let Some(f) = buf.next_frame()? {
            return Ok(Some(f));
        }
        match stream.try_read_buf(buf.spare()) {
            Ok(0) => {
                return match buf.eof_error() {
                    None => Ok(None),
                    Some(e) => Err(e),
                }
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                stream.readable().await?;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Connect and register (`sockclnt_create`).
pub(crate) async fn connect(path: &Path, name: &str, max_frame_len: usize) -> Result<Handshake> {
    let stream = UnixStream::connect(path)
        .await
        .map_err(|e| io_err(path, e))?;
    let mut hello = Vec::with_capacity(86);
    let create = SockclntCreate { name: name.into() };
    append_frame(
        &mut hello,
        &create,
        SOCKCLNT_CREATE_ID,
        [0; 4],
        HANDSHAKE_CONTEXT,
    )
    .map_err(|e| Error::Encode {
        message: "sockclnt_create",
        source: e,
    })?;
    write_all(&stream, &hello)
        .await
        .map_err(|e| io_err(path, e))?;
    let mut buf = FrameBuf::new(max_frame_len);
    let reply = loop {
        let frame = read_frame(&stream, &mut buf)
            .await
            .map_err(|e| Error::Handshake(e.to_string()))?
            .ok_or_else(|| Error::Handshake("VPP closed the socket during the handshake".into()))?;
        if msg_id(&frame) == SOCKCLNT_CREATE_REPLY_ID {
            break frame;
        }
        tracing::debug!(
            id = msg_id(&frame),
            "message before sockclnt_create_reply ignored"
        );
    };
    let (hdr, r, _) = decode_message::<SockclntCreateReply>(&reply)
        .map_err(|e| Error::Handshake(format!("sockclnt_create_reply: {e}")))?;
    if r.response != 0 {
        return Err(Error::Handshake(format!(
            "sockclnt_create_reply response {}",
            r.response
        )));
    }
    if hdr.context != Some(HANDSHAKE_CONTEXT) {
        tracing::warn!(context = ?hdr.context, "sockclnt_create_reply with another context");
    }
    let table = MessageTable::new(r.message_table.iter().map(|e| (e.index, e.name.as_str())));
    Ok(Handshake {
        stream,
        buf,
        client_index: r.index.to_be_bytes(),
        table,
    })
}
