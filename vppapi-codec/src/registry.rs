//! Type-erased messages: one [`MessageEntry`] per message type, with its facts and functions
//! that decode any message to a [`Value`], view it, re-encode it and make seeded random
//! instances. For simulators, fuzzers and differential tests that handle every message of a
//! release without naming each type.
//!
//! The dependency goes one way: generated modules never name this module. A crate of bindings
//! builds its `registry` module (behind its `registry` feature, which turns on `reflect` and
//! `random`) from `MessageEntry::of::<M>()`; a build without it compiles none of this.

use crate::{
    decode_message, encode_message, view_message, DecodeError, EncodeError, Header, Message,
    MessageHeader, MessageKind, Random, Reflect, SmallRng, Value,
};

/// A decoded message as a tree: header fields, the body, bytes consumed.
pub type Decoded = (MessageHeader, Value, usize);

type DecodeFn = fn(&[u8]) -> Result<Decoded, DecodeError>;
type ReencodeFn = fn(&[u8]) -> Result<(Vec<u8>, usize), String>;
type RandomFn = fn(&mut SmallRng, u16, [u8; 4], u32) -> Result<(Value, Vec<u8>), EncodeError>;

/// One message type, type-erased.
#[derive(Clone, Copy)]
pub struct MessageEntry {
    /// Message name (`sw_interface_details`).
    pub name: &'static str,
    /// CRC of the definition.
    pub crc: u32,
    /// `name_crc`, as in VPP's message table.
    pub name_crc: &'static str,
    /// Request, reply, details, event or other.
    pub kind: MessageKind,
    /// Header fields after `_vl_msg_id`.
    pub header: Header,
    /// Bytes of the fixed part from `_vl_msg_id` on (the whole message when it has no tail).
    pub fixed_size: usize,
    /// Generated module (API file) it belongs to.
    pub module: &'static str,
    /// [`Message::RETVAL_OFFSET`].
    pub retval_offset: Option<usize>,
    /// [`Message::CURSOR_OFFSET`].
    pub cursor_offset: Option<usize>,
    decode: DecodeFn,
    view: DecodeFn,
    reencode: ReencodeFn,
    random: RandomFn,
}

impl core::fmt::Debug for MessageEntry {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MessageEntry")
            .field("name_crc", &self.name_crc)
            .field("kind", &self.kind)
            .field("header", &self.header)
            .field("fixed_size", &self.fixed_size)
            .field("module", &self.module)
            .finish()
    }
}

fn decode_value<M: Message + Reflect>(buf: &[u8]) -> Result<Decoded, DecodeError> {
    let (h, m, n) = decode_message::<M>(buf)?;
    Ok((h, m.to_value(), n))
}

fn view_value<M: Message + Reflect>(buf: &[u8]) -> Result<Decoded, DecodeError> {
    let (h, v, n) = view_message::<M>(buf)?;
    Ok((h, M::view_to_owned(&v)?.to_value(), n))
}

fn reencode<M: Message + PartialEq + core::fmt::Debug>(
    buf: &[u8],
) -> Result<(Vec<u8>, usize), String> {
    let (h, m, n) = decode_message::<M>(buf).map_err(|e| format!("decode: {e}"))?;
    let (_, v, vn) = view_message::<M>(buf).map_err(|e| format!("view: {e}"))?;
    let owned = M::view_to_owned(&v).map_err(|e| format!("view to_owned: {e}"))?;
    if owned != m || vn != n {
        return Err(format!("view disagrees with decode: {owned:?} != {m:?}"));
    }
    let mut out = vec![0u8; n];
    let w = encode_message(
        &m,
        h.msg_id,
        h.client_index.unwrap_or_default(),
        h.context.unwrap_or_default(),
        &mut out,
    )
    .map_err(|e| format!("re-encode: {e}"))?;
    out.truncate(w);
    Ok((out, n))
}

fn random_message<M: Message + Random + Reflect>(
    rng: &mut SmallRng,
    msg_id: u16,
    client_index: [u8; 4],
    context: u32,
) -> Result<(Value, Vec<u8>), EncodeError> {
    let m = M::random(rng);
    let mut out = vec![0u8; M::HEADER.body_offset() + m.encoded_len()];
    let n = encode_message(&m, msg_id, client_index, context, &mut out)?;
    out.truncate(n);
    Ok((m.to_value(), out))
}

impl MessageEntry {
    /// The entry of message type `M` in module `module`.
    pub const fn of<M: Message + Random + Reflect + PartialEq + core::fmt::Debug>(
        module: &'static str,
    ) -> Self {
        MessageEntry {
            name: M::NAME,
            crc: M::CRC,
            name_crc: M::NAME_CRC,
            kind: M::KIND,
            header: M::HEADER,
            fixed_size: M::HEADER.body_offset() + M::FIXED_SIZE,
            module,
            retval_offset: M::RETVAL_OFFSET,
            cursor_offset: M::CURSOR_OFFSET,
            decode: decode_value::<M>,
            view: view_value::<M>,
            reencode: reencode::<M>,
            random: random_message::<M>,
        }
    }
    /// Decode a whole message (from `_vl_msg_id` on) into a [`Value`].
    pub fn decode(&self, buf: &[u8]) -> Result<Decoded, DecodeError> {
        (self.decode)(buf)
    }
    /// Build the zero-copy view, then its owned value, as a [`Value`].
    pub fn view(&self, buf: &[u8]) -> Result<Decoded, DecodeError> {
        (self.view)(buf)
    }
    /// Decode, check the view agrees, and encode again with the same header: returns the new
    /// bytes and how many input bytes the message used (they should be equal).
    pub fn reencode(&self, buf: &[u8]) -> Result<(Vec<u8>, usize), String> {
        (self.reencode)(buf)
    }
    /// A seeded random instance: its value and its encoding with the given header fields.
    pub fn random(
        &self,
        rng: &mut SmallRng,
        msg_id: u16,
        client_index: [u8; 4],
        context: u32,
    ) -> Result<(Value, Vec<u8>), EncodeError> {
        (self.random)(rng, msg_id, client_index, context)
    }
}
