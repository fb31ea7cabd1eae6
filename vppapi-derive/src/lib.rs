//! Proc-macros for VPP binary-API types. The generated code implements the traits of
//! `vppapi_runtime::codec` (use the re-exports from `vppapi_runtime`, not this crate directly).
//!
//! | derive | on | wire shape |
//! |---|---|---|
//! | `VppMessage` | struct with named fields | a `define` (fields after the header) |
//! | `VppType` | struct with named fields | a `typedef` |
//! | `VppType` | tuple struct with one field | an alias (`typedef u32 interface_index;`) |
//! | `VppEnum` | `struct E(pub u32)` (any of u8/u16/u32/i8/i16/i32) | an `enum`, unknown values kept |
//! | `VppFlags` | `struct F(pub u32)` | an `enumflag` / flag-like enum, unknown bits kept |
//! | `VppUnion` | `struct U(pub [u8; N])` | a `union` (N = largest arm, checked) |
//! | `VppTagged` | enum | a typedef `{ tag; union [discriminator=tag] }` as a Rust enum |
//!
//! Attributes (`#[vpp(...)]`), struct level: `name = "wire_name"`, `crc = 0x1234abcd`,
//! `kind = "request" | "reply" | "details" | "event" | "other"`,
//! `header = "client_index,context" | "context" | "client_index" | "none"` (messages; the
//! header defaults from the kind), `reply = ReplyType`, `details = DetailsType`,
//! `events(EventType, ...)` (the service: `Request`, `Dump`, `Subscribe` impls),
//! `values(A = 0, B = 1)` (enums and flags),
//! `arms(ip4: Ip4Address, ip6: Ip6Address)` (unions),
//! `tag = af: AddressFamily, union = un: AddressUnion` (tagged unions).
//! Field level: `string = N` (fixed `string x[N]`), `string` (variable `string x[]`),
//! `count = "n", count_ty = "u8"` (VLA; the count field is not a struct field: it is written
//! from the `Vec`'s length; add `count_before = "field"` when it is not right before the VLA),
//! `tail` (a last field whose type ends in a VLA or variable string), `default = EXPR`,
//! `limit = N` (strings: bytes, VLAs: elements), `name = "wire_name"`.
//! Variants of a tagged union: `case = EXPR` (the tag value) and one `other` variant
//! `Other(Tag, Union)` that keeps unknown tags.

use proc_macro::TokenStream;

mod attrs;
mod enums;
mod structs;
mod tagged;

fn expand(r: syn::Result<proc_macro2::TokenStream>) -> TokenStream {
    match r {
        Ok(t) => t.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

/// A VPP message (`define`). See the crate docs for the attributes.
#[proc_macro_derive(VppMessage, attributes(vpp))]
pub fn derive_message(input: TokenStream) -> TokenStream {
    expand(structs::derive(syn::parse_macro_input!(input), true))
}

/// A VPP typedef (named fields) or alias (one-field tuple struct).
#[proc_macro_derive(VppType, attributes(vpp))]
pub fn derive_type(input: TokenStream) -> TokenStream {
    expand(structs::derive(syn::parse_macro_input!(input), false))
}

/// A VPP enum as a newtype over its integer, keeping unknown values.
#[proc_macro_derive(VppEnum, attributes(vpp))]
pub fn derive_enum(input: TokenStream) -> TokenStream {
    expand(enums::derive_enum(syn::parse_macro_input!(input), false))
}

/// A VPP flag set as a newtype over its integer, keeping unknown bits, printed as `A|B`.
#[proc_macro_derive(VppFlags, attributes(vpp))]
pub fn derive_flags(input: TokenStream) -> TokenStream {
    expand(enums::derive_enum(syn::parse_macro_input!(input), true))
}

/// A VPP union as its bytes, with an accessor and a constructor per arm.
#[proc_macro_derive(VppUnion, attributes(vpp))]
pub fn derive_union(input: TokenStream) -> TokenStream {
    expand(enums::derive_union(syn::parse_macro_input!(input)))
}

/// A discriminated union (26.06 `discriminator`) as a Rust enum.
#[proc_macro_derive(VppTagged, attributes(vpp))]
pub fn derive_tagged(input: TokenStream) -> TokenStream {
    expand(tagged::derive(syn::parse_macro_input!(input)))
}
