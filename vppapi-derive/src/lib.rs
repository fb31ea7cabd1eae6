//! Proc-macros for VPP binary-API types. The generated code implements the traits of
//! `vppapi_codec` (use the re-exports from `vppapi_codec` or `vppapi_runtime`, not this crate
//! directly). The code names `::vppapi_codec`; `#[vpp(crate = "::my_facade::codec")]` names
//! another path (like serde's `crate = "..."`), for bindings used through a facade crate.
//!
//! `VppReflect` and `VppRandom` add the optional `Reflect` / `Random` impls to an item with one
//! of the main derives; generated bindings gate them behind features, so builds that do not
//! need them do not compile them.
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

/// Which impls a derive emits: the codec (the main derives), or one of the optional extras.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    Codec,
    Reflect,
    Random,
}

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
    expand(structs::derive(
        syn::parse_macro_input!(input),
        true,
        Part::Codec,
    ))
}

/// A VPP typedef (named fields) or alias (one-field tuple struct).
#[proc_macro_derive(VppType, attributes(vpp))]
pub fn derive_type(input: TokenStream) -> TokenStream {
    expand(structs::derive(
        syn::parse_macro_input!(input),
        false,
        Part::Codec,
    ))
}

/// A VPP enum as a newtype over its integer, keeping unknown values.
#[proc_macro_derive(VppEnum, attributes(vpp))]
pub fn derive_enum(input: TokenStream) -> TokenStream {
    expand(enums::derive_enum(
        syn::parse_macro_input!(input),
        false,
        Part::Codec,
    ))
}

/// A VPP flag set as a newtype over its integer, keeping unknown bits, printed as `A|B`.
#[proc_macro_derive(VppFlags, attributes(vpp))]
pub fn derive_flags(input: TokenStream) -> TokenStream {
    expand(enums::derive_enum(
        syn::parse_macro_input!(input),
        true,
        Part::Codec,
    ))
}

/// A VPP union as its bytes, with an accessor and a constructor per arm.
#[proc_macro_derive(VppUnion, attributes(vpp))]
pub fn derive_union(input: TokenStream) -> TokenStream {
    expand(enums::derive_union(
        syn::parse_macro_input!(input),
        Part::Codec,
    ))
}

/// A discriminated union (26.06 `discriminator`) as a Rust enum.
#[proc_macro_derive(VppTagged, attributes(vpp))]
pub fn derive_tagged(input: TokenStream) -> TokenStream {
    expand(tagged::derive(syn::parse_macro_input!(input), Part::Codec))
}

/// Pick the shape of an item for the extra derives (they follow the main derive's attributes).
fn extra(input: syn::DeriveInput, part: Part) -> syn::Result<proc_macro2::TokenStream> {
    let ta = attrs::type_attrs(&input.attrs)?;
    match &input.data {
        syn::Data::Enum(_) => tagged::derive(input, part),
        syn::Data::Struct(s) => match &s.fields {
            syn::Fields::Unnamed(u) if u.unnamed.len() == 1 && !ta.arms.is_empty() => {
                enums::derive_union(input, part)
            }
            // Enums and flags (`values(...)`); which of the two is told by the main derive's
            // hidden `__VPP_IS_FLAGS`.
            syn::Fields::Unnamed(u) if u.unnamed.len() == 1 && !ta.values.is_empty() => {
                enums::derive_enum(input, false, part)
            }
            _ => structs::derive(input, false, part),
        },
        syn::Data::Union(_) => Err(syn::Error::new(
            proc_macro2::Span::call_site(),
            "Vpp derives do not apply to Rust unions (use VppUnion on `struct U(pub [u8; N])`)",
        )),
    }
}

/// `Reflect` (conversion to a `Value` tree) for an item that has one of the main derives.
/// Generated bindings put it behind their `reflect` feature.
#[proc_macro_derive(VppReflect, attributes(vpp))]
pub fn derive_reflect(input: TokenStream) -> TokenStream {
    expand(extra(syn::parse_macro_input!(input), Part::Reflect))
}

/// `Random` (seeded random instances, for tests) for an item that has one of the main
/// derives. Generated bindings put it behind their `random` feature.
#[proc_macro_derive(VppRandom, attributes(vpp))]
pub fn derive_random(input: TokenStream) -> TokenStream {
    expand(extra(syn::parse_macro_input!(input), Part::Random))
}
