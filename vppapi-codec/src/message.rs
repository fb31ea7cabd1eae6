//! Messages: name, CRC, kind, and the `_vl_msg_id` / `client_index` / `context` header.

use super::{DecodeError, EncodeError, Wire};
use core::sync::atomic::{AtomicUsize, Ordering};

/// What role a message plays (from its name and the services block).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// A request (sent by the client).
    Request,
    /// A reply to a request.
    Reply,
    /// One record of a dump / stream.
    Details,
    /// An unsolicited event.
    Event,
    /// Anything else (e.g. `memclnt_delete`).
    Other,
}

/// Which header fields precede the message's own fields (after `_vl_msg_id`).
///
/// VPP has no generic header; by convention the first fields are `client_index` and/or
/// `context` (wire doc 2.5). Owned messages do not carry these fields: the runtime does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Header {
    /// `_vl_msg_id` only (e.g. `memclnt_delete`).
    None,
    /// `_vl_msg_id, context` (replies, details, `sockclnt_create`).
    Context,
    /// `_vl_msg_id, client_index` (events such as `sw_interface_event`).
    ClientIndex,
    /// `_vl_msg_id, client_index, context` (requests).
    ClientIndexContext,
}

impl Header {
    /// Offset of `context` from the first byte of the message, if the message has one.
    pub const fn context_offset(self) -> Option<usize> {
        match self {
            Header::Context => Some(2),
            Header::ClientIndexContext => Some(6),
            Header::None | Header::ClientIndex => None,
        }
    }
    /// Offset of `client_index`, if the message has one in its header.
    pub const fn client_index_offset(self) -> Option<usize> {
        match self {
            Header::ClientIndex | Header::ClientIndexContext => Some(2),
            Header::None | Header::Context => None,
        }
    }
    /// Offset of the first of the message's own fields.
    pub const fn body_offset(self) -> usize {
        match self {
            Header::None => 2,
            Header::Context | Header::ClientIndex => 6,
            Header::ClientIndexContext => 10,
        }
    }
}

/// A VPP API message (a `define`). Implemented by `#[derive(VppMessage)]`.
pub trait Message: Wire {
    /// The message name, e.g. `"control_ping"`.
    const NAME: &'static str;
    /// The CRC of the definition.
    const CRC: u32;
    /// `"name_crc"` with the CRC as 8 lowercase hex digits, as in VPP's message table.
    const NAME_CRC: &'static str;
    /// Request, reply, details, event or other.
    const KIND: MessageKind;
    /// Header fields before the body.
    const HEADER: Header;
    /// Offset of `context`, for routing replies without decoding them.
    const CONTEXT_OFFSET: Option<usize> = Self::HEADER.context_offset();
    /// Offset of an `i32 retval` field from the first byte of the message (`_vl_msg_id`), if
    /// the message has one: the runtime reads it in place instead of decoding the reply.
    const RETVAL_OFFSET: Option<usize> = None;
    /// Offset of a `u32 cursor` field from the first byte of the message, if it has one (the
    /// request and the reply of a cursor service).
    const CURSOR_OFFSET: Option<usize> = None;
    /// This message type's [`IdSlot`]: a process-wide dense index, so a connection caches the
    /// id VPP gave the message in a `Vec` instead of hashing its name on every call.
    fn id_slot() -> &'static IdSlot;
}

/// A dense, process-wide index of a message type, assigned the first time it is asked for
/// (the derive gives each message type one `static`).
#[derive(Debug)]
pub struct IdSlot(AtomicUsize);

static NEXT_SLOT: AtomicUsize = AtomicUsize::new(0);

impl IdSlot {
    /// An unassigned slot.
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        IdSlot(AtomicUsize::new(usize::MAX))
    }
    /// The index: small, dense over the message types a program uses, stable for its life.
    #[inline]
    pub fn index(&self) -> usize {
        let i = self.0.load(Ordering::Relaxed);
        if i != usize::MAX {
            return i;
        }
        let fresh = NEXT_SLOT.fetch_add(1, Ordering::Relaxed);
        match self
            .0
            .compare_exchange(usize::MAX, fresh, Ordering::Relaxed, Ordering::Relaxed)
        {
            Ok(_) => fresh,
            // Another thread won the race; its index stands (ours is left unused).
            Err(won) => won,
        }
    }
}

/// The facts of one message as plain data: what a simulator, a compatibility check or a CLI
/// needs without compiling any codec code. Generated bindings carry one table of these per
/// module (`MESSAGES`), always present whatever the features.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageInfo {
    /// Message name (`sw_interface_details`).
    pub name: &'static str,
    /// CRC of the definition.
    pub crc: u32,
    /// `name_crc`, as in VPP's message table.
    pub name_crc: &'static str,
    /// The API file (module) it belongs to.
    pub module: &'static str,
    /// Request, reply, details, event or other.
    pub kind: MessageKind,
    /// Header fields after `_vl_msg_id`.
    pub header: Header,
    /// Bytes of the fixed part from `_vl_msg_id` on: the whole message when it has no tail,
    /// else its minimum length (including the fixed prefix of a nested type that ends in the
    /// tail).
    pub fixed_size: usize,
    /// Whether a variable tail (VLA or variable string) follows the fixed part.
    pub has_tail: bool,
    /// Offset of `i32 retval` from `_vl_msg_id`, if any.
    pub retval_offset: Option<usize>,
    /// Offset of `u32 cursor` from `_vl_msg_id`, if any.
    pub cursor_offset: Option<usize>,
    /// `name_crc` of the reply, for a request answered by one.
    pub reply: Option<&'static str>,
    /// `name_crc` of the details, for a dump or a cursor stream.
    pub details: Option<&'static str>,
    /// `name_crc` of each event a `want_*` request turns on.
    pub events: &'static [&'static str],
    /// Whether VPP's API marks it deprecated.
    pub deprecated: bool,
}

impl MessageInfo {
    /// Offset of `context`, if the message has one.
    pub const fn context_offset(&self) -> Option<usize> {
        self.header.context_offset()
    }
}

/// Header fields of a received message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MessageHeader {
    /// `_vl_msg_id` as sent.
    pub msg_id: u16,
    /// `client_index`, verbatim, if the message has one in its header.
    pub client_index: Option<[u8; 4]>,
    /// `context` (BE), if the message has one.
    pub context: Option<u32>,
}

/// Total length of `msg` on the wire, from `_vl_msg_id` on.
pub fn message_len<M: Message>(msg: &M) -> usize {
    M::HEADER.body_offset() + msg.encoded_len()
}

/// Write `_vl_msg_id`, the header fields `M` has, and the body into `buf`; returns the length.
///
/// `client_index` is copied verbatim (it is VPP's opaque cookie); `context` is written BE.
pub fn encode_message<M: Message>(
    msg: &M,
    msg_id: u16,
    client_index: [u8; 4],
    context: u32,
    buf: &mut [u8],
) -> Result<usize, EncodeError> {
    let body = M::HEADER.body_offset();
    let need = body + msg.encoded_len();
    if buf.len() < need {
        return Err(EncodeError::BufferTooSmall {
            ty: M::NAME,
            need,
            have: buf.len(),
        });
    }
    buf[..2].copy_from_slice(&msg_id.to_be_bytes());
    if let Some(o) = M::HEADER.client_index_offset() {
        buf[o..o + 4].copy_from_slice(&client_index);
    }
    if let Some(o) = M::HEADER.context_offset() {
        buf[o..o + 4].copy_from_slice(&context.to_be_bytes());
    }
    Ok(body + msg.encode_to(&mut buf[body..need])?)
}

fn read_header<M: Message>(buf: &[u8]) -> Result<MessageHeader, DecodeError> {
    let body = M::HEADER.body_offset();
    if buf.len() < body {
        return Err(DecodeError::Truncated {
            ty: M::NAME,
            need: body,
            have: buf.len(),
        });
    }
    let be4 = |o: usize| [buf[o], buf[o + 1], buf[o + 2], buf[o + 3]];
    Ok(MessageHeader {
        msg_id: u16::from_be_bytes([buf[0], buf[1]]),
        client_index: M::HEADER.client_index_offset().map(be4),
        context: M::HEADER
            .context_offset()
            .map(|o| u32::from_be_bytes(be4(o))),
    })
}

/// Decode a whole message body (from `_vl_msg_id` on). Returns the header, the owned message
/// and the bytes consumed (frames may be longer; the rest is ignored). The id is not checked.
pub fn decode_message<M: Message>(buf: &[u8]) -> Result<(MessageHeader, M, usize), DecodeError> {
    let hdr = read_header::<M>(buf)?;
    let body = M::HEADER.body_offset();
    let (m, n) = M::decode(&buf[body..])?;
    Ok((hdr, m, body + n))
}

/// Like [`decode_message`] but returns a zero-copy view of the body.
pub fn view_message<M: Message>(
    buf: &[u8],
) -> Result<(MessageHeader, M::View<'_>, usize), DecodeError> {
    let hdr = read_header::<M>(buf)?;
    let body = M::HEADER.body_offset();
    let (v, n) = M::view(&buf[body..])?;
    Ok((hdr, v, body + n))
}

/// The `context` of a received message given its header shape, without decoding the body.
pub fn context_of(buf: &[u8], header: Header) -> Option<u32> {
    let o = header.context_offset()?;
    let b = buf.get(o..o + 4)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// A request answered by exactly one reply (`rpc a returns a_reply;`), and also the request of
/// a cursor stream (`rpc a_get returns a_get_reply stream b_details;`, whose reply ends the
/// stream) and of an event subscription (`rpc want_x returns want_x_reply events x_event;`).
/// Implemented by `#[vpp(reply = ...)]` on a `VppMessage`.
pub trait Request: Message {
    /// The reply message.
    type Reply: Message;
}

/// A request answered by a stream of details messages: a legacy dump
/// (`rpc a_dump returns stream a_details;`, ended by the client's `control_ping`) or, when the
/// type also implements [`Request`], a cursor stream ended by the reply.
/// Implemented by `#[vpp(details = ...)]` on a `VppMessage`.
pub trait Dump: Message {
    /// The details message.
    type Details: Message;
}

/// A `want_*` request that turns on events (`events x_event, ...`).
/// Implemented by `#[vpp(events(...))]` on a `VppMessage` (with `reply = ...`).
pub trait Subscribe: Request {
    /// `name_crc` of every event message the subscription turns on.
    const EVENTS: &'static [&'static str];
}
