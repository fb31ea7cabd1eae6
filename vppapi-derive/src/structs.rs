//! `VppMessage` and `VppType` on structs: typedefs, messages and aliases.

use crate::attrs::{field_attrs, no_generics, snake, type_attrs, unraw, FieldAttrs};
use crate::Part;
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, Ident, Type};

/// How a field is laid out.
enum Kind {
    /// A `Fixed` type, stored in the raw struct.
    Fixed,
    /// `string x[N]`.
    FixedString(usize),
    /// `string x[]` (tail).
    VarString,
    /// `T x[count]` (tail).
    Vla {
        count: Ident,
        count_ty: Box<Type>,
        elem: Box<Type>,
    },
    /// A typedef ending in a VLA / variable string (tail).
    Tail,
}

struct Field {
    ident: Ident,
    wire: String,
    ty: Type,
    kind: Kind,
    attrs: FieldAttrs,
}

const INTS: &[&str] = &["u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64"];

fn last_segment(ty: &Type) -> Option<(&syn::PathSegment, &syn::TypePath)> {
    if let Type::Path(tp) = ty {
        if tp.qself.is_none() {
            return tp.path.segments.last().map(|s| (s, tp));
        }
    }
    None
}

fn is_named(ty: &Type, name: &str) -> bool {
    last_segment(ty).is_some_and(|(s, _)| s.ident == name && s.arguments.is_empty())
}

fn vec_elem(ty: &Type) -> Option<&Type> {
    let (s, _) = last_segment(ty)?;
    if s.ident != "Vec" {
        return None;
    }
    if let syn::PathArguments::AngleBracketed(a) = &s.arguments {
        if let Some(syn::GenericArgument::Type(t)) = a.args.first() {
            return Some(t);
        }
    }
    None
}

fn classify(f: &syn::Field) -> syn::Result<Field> {
    let ident = f
        .ident
        .clone()
        .ok_or_else(|| syn::Error::new(f.span(), "expected a named field"))?;
    let attrs = field_attrs(&f.attrs)?;
    let wire = attrs.name.clone().unwrap_or_else(|| unraw(&ident));
    let ty = f.ty.clone();
    let is_string = is_named(&ty, "String");
    let kind = if let Some((n, span)) = attrs.string {
        if !is_string {
            return Err(syn::Error::new(
                span,
                "`string` applies to `String` fields only",
            ));
        }
        if n == 0 {
            Kind::VarString
        } else if n == 1 {
            return Err(syn::Error::new(
                span,
                "`string = 1` holds only the NUL; use N >= 2",
            ));
        } else {
            Kind::FixedString(n)
        }
    } else if is_string {
        return Err(syn::Error::new_spanned(
            &f.ty,
            format!(
                "string field `{wire}` needs a length: #[vpp(string = N)] for `string {wire}[N]` \
                 or #[vpp(string)] for the variable `string {wire}[]`"
            ),
        ));
    } else if let Some(elem) = vec_elem(&ty) {
        let Some((count, cspan)) = attrs.count.clone() else {
            return Err(syn::Error::new_spanned(
                &f.ty,
                format!(
                    "VLA `{wire}` needs its count field: #[vpp(count = \"n\", count_ty = \"u32\")]"
                ),
            ));
        };
        let Some(count_ty) = attrs.count_ty.clone() else {
            return Err(syn::Error::new(
                cspan,
                format!("VLA `{wire}`: give the count field's type: count_ty = \"u8\" | \"u16\" | \"u32\""),
            ));
        };
        if !INTS.iter().any(|i| is_named(&count_ty, i)) {
            return Err(syn::Error::new_spanned(
                &count_ty,
                "the count field must be an integer type (u8, u16, u32, u64, i8, i16, i32, i64)",
            ));
        }
        let count = syn::parse_str::<Ident>(&count)
            .map_err(|_| syn::Error::new(cspan, "count must name a field (an identifier)"))?;
        Kind::Vla {
            count,
            count_ty: Box::new(count_ty),
            elem: Box::new(elem.clone()),
        }
    } else if attrs.count.is_some() {
        return Err(syn::Error::new_spanned(
            &f.ty,
            "`count` applies to `Vec<T>` fields only",
        ));
    } else if attrs.tail {
        Kind::Tail
    } else if matches!(
        &ty,
        Type::Reference(_)
            | Type::Slice(_)
            | Type::Ptr(_)
            | Type::TraitObject(_)
            | Type::ImplTrait(_)
            | Type::Tuple(_)
    ) || is_named(&ty, "str")
        || is_named(&ty, "usize")
        || is_named(&ty, "isize")
        || is_named(&ty, "char")
        || is_named(&ty, "f32")
    {
        return Err(syn::Error::new_spanned(
            &f.ty,
            "unsupported field type for a VPP message: use u8..u64, i8..i64, f64, bool, String \
             (with #[vpp(string ...)]), [T; N], Vec<T> (with #[vpp(count ...)]) or a VPP type",
        ));
    } else {
        Kind::Fixed
    };
    if attrs.case.is_some() || attrs.other {
        return Err(syn::Error::new_spanned(
            &f.ty,
            "`case` / `other` belong on VppTagged variants",
        ));
    }
    if attrs.limit.is_some()
        && !matches!(
            kind,
            Kind::VarString | Kind::FixedString(_) | Kind::Vla { .. }
        )
    {
        return Err(syn::Error::new_spanned(
            &f.ty,
            "`limit` applies to strings and VLAs",
        ));
    }
    Ok(Field {
        ident,
        wire,
        ty,
        kind,
        attrs,
    })
}

pub fn derive(input: DeriveInput, is_message: bool, part: Part) -> syn::Result<TokenStream> {
    no_generics(&input.generics)?;
    let ta = type_attrs(&input.attrs)?;
    let is_message = match part {
        Part::Codec => is_message,
        // The extra derives follow what the item is.
        Part::Reflect | Part::Random => ta.crc.is_some(),
    };
    let rt = ta.codec();
    let data = match &input.data {
        Data::Struct(s) => s,
        _ => {
            return Err(syn::Error::new(
                Span::call_site(),
                if is_message {
                    "VppMessage applies to structs with named fields"
                } else {
                    "VppType applies to structs (use VppTagged for enums, VppUnion for unions)"
                },
            ))
        }
    };
    if let Fields::Unnamed(u) = &data.fields {
        if !is_message && u.unnamed.len() == 1 {
            return derive_alias(
                &input,
                ta.name.clone().unwrap_or_else(|| snake(&input.ident)),
                &u.unnamed[0].ty,
                &rt,
                part,
            );
        }
        return Err(syn::Error::new_spanned(
            &input.ident,
            "VPP types need named fields (a one-field tuple struct with VppType is an alias)",
        ));
    }
    let fields = match &data.fields {
        Fields::Named(n) => n
            .named
            .iter()
            .map(classify)
            .collect::<syn::Result<Vec<_>>>()?,
        _ => Vec::new(),
    };
    let plan = Plan::new(&input, &ta, rt, fields)?;
    match part {
        Part::Codec => {}
        Part::Reflect => return Ok(plan.reflect_impl()),
        Part::Random => return Ok(plan.random_impl()),
    }
    let message = if is_message {
        message_impl(
            &plan.ident,
            &plan.wire_name,
            &ta,
            plan.fixed_field_start("retval", "i32"),
            plan.fixed_field_start("cursor", "u32"),
        )?
    } else {
        if ta.crc.is_some() || ta.kind.is_some() || ta.header.is_some() {
            return Err(syn::Error::new(
                Span::call_site(),
                "crc / kind / header belong on VppMessage",
            ));
        }
        quote!()
    };
    if !ta.values.is_empty() || !ta.arms.is_empty() || ta.tag.is_some() || ta.union.is_some() {
        return Err(syn::Error::new(
            Span::call_site(),
            "values / arms / tag / union do not apply to structs",
        ));
    }
    let wire = plan.wire_impl();
    let default = plan.default_impl();
    Ok(quote! {
        #wire
        #default
        #message
    })
}

/// What the derive knows about one struct: its fields, the count fields it adds, and the slots
/// of its fixed part (count fields, fixed fields and fixed strings, in wire order).
struct Plan {
    ident: Ident,
    vis: syn::Visibility,
    rt: TokenStream,
    wire_name: String,
    fields: Vec<Field>,
    /// (insert before field index, count name, count type)
    counts: Vec<(usize, Ident, Type)>,
    /// The size of each fixed slot, as a constant expression.
    slot_sizes: Vec<TokenStream>,
    /// Field or count name -> slot index.
    slot_of: Vec<(String, usize)>,
}

impl Plan {
    /// Check the layout (one variable field, last; count fields named once, before their VLA)
    /// and lay out the fixed part.
    fn new(
        input: &DeriveInput,
        ta: &crate::attrs::TypeAttrs,
        rt: TokenStream,
        fields: Vec<Field>,
    ) -> syn::Result<Plan> {
        let ident = input.ident.clone();
        let wire_name = ta.name.clone().unwrap_or_else(|| snake(&ident));
        let n = fields.len();
        for (i, f) in fields.iter().enumerate() {
            let var = matches!(f.kind, Kind::VarString | Kind::Vla { .. } | Kind::Tail);
            if var && i + 1 != n {
                let what = match f.kind {
                    Kind::VarString => "variable string",
                    Kind::Vla { .. } => "VLA",
                    _ => "variable-size field",
                };
                return Err(syn::Error::new_spanned(
                    &f.ident,
                    format!(
                        "{what} `{}` must be the last field (VPP allows one variable part, at the end)",
                        f.wire
                    ),
                ));
            }
        }
        let mut counts: Vec<(usize, Ident, Type)> = Vec::new(); // (insert before field index, name, type)
        for (i, f) in fields.iter().enumerate() {
            if let Kind::Vla {
                count, count_ty, ..
            } = &f.kind
            {
                if fields.iter().any(|g| g.ident == *count) {
                    return Err(syn::Error::new_spanned(
                        count,
                        format!("count field `{count}` is also a struct field: remove it, the count is written from `{}.len()`", f.ident),
                    ));
                }
                let pos = match &f.attrs.count_before {
                    None => i,
                    Some((name, span)) => {
                        match fields.iter().position(|g| unraw(&g.ident) == *name) {
                            Some(p) if p <= i => p,
                            Some(_) => {
                                return Err(syn::Error::new(
                                    *span,
                                    "the count field must come before its VLA",
                                ))
                            }
                            None => {
                                return Err(syn::Error::new(
                                    *span,
                                    format!("count_before: no field named `{name}`"),
                                ))
                            }
                        }
                    }
                };
                let count = Ident::new(&unraw(count), count.span());
                counts.push((pos, count, (**count_ty).clone()));
            }
        }

        // The fixed part in wire order: one slot per count field, fixed field and fixed string.
        // Its layout is a byte array; `__VPP_ENDS[i]` is where slot i ends (constants the compiler
        // folds), so no per-type layout struct (and no zerocopy derive) is generated.
        let mut slot_sizes: Vec<TokenStream> = Vec::new();
        // ident of a field or count -> slot index
        let mut slot_of: Vec<(String, usize)> = Vec::new();
        for (i, f) in fields.iter().enumerate() {
            for (pos, cid, cty) in &counts {
                if *pos == i {
                    slot_of.push((cid.to_string(), slot_sizes.len()));
                    slot_sizes.push(quote!(<#cty as #rt::Fixed>::SIZE));
                }
            }
            let ty = &f.ty;
            match &f.kind {
                Kind::Fixed => {
                    slot_of.push((f.ident.to_string(), slot_sizes.len()));
                    slot_sizes.push(quote_spanned!(ty.span()=> <#ty as #rt::Fixed>::SIZE));
                }
                Kind::FixedString(n) => {
                    slot_of.push((f.ident.to_string(), slot_sizes.len()));
                    slot_sizes.push(quote!(#n));
                }
                _ => {}
            }
        }

        Ok(Plan {
            ident,
            vis: input.vis.clone(),
            rt,
            wire_name,
            fields,
            counts,
            slot_sizes,
            slot_of,
        })
    }

    /// Where the slot of field or count `key` starts (a constant expression).
    fn start(&self, key: &Ident) -> TokenStream {
        let ident = &self.ident;
        let k = key.to_string();
        let i = self
            .slot_of
            .iter()
            .find(|(n, _)| *n == k)
            .map(|(_, i)| *i)
            .unwrap_or(0);
        if i == 0 {
            quote!(0usize)
        } else {
            let j = i - 1;
            quote!(#ident::__VPP_ENDS[#j])
        }
    }

    /// The start of fixed field `name` of type `ty`, if there is one (`retval`, `cursor`).
    fn fixed_field_start(&self, name: &str, ty: &str) -> Option<TokenStream> {
        self.fields
            .iter()
            .find(|f| f.wire == name && matches!(f.kind, Kind::Fixed) && is_named(&f.ty, ty))
            .map(|f| self.start(&f.ident))
    }

    /// The last field when it is variable (VLA, variable string, typedef with a tail).
    fn tail(&self) -> Option<&Field> {
        self.fields
            .last()
            .filter(|f| matches!(f.kind, Kind::VarString | Kind::Vla { .. } | Kind::Tail))
    }

    /// `__VPP_ENDS` (where each fixed slot ends) and `__VPP_SIZE`, as inherent constants.
    fn layout_consts(&self) -> TokenStream {
        let Plan {
            ident,
            rt,
            slot_sizes,
            ..
        } = self;
        let n_slots = slot_sizes.len();
        let size_expr = if n_slots == 0 {
            quote!(0usize)
        } else {
            let last = n_slots - 1;
            quote!(#ident::__VPP_ENDS[#last])
        };
        quote! {
            #[allow(deprecated)]
            impl #ident {
                #[doc(hidden)]
                pub const __VPP_ENDS: [usize; #n_slots] = #rt::__private::ends([#(#slot_sizes),*]);
                #[doc(hidden)]
                pub const __VPP_SIZE: usize = #size_expr;
            }
        }
    }

    /// `field: value` of every fixed field, read from `raw`.
    fn fixed_from_raw(&self) -> Vec<TokenStream> {
        let Plan {
            ident,
            vis,
            rt,
            wire_name,
            fields,
            counts,
            ..
        } = self;
        let name_lit = wire_name.as_str();
        let start = |k: &Ident| self.start(k);
        let _ = (ident, vis, rt, fields, counts, name_lit, &start);
        // Decoding of the fixed fields from `raw`.
        let fixed_from_raw: Vec<TokenStream> = fields
            .iter()
            .filter_map(|f| {
                let id = &f.ident;
                let ty = &f.ty;
                let w = &f.wire;
                match &f.kind {
                    Kind::Fixed => {
                        let at = start(id);
                        Some(quote!(#id: <#ty as #rt::Fixed>::from_raw(#rt::__private::field::<#ty>(raw, #at))?))
                    }
                    Kind::FixedString(n) => {
                        let at = start(id);
                        Some(quote!(#id: #rt::__private::fixed_str_decode(&raw[#at..#at + #n], #name_lit, #w)?))
                    }
                    _ => None,
                }
            })
            .collect();
        fixed_from_raw
    }

    /// Statements writing every fixed field (and VLA count) into `raw`.
    fn fixed_to_raw(&self) -> Vec<TokenStream> {
        let Plan {
            ident,
            vis,
            rt,
            wire_name,
            fields,
            counts,
            ..
        } = self;
        let name_lit = wire_name.as_str();
        let start = |k: &Ident| self.start(k);
        let _ = (ident, vis, rt, fields, counts, name_lit, &start);
        let fixed_to_raw: Vec<TokenStream> = fields
            .iter()
            .filter_map(|f| {
                let id = &f.ident;
                let ty = &f.ty;
                let w = &f.wire;
                let limit = opt_limit(f.attrs.limit);
                match &f.kind {
                    Kind::Fixed => {
                        let at = start(id);
                        Some(quote!(<#ty as #rt::Fixed>::to_raw(&self.#id, #rt::__private::field_mut::<#ty>(raw, #at))?;))
                    }
                    Kind::FixedString(n) => {
                        let at = start(id);
                        Some(quote!(#rt::__private::fixed_str_encode(&self.#id, &mut raw[#at..#at + #n], #name_lit, #w, #limit)?;))
                    }
                    Kind::Vla { count, count_ty, .. } => {
                        let cw = unraw(count);
                        let count = Ident::new(&cw, count.span());
                        let at = start(&count);
                        Some(quote! {
                            #rt::__private::check_limit(self.#id.len(), #limit, #name_lit, #w)?;
                            <#count_ty as #rt::Fixed>::to_raw(
                                &#rt::__private::count_for::<#count_ty>(self.#id.len(), #name_lit, #cw)?,
                                #rt::__private::field_mut::<#count_ty>(raw, #at),
                            )?;
                        })
                    }
                    _ => None,
                }
            })
            .collect();

        fixed_to_raw
    }

    /// The view's accessor methods, one per field.
    fn accessors(&self) -> Vec<TokenStream> {
        let Plan {
            ident,
            vis,
            rt,
            wire_name,
            fields,
            counts,
            ..
        } = self;
        let name_lit = wire_name.as_str();
        let start = |k: &Ident| self.start(k);
        let _ = (ident, vis, rt, fields, counts, name_lit, &start);
        // View accessors.
        let mut accessors = Vec::new();
        for f in fields.iter() {
            let id = &f.ident;
            let ty = &f.ty;
            let w = &f.wire;
            let doc = format!("`{w}`");
            match &f.kind {
                Kind::Fixed => {
                    let at = start(id);
                    accessors.push(quote! {
                        #[doc = #doc]
                        #[inline]
                        pub fn #id(&self) -> <#ty as #rt::Fixed>::View<'a> {
                            let raw: &'a [u8] = self.raw;
                            <#ty as #rt::Fixed>::view_raw(#rt::__private::field::<#ty>(raw, #at))
                        }
                    })
                }
                Kind::FixedString(n) => {
                    let b = format_ident!("{}_bytes", unraw(id));
                    let at = start(id);
                    accessors.push(quote! {
                        #[doc = #doc]
                        #[doc = " (up to the first NUL; invalid UTF-8 is an error)"]
                        #[inline]
                        pub fn #id(&self) -> ::core::result::Result<&'a str, #rt::DecodeError> {
                            let raw: &'a [u8] = self.raw;
                            #rt::__private::fixed_str_view(&raw[#at..#at + #n], #name_lit, #w)
                        }
                        #[doc = #doc]
                        #[doc = " as bytes, up to the first NUL"]
                        #[inline]
                        pub fn #b(&self) -> &'a [u8] {
                            let raw: &'a [u8] = self.raw;
                            #rt::__private::fixed_str_bytes(&raw[#at..#at + #n])
                        }
                    });
                }
                Kind::VarString => {
                    let b = format_ident!("{}_bytes", unraw(id));
                    accessors.push(quote! {
                        #[doc = #doc]
                        #[inline]
                        pub fn #id(&self) -> ::core::result::Result<&'a str, #rt::DecodeError> {
                            #rt::__private::var_str_view(self.tail, #name_lit, #w)
                        }
                        #[doc = #doc]
                        #[doc = " as bytes"]
                        #[inline]
                        pub fn #b(&self) -> &'a [u8] { self.tail }
                    });
                }
                Kind::Vla { elem, .. } => accessors.push(quote! {
                    #[doc = #doc]
                    #[inline]
                    pub fn #id(&self) -> #rt::VlaView<'a, #elem> { #rt::VlaView::new(self.tail) }
                }),
                Kind::Tail => accessors.push(quote! {
                    #[doc = #doc]
                    #[inline]
                    pub fn #id(&self) -> <#ty as #rt::Wire>::View<'a> { self.tail }
                }),
            }
        }

        accessors
    }

    /// `Default` (with the `default=` values) and `WireDefault`.
    fn default_impl(&self) -> TokenStream {
        let Plan {
            ident,
            vis,
            rt,
            wire_name,
            fields,
            counts,
            ..
        } = self;
        let name_lit = wire_name.as_str();
        let start = |k: &Ident| self.start(k);
        let _ = (ident, vis, rt, fields, counts, name_lit, &start);
        let defaults: Vec<TokenStream> = fields
            .iter()
            .map(|f| {
                let id = &f.ident;
                let ty = &f.ty;
                match &f.attrs.default {
                    // VPP's JSON has integer defaults on bools (`sort_masks [default=0]`,
                    // `enable [default=0xffffffff]`): C truth, non-zero is true.
                    Some(syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Int(i),
                        ..
                    })) if is_named(ty, "bool") => {
                        let truth = i.base10_parse::<u128>().map(|v| v != 0).unwrap_or(true);
                        quote!(#id: #truth)
                    }
                    // A bare literal is typed as the field's base type first, so `4294967295` works
                    // for `u32`, `InterfaceIndex` and enums alike.
                    Some(e @ syn::Expr::Lit(_)) | Some(e @ syn::Expr::Unary(_)) => quote!(#id: {
                        let v: <#ty as #rt::LiteralDefault>::Literal = #e;
                        ::core::convert::From::from(v)
                    }),
                    Some(e) => quote!(#id: ::core::convert::From::from(#e)),
                    None => quote!(#id: <#ty as #rt::WireDefault>::wire_default()),
                }
            })
            .collect();
        let codec_common = quote! {
            #[allow(deprecated)]
            impl ::core::default::Default for #ident {
                #[inline]
                fn default() -> Self {
                    Self { #(#defaults,)* }
                }
            }
            #[allow(deprecated)]
            impl #rt::WireDefault for #ident {
                #[inline]
                fn wire_default() -> Self { ::core::default::Default::default() }
            }
        };
        codec_common
    }

    /// `Reflect`: the value tree, count fields included, in wire order.
    fn reflect_impl(&self) -> TokenStream {
        let Plan {
            ident,
            vis,
            rt,
            wire_name,
            fields,
            counts,
            ..
        } = self;
        let name_lit = wire_name.as_str();
        let start = |k: &Ident| self.start(k);
        let _ = (ident, vis, rt, fields, counts, name_lit, &start);
        let mut reflect = Vec::new();
        for (i, f) in fields.iter().enumerate() {
            for (pos, cid, _) in counts.iter() {
                if *pos == i {
                    let cw = cid.to_string();
                    // Which VLA this count belongs to.
                    let vla = fields
                        .iter()
                        .find(|g| matches!(&g.kind, Kind::Vla { count, .. } if unraw(count) == cw))
                        .map(|g| &g.ident);
                    reflect.push(quote!((#cw, #rt::Value::Int(self.#vla.len() as i128))));
                }
            }
            let id = &f.ident;
            let w = &f.wire;
            reflect.push(quote!((#w, #rt::Reflect::to_value(&self.#id))));
        }
        quote! {
            #[allow(deprecated)]
            impl #rt::Reflect for #ident {
                #[inline]
                fn to_value(&self) -> #rt::Value {
                    #rt::Value::Struct(::std::vec![#(#reflect),*])
                }
            }
        }
    }

    /// `Random`: a random value of every field within its limits.
    fn random_impl(&self) -> TokenStream {
        let Plan {
            ident,
            vis,
            rt,
            wire_name,
            fields,
            counts,
            ..
        } = self;
        let name_lit = wire_name.as_str();
        let start = |k: &Ident| self.start(k);
        let _ = (ident, vis, rt, fields, counts, name_lit, &start);
        let randoms: Vec<TokenStream> = fields
            .iter()
            .map(|f| {
                let id = &f.ident;
                let ty = &f.ty;
                match &f.kind {
                    Kind::Fixed | Kind::Tail => quote!(#id: <#ty as #rt::Random>::random(rng)),
                    Kind::FixedString(n) => {
                        let max = f.attrs.limit.map_or(n - 1, |l| l.min(n - 1));
                        quote!(#id: rng.string(#max))
                    }
                    Kind::VarString => {
                        let max = f.attrs.limit.unwrap_or(64);
                        quote!(#id: rng.string(#max))
                    }
                    Kind::Vla { count_ty, elem, .. } => {
                        let limit = f.attrs.limit.map_or(quote!(u64::MAX), |l| {
                            let l = l as u64;
                            quote!(#l)
                        });
                        quote! {
                            #id: {
                                let n = rng.len(::core::cmp::min(<#count_ty as #rt::__private::CountField>::MAX_LEN, #limit));
                                (0..n).map(|_| <#elem as #rt::Random>::random(rng)).collect()
                            }
                        }
                    }
                }
            })
            .collect();

        quote! {
            #[allow(deprecated)]
            impl #rt::Random for #ident {
                #[inline]
                fn random(rng: &mut #rt::SmallRng) -> Self {
                    let _ = &rng;
                    Self { #(#randoms,)* }
                }
            }
        }
    }

    /// The view type and `Fixed` (no tail) or `Wire` (with a tail), with the layout constants.
    fn wire_impl(&self) -> TokenStream {
        let Plan {
            ident,
            vis,
            rt,
            wire_name,
            fields,
            counts,
            ..
        } = self;
        let name_lit = wire_name.as_str();
        let start = |k: &Ident| self.start(k);
        let _ = (ident, vis, rt, fields, counts, name_lit, &start);
        let layout_consts = self.layout_consts();
        let raw_ty = quote!([u8; #ident::__VPP_SIZE]);
        let view_name = format_ident!("{}View", ident);
        let tail = self.tail();
        let fixed_from_raw = self.fixed_from_raw();
        let fixed_to_raw = self.fixed_to_raw();
        let accessors = self.accessors();
        let view_doc = format!("Zero-copy view of a received [`{ident}`] (`{wire_name}`).");

        if let Some(t) = tail {
            let tid = &t.ident;
            let tw = &t.wire;
            let tty = &t.ty;
            let (tail_ty, tail_split, tail_owned_decode, tail_view_owned, tail_len, tail_encode) =
                match &t.kind {
                    Kind::VarString => (
                        quote!(&'a [u8]),
                        quote!(#rt::__private::var_str_split(rest, #name_lit, #tw)?),
                        quote!(#rt::__private::var_str_decode(rest, #name_lit, #tw)?),
                        quote!(::std::borrow::ToOwned::to_owned(#rt::__private::var_str_view(self.tail, #name_lit, #tw)?)),
                        quote!(#rt::__private::var_str_len(&self.#tid)),
                        {
                            let limit = opt_limit(t.attrs.limit);
                            quote!(#rt::__private::var_str_encode(&self.#tid, rest, #name_lit, #tw, #limit)?)
                        },
                    ),
                    Kind::Vla {
                        count,
                        count_ty,
                        elem,
                    } => {
                        let cw = unraw(count);
                        let count_at = start(&Ident::new(&cw, count.span()));
                        (
                            quote!(&'a [<#elem as #rt::Fixed>::Raw]),
                            quote!(#rt::__private::vla_split::<#elem>(
                            rest,
                            #rt::__private::count_from_raw::<#count_ty>(#rt::__private::field::<#count_ty>(raw, #count_at), #name_lit, #cw)?,
                            #name_lit, #tw)?),
                            quote!(#rt::__private::vla_decode::<#elem>(
                            rest,
                            #rt::__private::count_from_raw::<#count_ty>(#rt::__private::field::<#count_ty>(raw, #count_at), #name_lit, #cw)?,
                            #name_lit, #tw)?),
                            quote!(#rt::VlaView::<'_, #elem>::new(self.tail).to_vec()?),
                            quote!(self.#tid.len() * <#elem as #rt::Fixed>::SIZE),
                            quote!(#rt::__private::vla_encode::<#elem>(&self.#tid, rest, #name_lit)?),
                        )
                    }
                    _ => (
                        quote!(<#tty as #rt::Wire>::View<'a>),
                        quote!(<#tty as #rt::Wire>::view(rest)?),
                        quote!(<#tty as #rt::Wire>::decode(rest)?),
                        quote!(<#tty as #rt::Wire>::view_to_owned(&self.tail)?),
                        quote!(<#tty as #rt::Wire>::encoded_len(&self.#tid)),
                        quote!(<#tty as #rt::Wire>::encode_to(&self.#tid, rest)?),
                    ),
                };
            quote! {
                #layout_consts

                #[doc = #view_doc]
                #[derive(Clone, Copy)]
                #vis struct #view_name<'a> {
                    raw: &'a #raw_ty,
                    tail: #tail_ty,
                }

                #[allow(deprecated)]
                impl<'a> #view_name<'a> {
                    /// The fixed part's wire bytes.
                    #[inline]
                    pub fn as_raw(&self) -> &'a #raw_ty { self.raw }
                    #(#accessors)*
                    /// Decode into the owned type.
                    #[allow(clippy::wrong_self_convention, clippy::should_implement_trait)]
                    #[inline]
                    pub fn to_owned(&self) -> ::core::result::Result<#ident, #rt::DecodeError> {
                        let raw = self.raw;
                        ::core::result::Result::Ok(#ident { #(#fixed_from_raw,)* #tid: #tail_view_owned })
                    }
                }

                #[allow(deprecated)]
                impl #rt::Wire for #ident {
                    type View<'a> = #view_name<'a>;
                    const WIRE_NAME: &'static str = #name_lit;
                    const FIXED_SIZE: usize = #ident::__VPP_SIZE;

                    #[inline]
                    fn encoded_len(&self) -> usize {
                        #ident::__VPP_SIZE + #tail_len
                    }
                    #[inline]
                    fn encode_to(&self, buf: &mut [u8]) -> ::core::result::Result<usize, #rt::EncodeError> {
                        let need = #rt::Wire::encoded_len(self);
                        if buf.len() < need {
                            return ::core::result::Result::Err(#rt::EncodeError::BufferTooSmall { ty: #name_lit, need, have: buf.len() });
                        }
                        let (raw, rest) = #rt::__private::split_raw_mut::<#raw_ty>(buf, #name_lit)?;
                        #(#fixed_to_raw)*
                        let n = #tail_encode;
                        ::core::result::Result::Ok(#ident::__VPP_SIZE + n)
                    }
                    #[inline]
                    fn decode(buf: &[u8]) -> ::core::result::Result<(Self, usize), #rt::DecodeError> {
                        let (raw, rest) = #rt::__private::split_raw::<#raw_ty>(buf, #name_lit)?;
                        let (#tid, n) = #tail_owned_decode;
                        ::core::result::Result::Ok((#ident { #(#fixed_from_raw,)* #tid }, #ident::__VPP_SIZE + n))
                    }
                    #[inline]
                    fn view(buf: &[u8]) -> ::core::result::Result<(#view_name<'_>, usize), #rt::DecodeError> {
                        let (raw, rest) = #rt::__private::split_raw::<#raw_ty>(buf, #name_lit)?;
                        let (tail, n) = #tail_split;
                        ::core::result::Result::Ok((#view_name { raw, tail }, #ident::__VPP_SIZE + n))
                    }
                    #[inline]
                    fn view_to_owned(view: &#view_name<'_>) -> ::core::result::Result<Self, #rt::DecodeError> {
                        view.to_owned()
                    }
                }
            }
        } else {
            // The most common shapes (`{ i32 retval }` and `{}`: 752 of 2030 messages in 26.06)
            // share one generic view type instead of one each.
            let shared = match self.fields.as_slice() {
                [] => Some(quote!(#rt::EmptyView)),
                [f] if f.wire == "retval"
                    && matches!(f.kind, Kind::Fixed)
                    && is_named(&f.ty, "i32") =>
                {
                    Some(quote!(#rt::RetvalView))
                }
                _ => None,
            };
            let (view_def, view_new) = match shared {
                Some(shared) => (
                    quote! {
                        #[doc = #view_doc]
                        #vis type #view_name<'a> = #shared<'a, #ident>;
                    },
                    quote!(#view_name::new(raw)),
                ),
                None => (
                    quote! {
                        #[doc = #view_doc]
                        #[derive(Clone, Copy)]
                        #vis struct #view_name<'a> {
                            raw: &'a #raw_ty,
                        }

                        #[allow(deprecated)]
                        impl<'a> #view_name<'a> {
                            /// The wire bytes.
                            #[inline]
                            pub fn as_raw(&self) -> &'a #raw_ty { self.raw }
                            #(#accessors)*
                            /// Decode into the owned type.
                            #[allow(clippy::wrong_self_convention, clippy::should_implement_trait)]
                            #[inline]
                            pub fn to_owned(&self) -> ::core::result::Result<#ident, #rt::DecodeError> {
                                <#ident as #rt::Fixed>::from_raw(self.raw)
                            }
                        }
                    },
                    quote!(#view_name { raw }),
                ),
            };
            quote! {
                #layout_consts

                #view_def

                #[allow(deprecated)]
                impl #rt::Fixed for #ident {
                    type Raw = #raw_ty;
                    type View<'a> = #view_name<'a>;
                    const WIRE_NAME: &'static str = #name_lit;
                    #[inline]
                    fn from_raw(raw: &#raw_ty) -> ::core::result::Result<Self, #rt::DecodeError> {
                        let _ = raw;
                        ::core::result::Result::Ok(#ident { #(#fixed_from_raw,)* })
                    }
                    #[inline]
                    fn to_raw(&self, raw: &mut #raw_ty) -> ::core::result::Result<(), #rt::EncodeError> {
                        let _ = &raw;
                        #(#fixed_to_raw)*
                        ::core::result::Result::Ok(())
                    }
                    #[inline]
                    fn view_raw(raw: &#raw_ty) -> #view_name<'_> { #view_new }
                    #[inline]
                    fn view_to_owned(view: &#view_name<'_>) -> ::core::result::Result<Self, #rt::DecodeError> {
                        view.to_owned()
                    }
                }
            }
        }
    }
}

fn opt_limit(l: Option<usize>) -> TokenStream {
    match l {
        Some(l) => quote!(::core::option::Option::Some(#l)),
        None => quote!(::core::option::Option::None),
    }
}

fn message_impl(
    ident: &Ident,
    wire_name: &str,
    ta: &crate::attrs::TypeAttrs,
    retval_at: Option<TokenStream>,
    cursor_at: Option<TokenStream>,
) -> syn::Result<TokenStream> {
    let rt = ta.codec();
    // Facts the layout fixes, as constants: the runtime reads `retval` and `cursor` in place.
    let offset_of = |at: Option<TokenStream>| match at {
        Some(at) => quote!(::core::option::Option::Some(
            <Self as #rt::Message>::HEADER.body_offset() + #at
        )),
        None => quote!(::core::option::Option::None),
    };
    let retval_offset = offset_of(retval_at);
    let cursor_offset = offset_of(cursor_at);
    let Some((crc, _)) = ta.crc else {
        return Err(syn::Error::new(
            Span::call_site(),
            "VppMessage needs #[vpp(crc = 0x........)]",
        ));
    };
    if ta.name.is_none() {
        return Err(syn::Error::new(
            Span::call_site(),
            "VppMessage needs #[vpp(name = \"message_name\")]",
        ));
    }
    let Some((kind, kspan)) = &ta.kind else {
        return Err(syn::Error::new(
            Span::call_site(),
            "VppMessage needs #[vpp(kind = \"request\" | \"reply\" | \"details\" | \"event\" | \"other\")]",
        ));
    };
    let (kind_tok, default_header) = match kind.as_str() {
        "request" => (quote!(Request), "client_index,context"),
        "reply" => (quote!(Reply), "context"),
        "details" => (quote!(Details), "context"),
        "event" => (quote!(Event), "client_index"),
        "other" => (quote!(Other), "none"),
        _ => {
            return Err(syn::Error::new(
                *kspan,
                "kind must be one of \"request\", \"reply\", \"details\", \"event\", \"other\"",
            ))
        }
    };
    let (header, hspan) = ta
        .header
        .clone()
        .unwrap_or((default_header.to_owned(), Span::call_site()));
    let header_norm: String = header.chars().filter(|c| !c.is_whitespace()).collect();
    let header_tok = match header_norm.as_str() {
        "client_index,context" => quote!(ClientIndexContext),
        "context" => quote!(Context),
        "client_index" => quote!(ClientIndex),
        "none" | "" => quote!(None),
        _ => return Err(syn::Error::new(
            hspan,
            "header must be \"client_index,context\", \"context\", \"client_index\" or \"none\"",
        )),
    };
    let name_crc = format!("{wire_name}_{crc:08x}");
    let reply = ta.reply.as_ref().map(|r| {
        quote! {
            #[allow(deprecated)]
            impl #rt::Request for #ident { type Reply = #r; }
        }
    });
    let details = ta.details.as_ref().map(|d| {
        quote! {
            #[allow(deprecated)]
            impl #rt::Dump for #ident { type Details = #d; }
        }
    });
    let events = match (&ta.events, &ta.reply) {
        (Some(_), None) => {
            return Err(syn::Error::new(
                Span::call_site(),
                "`events(...)` needs the subscription's `reply = ...` too",
            ))
        }
        (Some(ev), Some(_)) => Some(quote! {
            #[allow(deprecated)]
            impl #rt::Subscribe for #ident {
                const EVENTS: &'static [&'static str] = &[#(<#ev as #rt::Message>::NAME_CRC),*];
            }
        }),
        _ => None,
    };
    Ok(quote! {
        #reply
        #details
        #events
        #[allow(deprecated)]
        impl #rt::Message for #ident {
            const NAME: &'static str = #wire_name;
            const CRC: u32 = #crc;
            const NAME_CRC: &'static str = #name_crc;
            const KIND: #rt::MessageKind = #rt::MessageKind::#kind_tok;
            const HEADER: #rt::Header = #rt::Header::#header_tok;
            const RETVAL_OFFSET: ::core::option::Option<usize> = #retval_offset;
            const CURSOR_OFFSET: ::core::option::Option<usize> = #cursor_offset;
            #[inline]
            fn id_slot() -> &'static #rt::IdSlot {
                static SLOT: #rt::IdSlot = #rt::IdSlot::new();
                &SLOT
            }
        }
    })
}

/// `typedef u32 interface_index;` as `struct InterfaceIndex(pub u32)`.
fn derive_alias(
    input: &DeriveInput,
    wire_name: String,
    inner: &Type,
    rt: &TokenStream,
    part: Part,
) -> syn::Result<TokenStream> {
    let ident = &input.ident;
    match part {
        Part::Codec => {}
        Part::Reflect => {
            return Ok(quote! {
                #[allow(deprecated)]
                impl #rt::Reflect for #ident {
                    #[inline]
                    fn to_value(&self) -> #rt::Value { #rt::Reflect::to_value(&self.0) }
                }
            })
        }
        Part::Random => {
            return Ok(quote! {
                #[allow(deprecated)]
                impl #rt::Random for #ident {
                    #[inline]
                    fn random(rng: &mut #rt::SmallRng) -> Self { #ident(<#inner as #rt::Random>::random(rng)) }
                }
            })
        }
    }
    let scalar = [
        "u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64", "f64", "bool",
    ]
    .iter()
    .any(|s| is_named(inner, s));
    let byte_array = matches!(inner, Type::Array(a) if is_named(&a.elem, "u8"));
    let (view_ty, view_raw, view_owned) = if scalar {
        (
            quote!(#ident),
            quote!(#ident(<#inner as #rt::Fixed>::view_raw(raw))),
            quote!(::core::result::Result::Ok(*view)),
        )
    } else if byte_array {
        (
            quote!(#ident),
            quote!(#ident(*raw)),
            quote!(::core::result::Result::Ok(*view)),
        )
    } else {
        (
            quote!(<#inner as #rt::Fixed>::View<'a>),
            quote!(<#inner as #rt::Fixed>::view_raw(raw)),
            quote!(<#inner as #rt::Fixed>::view_to_owned(view).map(#ident)),
        )
    };
    let literal = if scalar {
        quote! {
            #[allow(deprecated)]
            impl #rt::LiteralDefault for #ident {
                type Literal = <#inner as #rt::LiteralDefault>::Literal;
            }
        }
    } else {
        quote!()
    };
    Ok(quote! {
        #[allow(deprecated)]
        impl #rt::Fixed for #ident {
            type Raw = <#inner as #rt::Fixed>::Raw;
            type View<'a> = #view_ty;
            const WIRE_NAME: &'static str = #wire_name;
            #[inline]
            fn from_raw(raw: &Self::Raw) -> ::core::result::Result<Self, #rt::DecodeError> {
                <#inner as #rt::Fixed>::from_raw(raw).map(#ident)
            }
            #[inline]
            fn to_raw(&self, raw: &mut Self::Raw) -> ::core::result::Result<(), #rt::EncodeError> {
                <#inner as #rt::Fixed>::to_raw(&self.0, raw)
            }
            #[inline]
            fn view_raw(raw: &Self::Raw) -> Self::View<'_> { #view_raw }
            #[inline]
            fn view_to_owned(view: &Self::View<'_>) -> ::core::result::Result<Self, #rt::DecodeError> { #view_owned }
        }
        #[allow(deprecated)]
        impl ::core::default::Default for #ident {
            #[inline]
            fn default() -> Self { #ident(<#inner as #rt::WireDefault>::wire_default()) }
        }
        #[allow(deprecated)]
        impl #rt::WireDefault for #ident {
            #[inline]
            fn wire_default() -> Self { ::core::default::Default::default() }
        }
        #literal
        #[allow(deprecated)]
        impl ::core::convert::From<#inner> for #ident {
            #[inline]
            fn from(v: #inner) -> Self { #ident(v) }
        }
        #[allow(deprecated)]
        impl ::core::convert::From<#ident> for #inner {
            #[inline]
            fn from(v: #ident) -> Self { v.0 }
        }
    })
}
