//! Parsing of `#[vpp(...)]` attributes.

use proc_macro2::Span;
use syn::parse::Parse;
use syn::{Attribute, Expr, Ident, LitInt, LitStr, Token, Type};

/// Struct / enum level attributes.
#[derive(Default)]
pub struct TypeAttrs {
    pub name: Option<String>,
    pub crc: Option<(u32, Span)>,
    pub kind: Option<(String, Span)>,
    pub header: Option<(String, Span)>,
    pub values: Vec<(Ident, Expr)>,
    pub arms: Vec<(Ident, Type)>,
    pub tag: Option<(Ident, Type)>,
    pub union: Option<(Ident, Type)>,
    pub reply: Option<Type>,
    pub details: Option<Type>,
    pub events: Option<Vec<Type>>,
    /// `crate = "::path::to::codec"`: where the codec is (default `::vppapi_codec`).
    pub krate: Option<syn::Path>,
}

impl TypeAttrs {
    /// The path of the codec crate the generated code names.
    pub fn codec(&self) -> proc_macro2::TokenStream {
        match &self.krate {
            Some(p) => quote::quote!(#p),
            None => quote::quote!(::vppapi_codec),
        }
    }
    /// The same path as a string (for `#[zerocopy(crate = "...")]`).
    pub fn codec_str(&self) -> String {
        match &self.krate {
            Some(p) => quote::quote!(#p).to_string().replace(' ', ""),
            None => "::vppapi_codec".to_owned(),
        }
    }
}

/// Field / variant level attributes.
#[derive(Default)]
pub struct FieldAttrs {
    /// `Some(0)` = variable string, `Some(n)` = fixed `string[n]`.
    pub string: Option<(usize, Span)>,
    pub count: Option<(String, Span)>,
    pub count_ty: Option<Type>,
    pub count_before: Option<(String, Span)>,
    pub tail: bool,
    pub default: Option<Expr>,
    pub limit: Option<usize>,
    pub name: Option<String>,
    pub case: Option<Expr>,
    pub other: bool,
}

fn lit_str(meta: &syn::meta::ParseNestedMeta) -> syn::Result<LitStr> {
    meta.value()?.parse::<LitStr>()
}

/// `ident: Type`
struct NamedType(Ident, Type);
impl Parse for NamedType {
    fn parse(input: syn::parse::ParseStream) -> syn::Result<Self> {
        let id: Ident = input.parse()?;
        input.parse::<Token![:]>()?;
        Ok(NamedType(id, input.parse()?))
    }
}

fn named_type(meta: &syn::meta::ParseNestedMeta) -> syn::Result<(Ident, Type)> {
    let v = meta.value()?;
    if v.peek(LitStr) {
        let s: LitStr = v.parse()?;
        let nt: NamedType = s.parse()?;
        Ok((nt.0, nt.1))
    } else {
        let nt: NamedType = v.parse()?;
        Ok((nt.0, nt.1))
    }
}

/// `Type` or `"Type"`.
fn type_value(meta: &syn::meta::ParseNestedMeta) -> syn::Result<Type> {
    let v = meta.value()?;
    if v.peek(LitStr) {
        v.parse::<LitStr>()?.parse()
    } else {
        v.parse()
    }
}

fn parse_usize(meta: &syn::meta::ParseNestedMeta, what: &str) -> syn::Result<usize> {
    let lit: LitInt = meta
        .value()?
        .parse()
        .map_err(|e| syn::Error::new(e.span(), format!("`{what}` takes an integer literal")))?;
    lit.base10_parse::<usize>()
}

pub fn type_attrs(attrs: &[Attribute]) -> syn::Result<TypeAttrs> {
    let mut out = TypeAttrs::default();
    for a in attrs.iter().filter(|a| a.path().is_ident("vpp")) {
        a.parse_nested_meta(|meta| {
            let key = meta
                .path
                .get_ident()
                .map(|i| i.to_string())
                .unwrap_or_default();
            match key.as_str() {
                "name" => out.name = Some(lit_str(&meta)?.value()),
                "crc" => {
                    let v = meta.value()?;
                    let lit: LitInt = v.parse().map_err(|e| {
                        syn::Error::new(
                            e.span(),
                            "`crc` takes an integer literal such as 0x51077d14",
                        )
                    })?;
                    let crc = lit.base10_parse::<u64>()?;
                    let crc = u32::try_from(crc)
                        .map_err(|_| syn::Error::new(lit.span(), "`crc` must fit in 32 bits"))?;
                    out.crc = Some((crc, lit.span()));
                }
                "kind" => {
                    let s = lit_str(&meta)?;
                    out.kind = Some((s.value(), s.span()));
                }
                "header" => {
                    let s = lit_str(&meta)?;
                    out.header = Some((s.value(), s.span()));
                }
                "values" => {
                    meta.parse_nested_meta(|m| {
                        let id = m.path.require_ident()?.clone();
                        let e: Expr = m.value()?.parse()?;
                        out.values.push((id, e));
                        Ok(())
                    })?;
                }
                "arms" => {
                    let content;
                    syn::parenthesized!(content in meta.input);
                    let list = content.parse_terminated(NamedType::parse, Token![,])?;
                    out.arms.extend(list.into_iter().map(|n| (n.0, n.1)));
                }
                "reply" => out.reply = Some(type_value(&meta)?),
                "details" => out.details = Some(type_value(&meta)?),
                "events" => {
                    let content;
                    syn::parenthesized!(content in meta.input);
                    let list = content.parse_terminated(Type::parse, Token![,])?;
                    out.events = Some(list.into_iter().collect());
                }
                "crate" => out.krate = Some(lit_str(&meta)?.parse()?),
                "tag" => out.tag = Some(named_type(&meta)?),
                "union" => out.union = Some(named_type(&meta)?),
                _ => {
                    return Err(meta.error(format!(
                        "unknown vpp attribute `{key}` here (expected one of: name, crc, kind, \
                         header, reply, details, events, values, arms, tag, union, crate)"
                    )))
                }
            }
            Ok(())
        })?;
    }
    Ok(out)
}

pub fn field_attrs(attrs: &[Attribute]) -> syn::Result<FieldAttrs> {
    let mut out = FieldAttrs::default();
    for a in attrs.iter().filter(|a| a.path().is_ident("vpp")) {
        a.parse_nested_meta(|meta| {
            let key = meta
                .path
                .get_ident()
                .map(|i| i.to_string())
                .unwrap_or_default();
            let span = meta
                .path
                .get_ident()
                .map(|i| i.span())
                .unwrap_or_else(Span::call_site);
            match key.as_str() {
                "string" => {
                    let n = if meta.input.peek(Token![=]) {
                        parse_usize(&meta, "string")?
                    } else {
                        0
                    };
                    out.string = Some((n, span));
                }
                "count" => {
                    let s = lit_str(&meta)?;
                    out.count = Some((s.value(), s.span()));
                }
                "count_ty" => out.count_ty = Some(lit_str(&meta)?.parse()?),
                "count_before" => {
                    let s = lit_str(&meta)?;
                    out.count_before = Some((s.value(), s.span()));
                }
                "tail" => out.tail = true,
                "default" => out.default = Some(meta.value()?.parse()?),
                "limit" => out.limit = Some(parse_usize(&meta, "limit")?),
                "name" => out.name = Some(lit_str(&meta)?.value()),
                "case" => out.case = Some(meta.value()?.parse()?),
                "other" => out.other = true,
                _ => {
                    return Err(meta.error(format!(
                        "unknown vpp field attribute `{key}` (expected one of: string, count, \
                         count_ty, count_before, tail, default, limit, name, case, other)"
                    )))
                }
            }
            Ok(())
        })?;
    }
    Ok(out)
}

/// `r#type` -> `type`.
pub fn unraw(id: &Ident) -> String {
    let s = id.to_string();
    s.strip_prefix("r#").map(str::to_owned).unwrap_or(s)
}

/// `FooBar` -> `foo_bar` (default wire name).
pub fn snake(id: &Ident) -> String {
    let mut out = String::new();
    for (i, c) in unraw(id).chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

pub fn no_generics(g: &syn::Generics) -> syn::Result<()> {
    if g.params.is_empty() && g.where_clause.is_none() {
        Ok(())
    } else {
        Err(syn::Error::new_spanned(
            g,
            "VPP wire types cannot be generic (the layout must be known)",
        ))
    }
}
