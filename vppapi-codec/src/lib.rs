//! # The VPP binary-API codec
//!
//! VPP messages are packed C structs: no padding, big-endian integers, `f64` in little-endian
//! (VPP's host order), `bool` as one byte, fixed strings `string x[N]` as N NUL-padded bytes,
//! variable strings as a big-endian `u32` length plus bytes, VLAs whose element count lives in an
//! earlier sibling field, and unions zero-padded to their largest arm (see
//! `vpp-wire.md`, section 2). Every message therefore is a *fixed prefix* followed by at most one
//! *variable tail* (a VLA, a variable string, or a typedef that itself ends in one).
//!
//! The codec mirrors that shape:
//!
//! * [`Fixed`] is implemented by every type of constant size (scalars, enums, flags, aliases,
//!   unions, typedefs without a tail, arrays of them). Its `Raw` type has exactly the wire
//!   layout: a `zerocopy` byte-order-aware scalar (`U32<BigEndian>`) for the base types, and
//!   `[u8; N]` for typedefs and messages, whose fields sit at constant offsets
//!   (`X::__VPP_ENDS`, folded by the compiler). The fixed prefix is read in place: no parsing,
//!   no copy, O(1).
//! * [`Wire`] is implemented by every type that can be encoded: `encoded_len` is exact,
//!   `encode_to` writes straight into the caller's buffer (no allocation), `decode` builds the
//!   owned value, and `view` gives a borrowed, length-checked window over received bytes whose
//!   accessors read fields on demand (VLAs and strings are iterated/borrowed, not copied).
//!   Every `Fixed` type is `Wire` through a blanket impl.
//! * [`Message`] adds the name, CRC, kind and header shape; [`encode_message`] /
//!   [`decode_message`] / [`view_message`] write and read whole bodies including `_vl_msg_id`
//!   and the `client_index` / `context` header, which owned messages do not carry.
//!
//! The derives in `vppapi-derive` (re-exported here) generate all of it from a plain struct:
//!
//! ```
//! use vppapi_codec::{decode_message, encode_message, Message, Wire};
//! use vppapi_codec::{net::InterfaceIndex, VppMessage, VppType};
//!
//! /// `typedef my_counter { u32 id; string name[16]; }`
//! #[derive(Debug, Clone, PartialEq, VppType)]
//! #[vpp(name = "my_counter")]
//! pub struct MyCounter {
//!     pub id: u32,
//!     #[vpp(string = 16)]
//!     pub name: String,
//! }
//!
//! /// `define my_plugin_set { u32 client_index; u32 context; interface_index sw_if_index;
//! ///   bool enable [default=true]; u8 n_counters; my_counter counters[n_counters]; }`
//! #[derive(Debug, Clone, PartialEq, VppMessage)]
//! #[vpp(name = "my_plugin_set", crc = 0x12345678, kind = "request")]
//! pub struct MyPluginSet {
//!     pub sw_if_index: InterfaceIndex,
//!     #[vpp(default = true)]
//!     pub enable: bool,
//!     /// The count field `n_counters` is not a struct field: it is written from `counters.len()`.
//!     #[vpp(count = "n_counters", count_ty = "u8")]
//!     pub counters: Vec<MyCounter>,
//! }
//!
//! let msg = MyPluginSet {
//!     sw_if_index: InterfaceIndex(1),
//!     counters: vec![MyCounter { id: 7, name: "rx".into() }],
//!     ..Default::default()
//! };
//! assert!(msg.enable); // `default = true` applied by `Default`
//! assert_eq!(MyPluginSet::NAME_CRC, "my_plugin_set_12345678");
//!
//! let mut buf = [0u8; 64];
//! let n = encode_message(&msg, 0x0123, [0x80, 0, 0, 1], 42, &mut buf).unwrap();
//! assert_eq!(n, 2 + 4 + 4 + 4 + 1 + 1 + 20);
//! assert_eq!(&buf[..2], &[0x01, 0x23]);
//!
//! let (hdr, back, used) = decode_message::<MyPluginSet>(&buf[..n]).unwrap();
//! assert_eq!((hdr.context, used), (Some(42), n));
//! assert_eq!(back, msg);
//!
//! // Zero-copy: a view validates the lengths once and reads fields in place.
//! let (view, _) = MyPluginSet::view(&buf[10..n]).unwrap();
//! assert_eq!(view.counters().len(), 1);
//! assert_eq!(view.counters().get(0).unwrap().name().unwrap(), "rx");
//! assert_eq!(view.to_owned().unwrap(), msg);
//! ```
//!
//! Decoding is defensive: truncated input, counts beyond the frame and invalid UTF-8 are
//! [`DecodeError`]s, and frames longer than the type are accepted (the extra bytes are reported
//! through the returned length, never read). VLA counts are checked against the frame before
//! anything is allocated.
//!
//! ## Decisions where the wire leaves room
//!
//! * **Strings** are `String`: invalid UTF-8 is a decode error (owned decode, and the view's
//!   string accessors; building a view checks lengths only). A fixed string is cut at its first
//!   NUL; if all N bytes are non-NUL, decode keeps all N bytes (lenient receive) while encode
//!   refuses more than N-1 bytes (VPP needs the NUL). Encode never truncates silently.
//! * **bool**: any non-zero byte decodes as `true` (VPP tests `!= 0`) and encodes as 1.
//! * **Enums and flags** are newtypes over their integer (`IfType(pub u32)` with associated
//!   consts): unknown values and bits are kept and re-encoded unchanged.
//! * **Plain unions** are their bytes (`AddressUnion(pub [u8; 16])`) with a getter and a
//!   constructor per arm: nothing on the wire says which arm is valid, so nothing is lost.
//! * **Discriminated unions** (26.06 `discriminator`, e.g. `address`) are Rust enums
//!   ([`net::Address`]): the tag picks the variant; an unknown tag is kept in the `Other`
//!   variant with the raw union bytes. A known case keeps only its arm: padding bytes after a
//!   shorter arm (e.g. bytes 4..16 of an IPv4 address) are re-encoded as zeros, as VPP and
//!   vpp_papi write them.
//! * **VLA counts and string lengths** are not struct fields: they are written from the
//!   collection's length (an error if it does not fit the count's type or a `limit=`).
//! * **Header**: owned messages carry neither `_vl_msg_id` nor the leading `client_index` /
//!   `context`; [`Message::HEADER`] says which of them the message has. A `client_index` that is
//!   an ordinary later field (e.g. `control_ping_reply`'s junk one) stays a struct field.
//! * `Default` applies `default=` values; derives implement it (do not also derive `Default`).
//!   A bare literal default is typed as the field's base type (`4294967295` for an
//!   `InterfaceIndex`, `255` for an enum over `u8`); other expressions go through `From`.
//!
//! ## Generated items per type `X`
//!
//! `XView<'a>` (accessors named like the fields; fixed/variable strings also get
//! `NAME_bytes()`; VLAs return [`VlaView`]; `as_raw()` gives the fixed part's bytes;
//! `to_owned()`; for `{ i32 retval }` and empty messages an alias of the shared [`RetvalView`]
//! / [`EmptyView`]), the hidden layout constants, and impls of [`Fixed`] or [`Wire`], [`Message`] (messages, with
//! the layout's facts as constants: `RETVAL_OFFSET`, `CURSOR_OFFSET`, the context offset),
//! `Default` and [`WireDefault`]. `#[derive(VppReflect)]` and `#[derive(VppRandom)]` add
//! [`Reflect`] and [`Random`]; generated bindings put them behind features (`reflect`,
//! `random`) so that a build which does not need them does not compile them.
//!
//! Every generated method is `#[inline]`: nothing is compiled into machine code until a
//! program uses it, so a crate of bindings for 2000 messages costs its users only the messages
//! they send and receive.
//!
//! Enums and flags get consts, `KNOWN`,
//! `Debug` (and for flags `Display` as `A|B|0x8`, `|`, `&`, `contains`); unions an accessor and
//! `from_ARM` per arm. Aliases of base types and byte arrays must derive `Clone, Copy` (their
//! view is the value itself).

// The derives emit `::vppapi_codec::...` paths; this lets the crate use them on its own types.
extern crate self as vppapi_codec;

pub mod api_errno;
mod error;
mod message;
pub mod net;
mod random;
pub mod registry;
mod scalar;
mod shared;
mod value;
mod vla;

#[doc(hidden)]
pub mod __private;

pub use error::{DecodeError, EncodeError};
pub use message::{
    context_of, decode_message, encode_message, message_len, view_message, Dump, Header, IdSlot,
    Message, MessageHeader, MessageInfo, MessageKind, Request, Subscribe,
};
pub use net::{
    Address, AddressFamily, AddressUnion, AddressWithPrefix, InterfaceIndex, Ip4Address, Ip4Prefix,
    Ip6Address, Ip6Prefix, MacAddress, Prefix,
};
pub use random::{Random, SmallRng};
pub use scalar::ArrayView;
pub use shared::{EmptyView, RetvalView};
pub use value::{Reflect, Value};
pub use vla::VlaView;
pub use vppapi_derive::{
    VppEnum, VppFlags, VppMessage, VppRandom, VppReflect, VppTagged, VppType, VppUnion,
};

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

/// A type of constant wire size whose bytes can be read in place.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a fixed-size VPP wire type",
    label = "not a fixed-size VPP type",
    note = "VPP field types are u8..u64, i8..i64, f64, bool, [T; N] and types with a Vpp* derive",
    note = "a typedef ending in a VLA or variable string must be the last field, marked #[vpp(tail)]"
)]
pub trait Fixed: Sized {
    /// The wire layout as a `zerocopy` struct (alignment 1, no padding).
    type Raw: FromBytes + IntoBytes + KnownLayout + Immutable + Unaligned;
    /// What a view accessor returns for a field of this type: the value itself for scalars,
    /// enums, flags and small aliases, a borrowed view for typedefs, unions and arrays.
    type View<'a>: Copy
    where
        Self: 'a;
    /// The VPP name of the type (for error messages).
    const WIRE_NAME: &'static str;
    /// Wire size in bytes.
    const SIZE: usize = core::mem::size_of::<Self::Raw>();

    /// Owned value from its wire bytes (fails only on invalid UTF-8 in fixed strings).
    fn from_raw(raw: &Self::Raw) -> Result<Self, DecodeError>;
    /// Write every byte of `raw` (padding included).
    fn to_raw(&self, raw: &mut Self::Raw) -> Result<(), EncodeError>;
    /// The view of in-place wire bytes.
    fn view_raw(raw: &Self::Raw) -> Self::View<'_>;
    /// Owned value from a view.
    fn view_to_owned(view: &Self::View<'_>) -> Result<Self, DecodeError>;
}

/// A type that can be encoded to and decoded from VPP wire bytes.
pub trait Wire: Sized {
    /// Borrowed, length-checked view of the wire bytes.
    type View<'a>: Copy
    where
        Self: 'a;
    /// The VPP name of the type.
    const WIRE_NAME: &'static str;
    /// Size of the fixed prefix (the whole size for [`Fixed`] types): the minimum input length.
    const FIXED_SIZE: usize;

    /// Exact number of bytes [`Wire::encode_to`] writes.
    fn encoded_len(&self) -> usize;
    /// Encode into the front of `buf`; returns the bytes written (= `encoded_len`).
    fn encode_to(&self, buf: &mut [u8]) -> Result<usize, EncodeError>;
    /// Decode an owned value from the front of `buf`; returns it and the bytes consumed.
    fn decode(buf: &[u8]) -> Result<(Self, usize), DecodeError>;
    /// Validate lengths once (O(1) for fixed-size VLA elements) and borrow `buf`.
    fn view(buf: &[u8]) -> Result<(Self::View<'_>, usize), DecodeError>;
    /// Owned value from a view.
    fn view_to_owned(view: &Self::View<'_>) -> Result<Self, DecodeError>;

    /// Encode into a new `Vec` (convenience; the hot path is [`Wire::encode_to`]).
    fn encode_to_vec(&self) -> Result<Vec<u8>, EncodeError> {
        let mut v = vec![0u8; self.encoded_len()];
        let n = self.encode_to(&mut v)?;
        v.truncate(n);
        Ok(v)
    }
}

impl<T: Fixed> Wire for T {
    type View<'a>
        = <T as Fixed>::View<'a>
    where
        T: 'a;
    const WIRE_NAME: &'static str = <T as Fixed>::WIRE_NAME;
    const FIXED_SIZE: usize = <T as Fixed>::SIZE;

    #[inline]
    fn encoded_len(&self) -> usize {
        T::SIZE
    }
    #[inline]
    fn encode_to(&self, buf: &mut [u8]) -> Result<usize, EncodeError> {
        let (raw, _) = __private::split_raw_mut::<T::Raw>(buf, T::WIRE_NAME)?;
        self.to_raw(raw)?;
        Ok(T::SIZE)
    }
    #[inline]
    fn decode(buf: &[u8]) -> Result<(Self, usize), DecodeError> {
        let (raw, _) = __private::split_raw::<T::Raw>(buf, T::WIRE_NAME)?;
        Ok((T::from_raw(raw)?, T::SIZE))
    }
    #[inline]
    fn view(buf: &[u8]) -> Result<(Self::View<'_>, usize), DecodeError> {
        let (raw, _) = __private::split_raw::<T::Raw>(buf, T::WIRE_NAME)?;
        Ok((T::view_raw(raw), T::SIZE))
    }
    #[inline]
    fn view_to_owned(view: &Self::View<'_>) -> Result<Self, DecodeError> {
        <T as Fixed>::view_to_owned(view)
    }
}

/// Types whose `default=` can be written as a plain literal: the integer, float or bool the
/// literal is typed as (the alias or enum then converts with `From`). Implemented for the base
/// types and by the derives for enums, flags and aliases of base types.
pub trait LiteralDefault {
    /// The base type of a `default=` literal.
    type Literal;
}

/// The value `Default` gives a field without a `default=`: zero, empty, and for enums the
/// value 0 (what VPP sees for a zero-filled field). Implemented by the derives.
pub trait WireDefault: Sized {
    /// The zero value.
    fn wire_default() -> Self;
}
