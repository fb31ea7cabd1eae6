//! `VppTagged`: a typedef `{ tag; union [discriminator=tag] }` as a Rust enum.

use crate::attrs::{field_attrs, no_generics, snake, type_attrs, unraw};
use crate::Part;
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::{Data, DeriveInput, Fields};

pub fn derive(input: DeriveInput, part: Part) -> syn::Result<TokenStream> {
    no_generics(&input.generics)?;
    let Data::Enum(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "VppTagged applies to enums",
        ));
    };
    let ta = type_attrs(&input.attrs)?;
    let (Some((tag_id, tag_ty)), Some((un_id, un_ty))) = (ta.tag.clone(), ta.union.clone()) else {
        return Err(syn::Error::new(
            Span::call_site(),
            "VppTagged needs #[vpp(tag = af: AddressFamily, union = un: AddressUnion)]",
        ));
    };
    let ident = &input.ident;
    let wire_name = ta.name.clone().unwrap_or_else(|| snake(ident));
    let rt = ta.codec();
    let zc_crate = format!("{}::__private::zerocopy", ta.codec_str());
    let raw = format_ident!("{}Raw", ident);
    let view = format_ident!("{}View", ident);
    let tag_w = unraw(&tag_id);
    let un_w = unraw(&un_id);

    let mut cases = Vec::new(); // (variant, case expr, payload type)
    let mut other = None;
    for v in &data.variants {
        let fa = field_attrs(&v.attrs)?;
        let tys: Vec<_> = match &v.fields {
            Fields::Unnamed(u) => u.unnamed.iter().map(|f| f.ty.clone()).collect(),
            _ => Vec::new(),
        };
        if fa.other {
            if tys.len() != 2 || other.is_some() {
                return Err(syn::Error::new_spanned(
                    &v.ident,
                    "the `other` variant holds the unknown tag and the union: `Other(Tag, Union)`, once",
                ));
            }
            other = Some(v.ident.clone());
        } else if let Some(case) = fa.case {
            if tys.len() != 1 {
                return Err(syn::Error::new_spanned(
                    &v.ident,
                    "a case variant holds the union arm's value: `Ip4(Ip4Address)`",
                ));
            }
            cases.push((v.ident.clone(), case, tys[0].clone()));
        } else {
            return Err(syn::Error::new_spanned(
                &v.ident,
                "each variant needs #[vpp(case = TAG_VALUE)] or #[vpp(other)]",
            ));
        }
    }
    let Some(other) = other else {
        return Err(syn::Error::new(
            Span::call_site(),
            "VppTagged needs an #[vpp(other)] variant `Other(Tag, Union)` so unknown tags still decode",
        ));
    };
    if cases.is_empty() {
        return Err(syn::Error::new(
            Span::call_site(),
            "VppTagged needs at least one #[vpp(case = ...)] variant",
        ));
    }
    let vnames: Vec<_> = cases.iter().map(|c| &c.0).collect();
    let vcases: Vec<_> = cases.iter().map(|c| &c.1).collect();
    let vtys: Vec<_> = cases.iter().map(|c| &c.2).collect();
    let (first_v, first_ty) = (&cases[0].0, &cases[0].2);
    let size_msg = format!("VppTagged `{wire_name}`: a case payload is larger than the union");
    let vis = &input.vis;

    match part {
        Part::Codec => {}
        Part::Reflect => {
            return Ok(quote! {
            #[allow(deprecated)]
            impl #rt::Reflect for #ident {
                /// `{tag, union}` in wire terms; the union as its largest arm.
                fn to_value(&self) -> #rt::Value {
                    let mut raw = <#raw as #rt::__private::zerocopy::FromZeros>::new_zeroed();
                    let (tag, un) = match #rt::Fixed::to_raw(self, &mut raw) {
                        ::core::result::Result::Ok(()) => (
                            <#tag_ty as #rt::Fixed>::from_raw(&raw.#tag_id).map(|t| #rt::Reflect::to_value(&t)),
                            <#un_ty as #rt::Fixed>::from_raw(&raw.#un_id).map(|u| #rt::Reflect::to_value(&u)),
                        ),
                        ::core::result::Result::Err(_) => return #rt::Value::Struct(::std::vec::Vec::new()),
                    };
                    match (tag, un) {
                        (::core::result::Result::Ok(t), ::core::result::Result::Ok(u)) => #rt::Value::Struct(::std::vec![(#tag_w, t), (#un_w, u)]),
                        _ => #rt::Value::Struct(::std::vec::Vec::new()),
                    }
                }
            }
            });
        }
        Part::Random => {
            return Ok(quote! {
            #[allow(deprecated)]
            impl #rt::Random for #ident {
                fn random(rng: &mut #rt::SmallRng) -> Self {
                    if rng.unknowns && rng.one_in(5) {
                        for _ in 0..16 {
                            let t = <#tag_ty as #rt::Random>::random(rng);
                            if #(t != #vcases)&&* {
                                return #ident::#other(t, <#un_ty as #rt::Random>::random(rng));
                            }
                        }
                    }
                    let cases: &[fn(&mut #rt::SmallRng) -> #ident] = &[
                        #( |rng| #ident::#vnames(<#vtys as #rt::Random>::random(rng)) ),*
                    ];
                    cases[rng.below(cases.len() as u64) as usize](rng)
                }
            }
            })
        }
    }
    Ok(quote! {
        const _: () = {
            #( ::core::assert!(<#vtys as #rt::Fixed>::SIZE <= <#un_ty as #rt::Fixed>::SIZE, #size_msg); )*
        };

        #[doc = "Wire layout of a tagged union."]
        #[derive(
            #rt::__private::zerocopy::FromBytes,
            #rt::__private::zerocopy::IntoBytes,
            #rt::__private::zerocopy::KnownLayout,
            #rt::__private::zerocopy::Immutable,
            #rt::__private::zerocopy::Unaligned
        )]
        #[zerocopy(crate = #zc_crate)]
        #[repr(C)]
        #vis struct #raw {
            #vis #tag_id: <#tag_ty as #rt::Fixed>::Raw,
            #vis #un_id: <#un_ty as #rt::Fixed>::Raw,
        }

        #[doc = "Zero-copy view of a tagged union."]
        #[derive(Clone, Copy)]
        #vis struct #view<'a>(&'a #raw);

        #[allow(deprecated)]
        impl<'a> #view<'a> {
            /// The tag.
            pub fn #tag_id(&self) -> <#tag_ty as #rt::Fixed>::View<'a> { <#tag_ty as #rt::Fixed>::view_raw(&self.0.#tag_id) }
            /// The union, whatever the tag says.
            pub fn #un_id(&self) -> <#un_ty as #rt::Fixed>::View<'a> { <#un_ty as #rt::Fixed>::view_raw(&self.0.#un_id) }
            /// The wire layout.
            pub fn as_raw(&self) -> &'a #raw { self.0 }
            /// Decode into the owned enum.
            #[allow(clippy::wrong_self_convention, clippy::should_implement_trait)]
            pub fn to_owned(&self) -> ::core::result::Result<#ident, #rt::DecodeError> {
                <#ident as #rt::Fixed>::from_raw(self.0)
            }
        }

        #[allow(deprecated)]
        impl #rt::Fixed for #ident {
            type Raw = #raw;
            type View<'a> = #view<'a>;
            const WIRE_NAME: &'static str = #wire_name;
            fn from_raw(raw: &#raw) -> ::core::result::Result<Self, #rt::DecodeError> {
                use #rt::__private::zerocopy::IntoBytes as _;
                let tag = <#tag_ty as #rt::Fixed>::from_raw(&raw.#tag_id)?;
                #(
                    if tag == #vcases {
                        let arm = #rt::__private::union_arm_raw::<<#vtys as #rt::Fixed>::Raw>(raw.#un_id.as_bytes(), #wire_name)?;
                        return ::core::result::Result::Ok(#ident::#vnames(<#vtys as #rt::Fixed>::from_raw(arm)?));
                    }
                )*
                ::core::result::Result::Ok(#ident::#other(tag, <#un_ty as #rt::Fixed>::from_raw(&raw.#un_id)?))
            }
            fn to_raw(&self, raw: &mut #raw) -> ::core::result::Result<(), #rt::EncodeError> {
                use #rt::__private::zerocopy::IntoBytes as _;
                match self {
                    #(
                        #ident::#vnames(v) => {
                            <#tag_ty as #rt::Fixed>::to_raw(&#vcases, &mut raw.#tag_id)?;
                            #rt::__private::union_arm_write(v, raw.#un_id.as_mut_bytes(), #wire_name)
                        }
                    )*
                    #ident::#other(t, u) => {
                        <#tag_ty as #rt::Fixed>::to_raw(t, &mut raw.#tag_id)?;
                        <#un_ty as #rt::Fixed>::to_raw(u, &mut raw.#un_id)
                    }
                }
            }
            fn view_raw(raw: &#raw) -> #view<'_> { #view(raw) }
            fn view_to_owned(view: &#view<'_>) -> ::core::result::Result<Self, #rt::DecodeError> { view.to_owned() }
        }

        #[allow(deprecated)]
        impl ::core::default::Default for #ident {
            fn default() -> Self { #ident::#first_v(<#first_ty as #rt::WireDefault>::wire_default()) }
        }
        #[allow(deprecated)]
        impl #rt::WireDefault for #ident {
            fn wire_default() -> Self { ::core::default::Default::default() }
        }
    })
}
