//! `VppEnum`, `VppFlags` and `VppUnion`: newtypes over an integer or the union's bytes.

use crate::attrs::{no_generics, snake, type_attrs};
use crate::Part;
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::{Data, DeriveInput, Fields, Type};

fn single_field(input: &DeriveInput, what: &str, example: &str) -> syn::Result<Type> {
    if let Data::Struct(s) = &input.data {
        if let Fields::Unnamed(u) = &s.fields {
            if u.unnamed.len() == 1 {
                return Ok(u.unnamed[0].ty.clone());
            }
        }
    }
    Err(syn::Error::new_spanned(
        &input.ident,
        format!("{what} applies to a one-field tuple struct, e.g. `{example}`"),
    ))
}

pub fn derive_enum(input: DeriveInput, flags: bool, part: Part) -> syn::Result<TokenStream> {
    no_generics(&input.generics)?;
    let what = if flags { "VppFlags" } else { "VppEnum" };
    let repr = single_field(&input, what, "pub struct IfType(pub u32);")?;
    let allowed: &[&str] = if flags {
        &["u8", "u16", "u32", "u64"]
    } else {
        &["u8", "u16", "u32", "i8", "i16", "i32"]
    };
    let ok = matches!(&repr, Type::Path(p) if p.qself.is_none() && allowed.iter().any(|a| p.path.is_ident(a)));
    if !ok {
        return Err(syn::Error::new_spanned(
            &repr,
            format!("{what}: the integer must be one of {}", allowed.join(", ")),
        ));
    }
    let ta = type_attrs(&input.attrs)?;
    if ta.crc.is_some() || ta.kind.is_some() || !ta.arms.is_empty() || ta.tag.is_some() {
        return Err(syn::Error::new(
            Span::call_site(),
            format!("{what} takes only `name` and `values(...)`"),
        ));
    }
    let ident = &input.ident;
    let wire_name = ta.name.clone().unwrap_or_else(|| snake(ident));
    let rt = ta.codec();
    let names: Vec<_> = ta.values.iter().map(|(n, _)| n).collect();
    let name_strs: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let exprs: Vec<_> = ta.values.iter().map(|(_, e)| e).collect();
    let consts = quote! {
        #[allow(deprecated)]
        impl #ident {
            #(
                #[allow(missing_docs)]
                pub const #names: #ident = #ident(#exprs);
            )*
            #[doc(hidden)]
            pub const __VPP_IS_FLAGS: bool = #flags;
            /// Every declared value with its VPP name, in declaration order.
            pub const KNOWN: &'static [(&'static str, #ident)] = &[#((#name_strs, #ident(#exprs))),*];
        }
    };
    let common = quote! {
        #[allow(deprecated)]
        impl #rt::Fixed for #ident {
            type Raw = <#repr as #rt::Fixed>::Raw;
            type View<'a> = #ident;
            const WIRE_NAME: &'static str = #wire_name;
            #[inline]
            fn from_raw(raw: &Self::Raw) -> ::core::result::Result<Self, #rt::DecodeError> {
                <#repr as #rt::Fixed>::from_raw(raw).map(#ident)
            }
            #[inline]
            fn to_raw(&self, raw: &mut Self::Raw) -> ::core::result::Result<(), #rt::EncodeError> {
                <#repr as #rt::Fixed>::to_raw(&self.0, raw)
            }
            #[inline]
            fn view_raw(raw: &Self::Raw) -> #ident { #ident(<#repr as #rt::Fixed>::view_raw(raw)) }
            #[inline]
            fn view_to_owned(view: &#ident) -> ::core::result::Result<Self, #rt::DecodeError> { ::core::result::Result::Ok(*view) }
        }
        #[allow(deprecated)]
        impl ::core::default::Default for #ident {
            fn default() -> Self { #ident(0) }
        }
        #[allow(deprecated)]
        impl #rt::WireDefault for #ident {
            fn wire_default() -> Self { #ident(0) }
        }
        #[allow(deprecated)]
        impl #rt::LiteralDefault for #ident {
            type Literal = #repr;
        }
        #[allow(deprecated)]
        impl ::core::convert::From<#repr> for #ident {
            fn from(v: #repr) -> Self { #ident(v) }
        }
        #[allow(deprecated)]
        impl ::core::convert::From<#ident> for #repr {
            fn from(v: #ident) -> Self { v.0 }
        }
    };
    match part {
        Part::Codec => {}
        Part::Reflect => {
            return Ok(quote! {
                #[allow(deprecated)]
                impl #rt::Reflect for #ident {
                    #[inline]
                    fn to_value(&self) -> #rt::Value { #rt::Value::Int(self.0 as i128) }
                }
            })
        }
        Part::Random => {
            return Ok(quote! {
                #[allow(deprecated)]
                impl #rt::Random for #ident {
                    #[inline]
                    fn random(rng: &mut #rt::SmallRng) -> Self {
                        if !Self::__VPP_IS_FLAGS {
                            if Self::KNOWN.is_empty() || (rng.unknowns && rng.one_in(4)) {
                                return #ident(<#repr as #rt::Random>::random(rng));
                            }
                            return Self::KNOWN[rng.below(Self::KNOWN.len() as u64) as usize].1;
                        }
                        if rng.unknowns && rng.one_in(3) {
                            return #ident(<#repr as #rt::Random>::random(rng));
                        }
                        let mut v: #repr = 0;
                        for (_, k) in Self::KNOWN {
                            if rng.one_in(2) { v |= k.0; }
                        }
                        #ident(v)
                    }
                }
            })
        }
    }
    let specific = if flags {
        quote! {
            #[allow(deprecated)]
            impl #ident {
                /// No bit set.
                pub const fn empty() -> Self { #ident(0) }
                /// The raw bits.
                pub const fn bits(self) -> #repr { self.0 }
                /// True when every bit of `other` is set in `self`.
                pub const fn contains(self, other: Self) -> bool { self.0 & other.0 == other.0 }
                /// True when no bit is set.
                pub const fn is_empty(self) -> bool { self.0 == 0 }
                /// Bits not covered by a declared value.
                pub fn unknown_bits(self) -> #repr {
                    let mut known: #repr = 0;
                    for (_, v) in Self::KNOWN { known |= v.0; }
                    self.0 & !known
                }
            }
            #[allow(deprecated)]
            impl ::core::ops::BitOr for #ident {
                type Output = Self;
                fn bitor(self, o: Self) -> Self { #ident(self.0 | o.0) }
            }
            #[allow(deprecated)]
            impl ::core::ops::BitOrAssign for #ident {
                fn bitor_assign(&mut self, o: Self) { self.0 |= o.0; }
            }
            #[allow(deprecated)]
            impl ::core::ops::BitAnd for #ident {
                type Output = Self;
                fn bitand(self, o: Self) -> Self { #ident(self.0 & o.0) }
            }
            #[allow(deprecated)]
            impl ::core::fmt::Display for #ident {
                fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    #rt::__private::fmt_flags(f, u64::from(self.0), &[#((#name_strs, u64::from((#exprs) as #repr))),*])
                }
            }
            #[allow(deprecated)]
            impl ::core::fmt::Debug for #ident {
                fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    ::core::fmt::Display::fmt(self, f)
                }
            }
        }
    } else {
        quote! {
            #[allow(deprecated)]
            impl #ident {
                /// The VPP name of the value, `None` for a value this definition does not know.
                pub fn name(self) -> ::core::option::Option<&'static str> {
                    Self::KNOWN.iter().find(|(_, v)| *v == self).map(|(n, _)| *n)
                }
            }
            #[allow(deprecated)]
            impl ::core::fmt::Debug for #ident {
                fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    match self.name() {
                        ::core::option::Option::Some(n) => f.write_str(n),
                        ::core::option::Option::None => write!(f, "{}({})", stringify!(#ident), self.0),
                    }
                }
            }
        }
    };
    Ok(quote! { #consts #common #specific })
}

pub fn derive_union(input: DeriveInput, part: Part) -> syn::Result<TokenStream> {
    no_generics(&input.generics)?;
    let inner = single_field(&input, "VppUnion", "pub struct AddressUnion(pub [u8; 16]);")?;
    let len = match &inner {
        Type::Array(a) if matches!(&*a.elem, Type::Path(p) if p.path.is_ident("u8")) => a.len.clone(),
        _ => {
            return Err(syn::Error::new_spanned(
                &inner,
                "VppUnion: the field must be the union's bytes, `[u8; N]` with N = the largest arm's size",
            ))
        }
    };
    let ta = type_attrs(&input.attrs)?;
    if ta.arms.is_empty() {
        return Err(syn::Error::new(
            Span::call_site(),
            "VppUnion needs its arms: #[vpp(arms(ip4: Ip4Address, ip6: Ip6Address))]",
        ));
    }
    let ident = &input.ident;
    let view = format_ident!("{}View", ident);
    let wire_name = ta.name.clone().unwrap_or_else(|| snake(ident));
    let rt = ta.codec();
    let arm_names: Vec<_> = ta.arms.iter().map(|(n, _)| n).collect();
    let arm_strs: Vec<String> = arm_names.iter().map(|n| crate::attrs::unraw(n)).collect();
    let arm_tys: Vec<_> = ta.arms.iter().map(|(_, t)| t).collect();
    let n_arms = arm_tys.len();
    let from_names: Vec<_> = arm_strs
        .iter()
        .map(|n| format_ident!("from_{}", n))
        .collect();
    let size_msg = format!(
        "VppUnion `{wire_name}`: the byte array length must equal the size of the largest arm"
    );
    let doc_get: Vec<String> = arm_strs
        .iter()
        .map(|a| {
            format!("The bytes read as arm `{a}` (nothing on the wire says which arm is valid).")
        })
        .collect();
    let doc_from: Vec<String> = arm_strs
        .iter()
        .map(|a| format!("The union holding arm `{a}`, zero-padded."))
        .collect();
    match part {
        Part::Codec => {}
        Part::Reflect => {
            return Ok(quote! {
            #[allow(deprecated)]
            impl #rt::Reflect for #ident {
                /// The largest arm whose value re-encodes to exactly these bytes (an arm can lose
                /// bytes when it holds a discriminated union, e.g. a MAC read as a `prefix`), else
                /// the largest arm, else the raw bytes.
                fn to_value(&self) -> #rt::Value {
                    let sizes = [#(<#arm_tys as #rt::Fixed>::SIZE),*];
                    let names = [#(#arm_strs),*];
                    let mut order: [usize; #n_arms] = ::core::array::from_fn(|i| i);
                    order.sort_by(|a, b| sizes[*b].cmp(&sizes[*a]));
                    let mut fallback = ::core::option::Option::None;
                    for k in order {
                        let mut i = 0usize;
                        #(
                            if i == k {
                                if let ::core::result::Result::Ok(v) = self.#arm_names() {
                                    let value = #rt::Value::Struct(::std::vec![(names[i], #rt::Reflect::to_value(&v))]);
                                    if Self::#from_names(&v).is_ok_and(|u| u.0 == self.0) {
                                        return value;
                                    }
                                    if fallback.is_none() {
                                        fallback = ::core::option::Option::Some(value);
                                    }
                                }
                            }
                            i += 1;
                        )*
                        let _ = i;
                    }
                    fallback.unwrap_or_else(|| #rt::Value::Bytes(self.0.to_vec()))
                }
            }
            });
        }
        Part::Random => {
            return Ok(quote! {
            #[allow(deprecated)]
            impl #rt::Random for #ident {
                fn random(rng: &mut #rt::SmallRng) -> Self {
                    let pick = rng.below([#(#arm_strs),*].len() as u64);
                    let mut i = 0u64;
                    #(
                        if i == pick {
                            if let ::core::result::Result::Ok(u) = Self::#from_names(&<#arm_tys as #rt::Random>::random(rng)) {
                                return u;
                            }
                        }
                        i += 1;
                    )*
                    let _ = i;
                    ::core::default::Default::default()
                }
            }
            })
        }
    }
    Ok(quote! {
        const _: () = ::core::assert!(
            #len == #rt::__private::const_max(&[#(<#arm_tys as #rt::Fixed>::SIZE),*]),
            #size_msg
        );

        #[allow(deprecated)]
        impl #ident {
            #(
                #[doc = #doc_get]
                pub fn #arm_names(&self) -> ::core::result::Result<#arm_tys, #rt::DecodeError> {
                    <#arm_tys as #rt::Fixed>::from_raw(
                        #rt::__private::union_arm_raw::<<#arm_tys as #rt::Fixed>::Raw>(&self.0, #wire_name)?)
                }
                #[doc = #doc_from]
                pub fn #from_names(v: &#arm_tys) -> ::core::result::Result<Self, #rt::EncodeError> {
                    let mut b = [0u8; #len];
                    #rt::__private::union_arm_write(v, &mut b, #wire_name)?;
                    ::core::result::Result::Ok(#ident(b))
                }
            )*
        }

        /// Zero-copy view of the union's bytes.
        #[derive(Clone, Copy, Debug)]
        pub struct #view<'a>(pub &'a [u8; #len]);

        #[allow(deprecated)]
        impl<'a> #view<'a> {
            #(
                #[doc = #doc_get]
                pub fn #arm_names(&self) -> ::core::result::Result<<#arm_tys as #rt::Fixed>::View<'a>, #rt::DecodeError> {
                    let bytes: &'a [u8; #len] = self.0;
                    ::core::result::Result::Ok(<#arm_tys as #rt::Fixed>::view_raw(
                        #rt::__private::union_arm_raw::<<#arm_tys as #rt::Fixed>::Raw>(bytes, #wire_name)?))
                }
            )*
            /// The owned union.
            #[allow(clippy::wrong_self_convention, clippy::should_implement_trait)]
            pub fn to_owned(&self) -> ::core::result::Result<#ident, #rt::DecodeError> {
                ::core::result::Result::Ok(#ident(*self.0))
            }
        }

        #[allow(deprecated)]
        impl #rt::Fixed for #ident {
            type Raw = [u8; #len];
            type View<'a> = #view<'a>;
            const WIRE_NAME: &'static str = #wire_name;
            #[inline]
            fn from_raw(raw: &Self::Raw) -> ::core::result::Result<Self, #rt::DecodeError> {
                ::core::result::Result::Ok(#ident(*raw))
            }
            #[inline]
            fn to_raw(&self, raw: &mut Self::Raw) -> ::core::result::Result<(), #rt::EncodeError> {
                *raw = self.0;
                ::core::result::Result::Ok(())
            }
            #[inline]
            fn view_raw(raw: &Self::Raw) -> #view<'_> { #view(raw) }
            #[inline]
            fn view_to_owned(view: &#view<'_>) -> ::core::result::Result<Self, #rt::DecodeError> { view.to_owned() }
        }
        #[allow(deprecated)]
        impl ::core::default::Default for #ident {
            fn default() -> Self { #ident([0u8; #len]) }
        }
        #[allow(deprecated)]
        impl #rt::WireDefault for #ident {
            fn wire_default() -> Self { ::core::default::Default::default() }
        }
    })
}
