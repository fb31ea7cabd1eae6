//! The code generator: [`api_json::Api`] -> Rust modules that use the `vppapi-codec` derives.
//!
//! One module per API file. Every user type is generated once, in the module of the file that
//! defines it ([`api_json::api::TypeEntry::home`]); other modules `use super::<home>::Type`.
//! The common address types (`address`, `prefix`, `mac_address`, `interface_index`, ...) are
//! re-exported from `vppapi_codec::net` instead of generated, when their definition has
//! the layout those types implement.
//!
//! Shape of the output for a message (see `vppapi-codec/src/lib.rs` for the derives):
//!
//! ```text
//! #[derive(Debug, Clone, PartialEq, VppMessage)]
//! #[vpp(name = "sw_interface_dump", crc = 0xaa610c27, kind = "request",
//!       header = "client_index,context", details = SwInterfaceDetails)]
//! pub struct SwInterfaceDump {
//!     #[vpp(default = 4294967295)]
//!     pub sw_if_index: InterfaceIndex,
//!     pub name_filter_valid: bool,
//!     #[vpp(string)]
//!     pub name_filter: String,
//! }
//! ```

pub mod names;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use api_json::api::{TypeEntry, UserType};
use api_json::classify::{MessageKind, ServiceKind};
use api_json::layout::{BaseType, FieldKind, FieldLayout, Layout};
use api_json::{Api, Field, OptionValue};
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use names::{const_ident, field_ident, type_ident, TypeNames};

/// A generation error: which API item and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{item}: {message}")]
pub struct GenError {
    /// The message, type or module concerned.
    pub item: String,
    /// What cannot be generated.
    pub message: String,
}

fn err(item: &str, message: impl Into<String>) -> GenError {
    GenError {
        item: item.to_owned(),
        message: message.into(),
    }
}

/// One generated module.
#[derive(Debug, Clone)]
pub struct GeneratedModule {
    /// Module name (the API file's module, e.g. `interface`), a valid Rust identifier.
    pub name: String,
    /// The API file it comes from (as loaded).
    pub source_file: String,
    /// Other generated modules this one refers to (for Cargo features).
    pub deps: BTreeSet<String>,
    /// Number of messages in it.
    pub message_count: usize,
    /// Number of user types generated in it (re-exports included).
    pub type_count: usize,
    /// The module body (items, formatted), without the surrounding `mod`.
    pub code: String,
    /// Rust names of its messages, in file order.
    pub messages: Vec<String>,
    /// Its messages' `MessageInfo` literals (for the table module).
    infos: Vec<TokenStream>,
    items: syn::File,
}

/// The output of [`generate`]: the modules in API file order.
#[derive(Debug, Clone)]
pub struct Generated {
    pub modules: Vec<GeneratedModule>,
    /// The options it was generated with.
    pub options: GenOptions,
}

/// The runtime's ready-made types, keyed by VPP type name: (Rust name, wire size, kind).
const RUNTIME_TYPES: &[(&str, &str, u32, &str)] = &[
    ("interface_index", "InterfaceIndex", 4, "alias"),
    ("mac_address", "MacAddress", 6, "alias"),
    ("ip4_address", "Ip4Address", 4, "alias"),
    ("ip6_address", "Ip6Address", 16, "alias"),
    ("address_family", "AddressFamily", 1, "enum"),
    ("address_union", "AddressUnion", 16, "union"),
    ("address", "Address", 17, "typedef"),
    ("prefix", "Prefix", 18, "typedef"),
    ("address_with_prefix", "AddressWithPrefix", 18, "alias"),
    ("ip4_prefix", "Ip4Prefix", 5, "typedef"),
    ("ip6_prefix", "Ip6Prefix", 17, "typedef"),
];

/// Whether the generated code gets an optional impl (`Reflect`, `Random`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    /// Not generated.
    Never,
    /// Always generated.
    Always,
    /// Generated behind `#[cfg(feature = "...")]` of the crate the code is compiled in.
    Feature(String),
}

/// How the generated code is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenOptions {
    /// Path of the codec crate the code names (default `::vppapi_codec`); another path (a
    /// facade's re-export, e.g. `::vppapi_runtime::codec`) is written into every derive as
    /// `#[vpp(crate = "...")]`.
    pub codec: String,
    /// `Reflect` impls (conversion to a `Value` tree).
    pub reflect: Gate,
    /// `Random` impls (seeded random instances, for tests).
    pub random: Gate,
    /// Feature name of a module in [`Generated::table`] and [`Generated::registry`]:
    /// `Some(prefix)` puts each module's entries under `#[cfg(feature = "<prefix><module>")]`.
    pub module_features: Option<String>,
}

impl Default for GenOptions {
    /// What a bindings crate uses: `::vppapi_codec`, `Reflect` and `Random` behind the crate's
    /// `reflect` / `random` features, module entries behind the module features.
    fn default() -> Self {
        GenOptions {
            codec: DEFAULT_CODEC.into(),
            reflect: Gate::Feature("reflect".into()),
            random: Gate::Feature("random".into()),
            module_features: Some(String::new()),
        }
    }
}

/// The codec path the derives use unless told otherwise.
pub const DEFAULT_CODEC: &str = "::vppapi_codec";

/// Names the generator gives its own modules (an API module with one of them gets a suffix).
const RESERVED_MODULES: &[&str] = &["registry", "table"];

struct Ctx<'a> {
    opts: &'a GenOptions,
    api: &'a Api,
    names: TypeNames,
    /// Type name -> generated module name.
    type_module: HashMap<String, String>,
    /// Message name -> generated module name.
    msg_module: HashMap<String, String>,
    /// Types replaced by runtime types: VPP name -> Rust name.
    runtime: HashMap<String, &'static str>,
}

/// What a module refers to outside itself.
#[derive(Default)]
struct Refs {
    /// module -> names
    external: BTreeMap<String, BTreeSet<String>>,
    derives: BTreeSet<&'static str>,
}

impl Ctx<'_> {
    fn codec(&self) -> TokenStream {
        self.opts
            .codec
            .parse()
            .unwrap_or_else(|_| quote!(::vppapi_codec))
    }

    /// Attributes every generated item carries after its `#[derive(...)]`: the codec path when
    /// it is not the default, and the optional derives (behind their features).
    fn extras(&self) -> TokenStream {
        let codec = self.codec();
        let krate = if self.opts.codec == DEFAULT_CODEC {
            quote!()
        } else {
            let c = &self.opts.codec;
            quote!(#[vpp(crate = #c)])
        };
        let gate = |g: &Gate, d: TokenStream| match g {
            Gate::Never => quote!(),
            Gate::Always => quote!(#[derive(#d)]),
            Gate::Feature(f) => quote!(#[cfg_attr(feature = #f, derive(#d))]),
        };
        let reflect = gate(&self.opts.reflect, quote!(#codec::VppReflect));
        let random = gate(&self.opts.random, quote!(#codec::VppRandom));
        quote!(#krate #reflect #random)
    }

    fn type_size(&self, name: &str, depth: usize) -> Option<u32> {
        let entry = self.api.user_type(name)?;
        match &entry.def {
            UserType::Typedef(_) | UserType::Union(_) => {
                self.api.type_layout(name).map(|l| l.fixed_size)
            }
            UserType::Enum(e) | UserType::EnumFlag(e) => Some(e.enumtype.size()),
            UserType::Alias(a) => {
                let one = match BaseType::parse(&a.ty) {
                    Some(b) => b.size(),
                    None if depth < 16 => self.type_size(&a.ty, depth + 1)?,
                    None => return None,
                };
                Some(one * a.length.unwrap_or(1))
            }
        }
    }

    /// Rust path of a user type as seen from module `from`, recording the import.
    fn type_ref(&self, c_name: &str, from: &str, refs: &mut Refs) -> Result<TokenStream, GenError> {
        let bare = api_json::layout::bare_type_name(c_name).unwrap_or(c_name);
        let rust = self
            .names
            .user_type(bare)
            .ok_or_else(|| err(from, format!("unknown type {c_name}")))?;
        let home = self
            .type_module
            .get(bare)
            .ok_or_else(|| err(from, format!("type {bare} has no module")))?;
        if home != from {
            refs.external
                .entry(home.clone())
                .or_default()
                .insert(rust.to_owned());
        }
        let id = type_ident(rust);
        Ok(quote!(#id))
    }

    fn msg_ref(&self, name: &str, from: &str, refs: &mut Refs) -> Result<TokenStream, GenError> {
        let rust = self
            .names
            .message(name)
            .ok_or_else(|| err(from, format!("unknown message {name}")))?;
        let home = &self.msg_module[name];
        if home != from {
            refs.external
                .entry(home.clone())
                .or_default()
                .insert(rust.to_owned());
        }
        let id = type_ident(rust);
        Ok(quote!(#id))
    }

    /// The element type of a field (`u32`, `Prefix`, ...).
    fn elem_type(&self, ty: &str, module: &str, refs: &mut Refs) -> Result<TokenStream, GenError> {
        match BaseType::parse(ty) {
            Some(BaseType::String) => Err(err(module, "bare `string` element")),
            Some(b) => {
                let id = format_ident!("{}", b.name());
                Ok(quote!(#id))
            }
            None => self.type_ref(ty, module, refs),
        }
    }
}

/// Doc attributes from an API comment: markers stripped, kept verbatim in a `text` block (API
/// comments are not Markdown and must not become doctests).
fn doc_attrs(comment: Option<&str>, extra: &[String]) -> TokenStream {
    let mut lines: Vec<String> = Vec::new();
    if let Some(c) = comment {
        let body = c.trim();
        let body = body.strip_prefix("/**").unwrap_or(body);
        let body = body.strip_prefix("/*").unwrap_or(body);
        let body = body.strip_suffix("*/").unwrap_or(body);
        let mut text: Vec<String> = body
            .lines()
            .map(|l| {
                let t = l.trim();
                let t = t.strip_prefix('*').unwrap_or(t);
                t.strip_prefix(' ').unwrap_or(t).trim_end().to_owned()
            })
            .collect();
        while text.first().is_some_and(|l| l.is_empty()) {
            text.remove(0);
        }
        while text.last().is_some_and(|l| l.is_empty()) {
            text.pop();
        }
        if !text.is_empty() {
            lines.push("```text".into());
            lines.extend(text.into_iter().map(|l| l.replace("```", "'''")));
            lines.push("```".into());
        }
    }
    for e in extra {
        if !lines.is_empty() {
            lines.push(String::new());
        }
        lines.push(e.clone());
    }
    let docs = lines.iter().map(|l| format!(" {l}"));
    quote!(#(#[doc = #docs])*)
}

fn option<'o>(opts: &'o [(String, OptionValue)], key: &str) -> Option<&'o OptionValue> {
    opts.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// `default=` as a literal of the field's base type (`None`: the field cannot take one).
fn default_tokens(ctx: &Ctx, layout_ty: &str, v: &OptionValue) -> Option<TokenStream> {
    // The base type the literal is typed as: base types directly, enums by their repr,
    // aliases of scalars by their target.
    let mut base = BaseType::parse(layout_ty);
    let mut ty = layout_ty.to_owned();
    for _ in 0..16 {
        if base.is_some() {
            break;
        }
        match &ctx.api.user_type(&ty)?.def {
            UserType::Enum(e) | UserType::EnumFlag(e) => {
                base = BaseType::parse(e.enumtype.name());
            }
            UserType::Alias(a) if a.length.is_none() => {
                ty = a.ty.clone();
                base = BaseType::parse(&ty);
            }
            _ => return None,
        }
    }
    let base = base?;
    let int = |i: i128| -> TokenStream {
        let lit = Literal::i128_unsuffixed(i.abs());
        if i < 0 {
            quote!(-#lit)
        } else {
            quote!(#lit)
        }
    };
    Some(match (base, v) {
        (BaseType::Bool, OptionValue::Bool(b)) => quote!(#b),
        (BaseType::Bool, OptionValue::Int(i)) => {
            let b = *i != 0;
            quote!(#b)
        }
        (BaseType::Bool, OptionValue::Str(s)) if s == "true" || s == "false" => {
            let b = s == "true";
            quote!(#b)
        }
        (BaseType::F64, OptionValue::Float(f)) => {
            let l = Literal::f64_unsuffixed(*f);
            quote!(#l)
        }
        (BaseType::F64, OptionValue::Int(i)) => {
            let l = Literal::f64_unsuffixed(*i as f64);
            quote!(#l)
        }
        (b, OptionValue::Int(i)) if b.is_integer() => int(*i),
        (b, OptionValue::Bool(x)) if b.is_integer() => int(i128::from(*x)),
        _ => return None,
    })
}

/// Struct fields of a typedef or message block. `skip` leading fields (message header) are
/// left out; VLA count fields are left out (written from the `Vec`'s length).
fn struct_fields(
    ctx: &Ctx,
    item: &str,
    module: &str,
    fields: &[Field],
    layout: &Layout,
    skip: usize,
    refs: &mut Refs,
) -> Result<Vec<TokenStream>, GenError> {
    if fields.len() != layout.fields.len() {
        return Err(err(item, "layout and fields disagree"));
    }
    let counts: BTreeSet<&str> = layout
        .fields
        .iter()
        .filter_map(|f| match &f.kind {
            FieldKind::Vla { count_field, .. } => Some(count_field.as_str()),
            _ => None,
        })
        .collect();
    let mut out = Vec::new();
    let mut prev_kept: Option<&str> = None;
    for (i, (f, fl)) in fields.iter().zip(&layout.fields).enumerate().skip(skip) {
        if fl.name != f.name {
            return Err(err(item, "layout and fields disagree"));
        }
        if counts.contains(f.name.as_str()) {
            continue;
        }
        let (id, renamed) = field_ident(&f.name);
        let mut attrs: Vec<TokenStream> = Vec::new();
        if renamed {
            let n = &f.name;
            attrs.push(quote!(name = #n));
        }
        let ty = match &fl.kind {
            FieldKind::Scalar => {
                if fl.variable {
                    attrs.push(quote!(tail));
                }
                ctx.elem_type(&fl.ty, module, refs)?
            }
            FieldKind::Array { len } => {
                let e = ctx.elem_type(&fl.ty, module, refs)?;
                let n = Literal::usize_unsuffixed(*len as usize);
                quote!([#e; #n])
            }
            FieldKind::FixedString { len } => {
                if *len < 2 {
                    return Err(err(item, format!("field {}: string[{len}]", f.name)));
                }
                let n = Literal::usize_unsuffixed(*len as usize);
                attrs.push(quote!(string = #n));
                quote!(String)
            }
            FieldKind::VarString => {
                attrs.push(quote!(string));
                quote!(String)
            }
            FieldKind::Vla { count_field, .. } => {
                let cf = layout
                    .field(count_field)
                    .ok_or_else(|| err(item, format!("count {count_field} missing")))?;
                let cty = match BaseType::parse(&cf.ty) {
                    Some(b) if b.is_integer() => b.name(),
                    _ => {
                        return Err(err(
                            item,
                            format!("count field {count_field} is not a base integer"),
                        ))
                    }
                };
                attrs.push(quote!(count = #count_field, count_ty = #cty));
                // The count sits right before the VLA unless other fields come in between.
                let ci = layout
                    .fields
                    .iter()
                    .position(|g| g.name == *count_field)
                    .unwrap_or(i);
                if ci + 1 != i {
                    // Name the first kept field after the count: the count goes before it.
                    let after = layout.fields[ci + 1..i]
                        .iter()
                        .find(|g| !counts.contains(g.name.as_str()))
                        .map(|g| g.name.as_str());
                    if let Some(a) = after {
                        attrs.push(quote!(count_before = #a));
                    }
                }
                let e = ctx.elem_type(&fl.ty, module, refs)?;
                quote!(Vec<#e>)
            }
            FieldKind::Rest => {
                return Err(err(
                    item,
                    format!(
                        "field {}: legacy VLA without a count is not supported",
                        f.name
                    ),
                ))
            }
        };
        if let Some(v) = option(&f.options, "default") {
            if let Some(d) = default_tokens(ctx, &fl.ty, v) {
                attrs.push(quote!(default = #d));
            }
        }
        if let Some(OptionValue::Int(n)) = option(&f.options, "limit") {
            if matches!(
                fl.kind,
                FieldKind::FixedString { .. } | FieldKind::VarString | FieldKind::Vla { .. }
            ) && *n >= 0
            {
                let n = Literal::usize_unsuffixed(*n as usize);
                attrs.push(quote!(limit = #n));
            }
        }
        let attr = if attrs.is_empty() {
            quote!()
        } else {
            quote!(#[vpp(#(#attrs),*)])
        };
        out.push(quote! {
            #attr
            pub #id: #ty,
        });
        prev_kept = Some(&f.name);
    }
    let _ = prev_kept;
    Ok(out)
}

fn is_flag_like(e: &api_json::EnumDef) -> bool {
    let n = e.name.as_str();
    (n.ends_with("_flags") || n.ends_with("_flag"))
        && !e.members.is_empty()
        && e.members
            .iter()
            .all(|m| m.value >= 0 && (m.value == 0 || (m.value & (m.value - 1)) == 0))
}

fn gen_enum(
    ctx: &Ctx,
    e: &api_json::EnumDef,
    rust: &str,
    flags: bool,
    refs: &mut Refs,
) -> TokenStream {
    let extras = ctx.extras();
    let id = type_ident(rust);
    let name = &e.name;
    let repr = format_ident!("{}", e.enumtype.name());
    let mut seen = BTreeSet::new();
    let values = e.members.iter().filter_map(|m| {
        let c = const_ident(&m.name);
        if !seen.insert(c.to_string()) {
            return None;
        }
        let v = Literal::i64_unsuffixed(m.value.abs());
        Some(if m.value < 0 {
            quote!(#c = -#v)
        } else {
            quote!(#c = #v)
        })
    });
    let derive = if flags {
        refs.derives.insert("VppFlags");
        quote!(VppFlags)
    } else {
        refs.derives.insert("VppEnum");
        quote!(VppEnum)
    };
    let what = if flags {
        format!(
            "`{name}`: flags over `{}`; unknown bits are kept.",
            e.enumtype.name()
        )
    } else {
        format!(
            "`{name}`: enum over `{}`; unknown values are kept.",
            e.enumtype.name()
        )
    };
    quote! {
        #[doc = #what]
        #[derive(Clone, Copy, PartialEq, Eq, Hash, #derive)]
        #extras
        #[vpp(name = #name, values(#(#values),*))]
        pub struct #id(pub #repr);
    }
}

/// Whether a typedef is `{ tag; union [discriminator=tag] }` with a case on every arm.
fn tagged_parts<'a>(
    ctx: &'a Ctx,
    t: &'a api_json::TypeDef,
) -> Option<(&'a Field, &'a Field, &'a api_json::UnionDef)> {
    if t.fields.len() != 2 {
        return None;
    }
    let (tag, un) = (&t.fields[0], &t.fields[1]);
    match option(&un.options, "discriminator") {
        Some(OptionValue::Str(d)) if *d == tag.name => {}
        _ => return None,
    }
    if !matches!(tag.shape, api_json::FieldShape::Scalar)
        || !matches!(un.shape, api_json::FieldShape::Scalar)
    {
        return None;
    }
    let tag_enum = match &ctx.api.user_type(&tag.ty)?.def {
        UserType::Enum(e) | UserType::EnumFlag(e) => e,
        _ => return None,
    };
    let UserType::Union(u) = &ctx.api.user_type(&un.ty)?.def else {
        return None;
    };
    let all_cases = u.fields.iter().all(|a| {
        matches!(option(&a.options, "case"), Some(OptionValue::Str(c))
            if tag_enum.members.iter().any(|m| m.name == *c))
            && matches!(a.shape, api_json::FieldShape::Scalar)
    });
    all_cases.then_some((tag, un, u))
}

fn gen_tagged(
    ctx: &Ctx,
    module: &str,
    t: &api_json::TypeDef,
    rust: &str,
    (tag, un, u): (&Field, &Field, &api_json::UnionDef),
    refs: &mut Refs,
) -> Result<TokenStream, GenError> {
    let id = type_ident(rust);
    let name = &t.name;
    let tag_ty = ctx.type_ref(&tag.ty, module, refs)?;
    let un_ty = ctx.type_ref(&un.ty, module, refs)?;
    let (tag_id, _) = field_ident(&tag.name);
    let (un_id, _) = field_ident(&un.name);
    let mut variants = Vec::new();
    let mut used = BTreeSet::new();
    for a in &u.fields {
        let Some(OptionValue::Str(case)) = option(&a.options, "case") else {
            return Err(err(name, "arm without case"));
        };
        let mut v = names::camel(&a.name);
        if v == "Other" {
            v = "OtherArm".into();
        }
        while !used.insert(v.clone()) {
            v.push('_');
        }
        let vid = type_ident(&v);
        let aty = ctx.elem_type(&a.ty, module, refs)?;
        let cid = const_ident(case);
        let doc = format!(" `{}` = `{case}`.", a.name);
        variants.push(quote! {
            #[doc = #doc]
            #[vpp(case = #tag_ty::#cid)]
            #vid(#aty),
        });
    }
    refs.derives.insert("VppTagged");
    let extras = ctx.extras();
    let docs = doc_attrs(
        t.comment.as_deref(),
        &[format!(
            "`{name}`: `{}` decides the arm of `{}`; an unknown tag is kept in `Other`.",
            tag.name, un.name
        )],
    );
    Ok(quote! {
        #docs
        #[derive(Debug, Clone, PartialEq, VppTagged)]
        #extras
        #[vpp(name = #name, tag = #tag_id: #tag_ty, union = #un_id: #un_ty)]
        pub enum #id {
            #(#variants)*
            /// A tag without a case here: the raw tag and union bytes.
            #[vpp(other)]
            Other(#tag_ty, #un_ty),
        }
    })
}

/// Derive set of an alias: full value semantics for integers and byte arrays.
fn alias_derives(ctx: &Ctx, ty: &str) -> TokenStream {
    match BaseType::parse(ty) {
        Some(BaseType::F64) => quote!(Debug, Clone, Copy, PartialEq, PartialOrd),
        Some(_) => quote!(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord),
        None => match ctx.api.user_type(ty).map(|e| &e.def) {
            Some(UserType::Enum(_) | UserType::EnumFlag(_)) => {
                quote!(Debug, Clone, Copy, PartialEq, Eq, Hash)
            }
            _ => quote!(Debug, Clone, PartialEq),
        },
    }
}

fn gen_type(
    ctx: &Ctx,
    module: &str,
    name: &str,
    entry: &TypeEntry,
    refs: &mut Refs,
) -> Result<TokenStream, GenError> {
    let rust = ctx
        .names
        .user_type(name)
        .ok_or_else(|| err(name, "unnamed type"))?;
    if let Some(rt) = ctx.runtime.get(name) {
        let id = type_ident(rt);
        let rid = type_ident(rust);
        let codec = ctx.codec();
        let doc = format!(" `{name}`: the codec's ready-made type (same wire layout).");
        return Ok(if rt == &rust {
            quote!(#[doc = #doc] pub use #codec::net::#id;)
        } else {
            quote!(#[doc = #doc] pub use #codec::net::#id as #rid;)
        });
    }
    let id = type_ident(rust);
    let extras = ctx.extras();
    Ok(match &entry.def {
        UserType::Enum(e) => gen_enum(ctx, e, rust, is_flag_like(e), refs),
        UserType::EnumFlag(e) => gen_enum(ctx, e, rust, true, refs),
        UserType::Union(u) => {
            let size = ctx
                .api
                .type_layout(name)
                .map(|l| l.fixed_size)
                .ok_or_else(|| err(name, "no layout"))?;
            let mut arms = Vec::new();
            for a in &u.fields {
                let (aid, _) = field_ident(&a.name);
                let aty = match &a.shape {
                    api_json::FieldShape::Scalar => ctx.elem_type(&a.ty, module, refs)?,
                    api_json::FieldShape::Array { len } if a.ty != "string" && *len > 0 => {
                        let e = ctx.elem_type(&a.ty, module, refs)?;
                        let n = Literal::usize_unsuffixed(*len as usize);
                        quote!([#e; #n])
                    }
                    _ => return Err(err(name, format!("union arm {} is not fixed", a.name))),
                };
                arms.push(quote!(#aid: #aty));
            }
            refs.derives.insert("VppUnion");
            let n = Literal::usize_unsuffixed(size as usize);
            let doc = format!(
                " `{name}`: union of {size} bytes; read an arm with its accessor, build one with \
                 `from_<arm>`."
            );
            quote! {
                #[doc = #doc]
                #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, VppUnion)]
                #extras
                #[vpp(name = #name, arms(#(#arms),*))]
                pub struct #id(pub [u8; #n]);
            }
        }
        UserType::Alias(a) => {
            let inner = ctx.elem_type(&a.ty, module, refs)?;
            let inner = match a.length {
                Some(n) => {
                    let n = Literal::usize_unsuffixed(n as usize);
                    quote!([#inner; #n])
                }
                None => inner,
            };
            let derives = if a.length.is_some() {
                match BaseType::parse(&a.ty) {
                    Some(BaseType::F64) | None => quote!(Debug, Clone, Copy, PartialEq),
                    Some(_) => quote!(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord),
                }
            } else {
                alias_derives(ctx, &a.ty)
            };
            refs.derives.insert("VppType");
            let doc = format!(" `typedef {} {}`", a.ty, name);
            quote! {
                #[doc = #doc]
                #[derive(#derives, VppType)]
                #extras
                #[vpp(name = #name)]
                pub struct #id(pub #inner);
            }
        }
        UserType::Typedef(t) => {
            if let Some(parts) = tagged_parts(ctx, t) {
                return gen_tagged(ctx, module, t, rust, parts, refs);
            }
            let layout = ctx
                .api
                .type_layout(name)
                .ok_or_else(|| err(name, "no layout"))?;
            let fields = struct_fields(ctx, name, module, &t.fields, layout, 0, refs)?;
            refs.derives.insert("VppType");
            let docs = doc_attrs(t.comment.as_deref(), &[format!("`typedef {name}`")]);
            quote! {
                #docs
                #[derive(Debug, Clone, PartialEq, VppType)]
                #extras
                #[vpp(name = #name)]
                pub struct #id {
                    #(#fields)*
                }
            }
        }
    })
}

/// Header shape: how many leading fields (after `_vl_msg_id`) are header, and its name.
fn header_of(layout: &Layout) -> (usize, &'static str) {
    let is = |i: usize, n: &str| {
        layout.fields.get(i).is_some_and(|f: &FieldLayout| {
            f.name == n && f.ty == "u32" && f.kind == FieldKind::Scalar
        })
    };
    if is(1, "client_index") && is(2, "context") {
        (3, "client_index,context")
    } else if is(1, "context") {
        (2, "context")
    } else if is(1, "client_index") {
        (2, "client_index")
    } else {
        (1, "none")
    }
}

fn gen_message(
    ctx: &Ctx,
    module: &str,
    m: &api_json::api::MessageInfo,
    refs: &mut Refs,
) -> Result<TokenStream, GenError> {
    let name = &m.msg.name;
    let rust = ctx
        .names
        .message(name)
        .ok_or_else(|| err(name, "unnamed"))?;
    let id = type_ident(rust);
    if m.msg.fields.first().map(|f| f.name.as_str()) != Some("_vl_msg_id") {
        return Err(err(name, "first field is not _vl_msg_id"));
    }
    let (skip, header) = header_of(&m.layout);
    let fields = struct_fields(ctx, name, module, &m.msg.fields, &m.layout, skip, refs)?;
    let kind = match m.kind {
        MessageKind::Request => "request",
        MessageKind::Reply => "reply",
        MessageKind::Details => "details",
        MessageKind::Event => "event",
        MessageKind::Other => "other",
    };
    let crc = syn::LitInt::new(
        &format!("0x{:08x}", m.msg.crc),
        proc_macro2::Span::call_site(),
    );
    let mut vpp = vec![
        quote!(name = #name),
        quote!(crc = #crc),
        quote!(kind = #kind),
        quote!(header = #header),
    ];
    let mut notes = Vec::new();
    if let Some(s) = ctx.api.service(name) {
        let r = |n: &str, refs: &mut Refs| ctx.msg_ref(n, module, refs);
        match s.kind {
            ServiceKind::RequestReply => {
                let rep = r(s.service.reply.as_deref().unwrap_or_default(), refs)?;
                vpp.push(quote!(reply = #rep));
                notes.push(format!("Request; reply [`{rep}`]."));
            }
            ServiceKind::Dump => {
                let d = r(s.service.reply.as_deref().unwrap_or_default(), refs)?;
                vpp.push(quote!(details = #d));
                notes.push(format!("Dump; streams [`{d}`] (ended by a control ping)."));
            }
            ServiceKind::Cursor => {
                let rep = r(s.service.reply.as_deref().unwrap_or_default(), refs)?;
                let d = r(s.service.stream_msg.as_deref().unwrap_or_default(), refs)?;
                vpp.push(quote!(reply = #rep));
                vpp.push(quote!(details = #d));
                notes.push(format!(
                    "Cursor get; streams [`{d}`], then the reply [`{rep}`]."
                ));
            }
            ServiceKind::Events => {
                let rep = r(s.service.reply.as_deref().unwrap_or_default(), refs)?;
                let evs = s
                    .service
                    .events
                    .iter()
                    .flatten()
                    .map(|e| r(e, refs))
                    .collect::<Result<Vec<_>, _>>()?;
                let list = evs.iter().map(|e| format!("[`{e}`]")).collect::<Vec<_>>();
                vpp.push(quote!(reply = #rep));
                vpp.push(quote!(events(#(#evs),*)));
                notes.push(format!(
                    "Subscription; reply [`{rep}`], events {}.",
                    list.join(", ")
                ));
            }
            ServiceKind::NullReply => notes.push("Request without a reply.".into()),
        }
    }
    let mut deprecated = quote!();
    for (k, v) in &m.msg.options {
        match (k.as_str(), v) {
            ("deprecated", OptionValue::Str(s)) => {
                let note = format!("deprecated in VPP's API ({s})");
                deprecated = quote!(#[deprecated(note = #note)]);
            }
            ("deprecated", _) => {
                deprecated = quote!(#[deprecated(note = "deprecated in VPP's API")])
            }
            ("in_progress", _) => notes.push("In progress: not a stable API yet.".into()),
            ("status", OptionValue::Str(s)) => notes.push(format!("Status: {s}.")),
            ("replaced_by", OptionValue::Str(s)) => notes.push(format!("Replaced by `{s}`.")),
            _ => {}
        }
    }
    notes.insert(0, format!("`{}`", m.name_crc()));
    refs.derives.insert("VppMessage");
    let docs = doc_attrs(m.msg.comment.as_deref(), &notes);
    let extras = ctx.extras();
    Ok(quote! {
        #docs
        #deprecated
        #[derive(Debug, Clone, PartialEq, VppMessage)]
        #extras
        #[vpp(#(#vpp),*)]
        pub struct #id {
            #(#fields)*
        }
    })
}

/// The message's facts as a `MessageInfo` literal (the data-only table).
fn message_info(ctx: &Ctx, module: &str, m: &api_json::api::MessageInfo) -> TokenStream {
    let codec = ctx.codec();
    let name = &m.msg.name;
    let crc = syn::LitInt::new(
        &format!("0x{:08x}", m.msg.crc),
        proc_macro2::Span::call_site(),
    );
    let name_crc = m.name_crc();
    let kind = match m.kind {
        MessageKind::Request => quote!(Request),
        MessageKind::Reply => quote!(Reply),
        MessageKind::Details => quote!(Details),
        MessageKind::Event => quote!(Event),
        MessageKind::Other => quote!(Other),
    };
    let header = match header_of(&m.layout).1 {
        "client_index,context" => quote!(ClientIndexContext),
        "context" => quote!(Context),
        "client_index" => quote!(ClientIndex),
        _ => quote!(None),
    };
    let fixed = Literal::usize_unsuffixed(m.layout.fixed_size as usize);
    let has_tail = m.layout.tail.is_some();
    let at = |f: &str, ty: &str| match m
        .layout
        .fields
        .iter()
        .find(|l| l.name == f && l.ty == ty && l.kind == FieldKind::Scalar)
    {
        Some(l) => {
            let o = Literal::usize_unsuffixed(l.offset as usize);
            quote!(::core::option::Option::Some(#o))
        }
        None => quote!(::core::option::Option::None),
    };
    let retval = at("retval", "i32");
    let cursor = at("cursor", "u32");
    let nc = |n: Option<&str>| match n.and_then(|n| ctx.api.message(n)) {
        Some(r) => {
            let s = r.name_crc();
            quote!(::core::option::Option::Some(#s))
        }
        None => quote!(::core::option::Option::None),
    };
    let svc = ctx.api.service(name);
    let (reply, details, events) = match svc {
        Some(s) => match s.kind {
            ServiceKind::RequestReply | ServiceKind::Events => (
                nc(s.service.reply.as_deref()),
                nc(None),
                s.service
                    .events
                    .iter()
                    .flatten()
                    .filter_map(|e| ctx.api.message(e).map(|e| e.name_crc()))
                    .collect::<Vec<_>>(),
            ),
            ServiceKind::Dump => (nc(None), nc(s.service.reply.as_deref()), Vec::new()),
            ServiceKind::Cursor => (
                nc(s.service.reply.as_deref()),
                nc(s.service.stream_msg.as_deref()),
                Vec::new(),
            ),
            ServiceKind::NullReply => (nc(None), nc(None), Vec::new()),
        },
        None => (nc(None), nc(None), Vec::new()),
    };
    let deprecated = m.msg.options.iter().any(|(k, _)| k == "deprecated");
    quote! {
        #codec::MessageInfo {
            name: #name,
            crc: #crc,
            name_crc: #name_crc,
            module: #module,
            kind: #codec::MessageKind::#kind,
            header: #codec::Header::#header,
            fixed_size: #fixed,
            has_tail: #has_tail,
            retval_offset: #retval,
            cursor_offset: #cursor,
            reply: #reply,
            details: #details,
            events: &[#(#events),*],
            deprecated: #deprecated,
        }
    }
}

fn module_ident(name: &str) -> proc_macro2::Ident {
    field_ident(name).0
}

/// Which types the runtime provides, checked against this tree's definitions.
fn runtime_types(api: &Api, names_ok: &dyn Fn(&str, u32) -> bool) -> HashMap<String, &'static str> {
    let mut out = HashMap::new();
    for (vpp, rust, size, kind) in RUNTIME_TYPES {
        let Some(e) = api.user_type(vpp) else {
            continue;
        };
        if e.def.kind_name() == *kind && names_ok(vpp, *size) {
            out.insert((*vpp).to_owned(), *rust);
        }
    }
    out
}

/// Generate the modules for `api` as a bindings crate has them ([`GenOptions::default`]).
/// `only`: module names to generate (plus every module they need); `None`: all.
pub fn generate(api: &Api, only: Option<&[String]>) -> Result<Generated, GenError> {
    generate_with(api, only, &GenOptions::default())
}

/// [`generate`] with explicit options.
pub fn generate_with(
    api: &Api,
    only: Option<&[String]>,
    opts: &GenOptions,
) -> Result<Generated, GenError> {
    // Module names, unique and valid identifiers, in file order.
    let mut file_module: Vec<String> = Vec::new();
    let mut used = BTreeSet::new();
    for f in api.files() {
        let mut n = field_ident(&f.module_name()).0.to_string();
        n = n.trim_start_matches("r#").to_owned();
        let base = n.clone();
        let mut k = 2;
        while !used.insert(n.clone()) || RESERVED_MODULES.contains(&n.as_str()) {
            n = format!("{base}_{k}");
            k += 1;
        }
        file_module.push(n);
    }
    let mut type_module = HashMap::new();
    for (name, e) in api.types() {
        let home = e
            .home
            .or_else(|| e.files.first().copied())
            .unwrap_or(e.place.file);
        type_module.insert(name.to_owned(), file_module[home].clone());
    }
    let msg_module: HashMap<String, String> = api
        .messages()
        .map(|m| (m.msg.name.clone(), file_module[m.file].clone()))
        .collect();
    let names = TypeNames::new(
        api.messages().map(|m| m.msg.name.as_str()),
        api.types().map(|(n, _)| n),
    );
    let mut ctx = Ctx {
        opts,
        api,
        names,
        type_module,
        msg_module,
        runtime: HashMap::new(),
    };
    let sizes: HashMap<String, u32> = RUNTIME_TYPES
        .iter()
        .filter_map(|(n, ..)| ctx.type_size(n, 0).map(|s| ((*n).to_owned(), s)))
        .collect();
    ctx.runtime = runtime_types(api, &|n, s| sizes.get(n) == Some(&s));
    // The runtime types form a closed family: use them only all together.
    let family_ok = ["address_family", "address_union", "address", "prefix"]
        .iter()
        .all(|n| api.user_type(n).is_none() || ctx.runtime.contains_key(*n));
    if !family_ok {
        for n in [
            "address_family",
            "address_union",
            "address",
            "prefix",
            "address_with_prefix",
        ] {
            ctx.runtime.remove(n);
        }
    }
    for n in ["address", "prefix", "address_with_prefix"] {
        if api.user_type(n).is_some() && !ctx.runtime.contains_key("address_family") {
            ctx.runtime.remove(n);
        }
    }
    // The runtime names must be the names used for these types.
    let runtime = ctx.runtime.clone();
    for (vpp, rust) in &runtime {
        if ctx.names.user_type(vpp) != Some(rust) {
            ctx.runtime.remove(vpp);
        }
    }

    let mut modules = Vec::new();
    for (fi, file) in api.files().iter().enumerate() {
        let module = &file_module[fi];
        let mut refs = Refs::default();
        let mut items = Vec::new();
        let mut type_count = 0;
        for (name, e) in api.types() {
            if ctx.type_module[name] != *module {
                continue;
            }
            items.push(gen_type(&ctx, module, name, e, &mut refs)?);
            type_count += 1;
        }
        let mut msg_names = Vec::new();
        let mut infos = Vec::new();
        for m in api.messages().filter(|m| m.file == fi) {
            items.push(gen_message(&ctx, module, m, &mut refs)?);
            infos.push(message_info(&ctx, module, m));
            msg_names.push(
                ctx.names
                    .message(&m.msg.name)
                    .unwrap_or_default()
                    .to_owned(),
            );
        }
        let imports = refs.external.iter().map(|(m, ns)| {
            let mid = module_ident(m);
            let ns = ns.iter().map(|n| type_ident(n));
            quote!(use super::#mid::{#(#ns),*};)
        });
        let derives = refs.derives.iter().map(|d| format_ident!("{}", d));
        let derive_use = if refs.derives.is_empty() {
            quote!()
        } else {
            let codec = ctx.codec();
            quote!(use #codec::{#(#derives),*};)
        };
        let src = file
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut head = vec![format!(
            " `{src}`{}: generated by vppapi-gen, do not edit.",
            option(&file.options, "version")
                .map(|v| match v {
                    OptionValue::Str(s) => format!(" (version {s})"),
                    _ => String::new(),
                })
                .unwrap_or_default()
        )];
        head.push(String::new());
        head.push(format!(
            " {} messages, {} types defined here.",
            msg_names.len(),
            type_count
        ));
        let count = msg_names.len();
        let tokens = quote! {
            #(#![doc = #head])*
            #![allow(deprecated)]
            #derive_use
            #(#imports)*
            #(#items)*
        };
        let parsed: syn::File = syn::parse2(tokens)
            .map_err(|e| err(module, format!("generated code does not parse: {e}")))?;
        let code = prettyplease::unparse(&parsed);
        modules.push(GeneratedModule {
            messages: msg_names,
            infos,
            name: module.clone(),
            source_file: file.path.display().to_string(),
            deps: refs.external.keys().cloned().collect(),
            message_count: count,
            type_count,
            code,
            items: parsed,
        });
    }
    if let Some(only) = only {
        for o in only {
            if !modules.iter().any(|m| &m.name == o) {
                return Err(err(o, "no such module in the tree"));
            }
        }
        let mut keep: BTreeSet<String> = only.iter().cloned().collect();
        let mut stack: Vec<String> = keep.iter().cloned().collect();
        while let Some(n) = stack.pop() {
            if let Some(m) = modules.iter().find(|m| m.name == n) {
                for d in &m.deps {
                    if keep.insert(d.clone()) {
                        stack.push(d.clone());
                    }
                }
            }
        }
        modules.retain(|m| keep.contains(&m.name));
    }
    Ok(Generated {
        modules,
        options: opts.clone(),
    })
}

impl Generated {
    /// Features of a bindings crate: one per module, pulling in the modules it uses.
    pub fn features(&self) -> BTreeMap<String, BTreeSet<String>> {
        self.modules
            .iter()
            .map(|m| (m.name.clone(), m.deps.clone()))
            .collect()
    }

    fn module_cfg(&self, module: &str) -> TokenStream {
        match &self.options.module_features {
            Some(prefix) => {
                let f = format!("{prefix}{module}");
                quote!(#[cfg(feature = #f)])
            }
            None => quote!(),
        }
    }

    /// The `table` module: every module's messages as `MessageInfo` data, whatever the
    /// features (it holds no types and compiles no codec code), with look-ups by name and
    /// `name_crc`. Simulators, compatibility checks and CLIs use it.
    pub fn table(&self) -> String {
        let codec: TokenStream = self
            .options
            .codec
            .parse()
            .unwrap_or_else(|_| quote!(::vppapi_codec));
        let mut statics = Vec::new();
        let mut parts = Vec::new();
        for m in &self.modules {
            let id = format_ident!("{}", m.name.to_uppercase());
            let n = Literal::usize_unsuffixed(m.infos.len());
            let infos = &m.infos;
            let doc = format!(" The messages of `{}`.", m.name);
            statics.push(quote! {
                #[doc = #doc]
                pub static #id: [MessageInfo; #n] = [#(#infos),*];
            });
            let name = &m.name;
            parts.push(quote!((#name, &#id)));
        }
        let t = quote! {
            //! The facts of every message as plain data: name, CRC, module, kind, header,
            //! sizes, the offsets of `retval` and `cursor`, the service (reply, details,
            //! events). Complete whatever the features: it compiles no codec code.
            //! Generated by vppapi-gen, do not edit.

            use #codec::MessageInfo;

            /// Every module (API file) with its messages, in API file order.
            pub static MODULES: &[(&str, &[MessageInfo])] = &[#(#parts),*];

            /// Every message, module by module.
            pub fn messages() -> impl Iterator<Item = &'static MessageInfo> {
                MODULES.iter().flat_map(|(_, m)| m.iter())
            }

            /// The messages of a module.
            pub fn module(name: &str) -> Option<&'static [MessageInfo]> {
                MODULES.iter().find(|(n, _)| *n == name).map(|(_, m)| *m)
            }

            /// The message with this `name_crc` (`control_ping_51077d14`).
            pub fn by_name_crc(name_crc: &str) -> Option<&'static MessageInfo> {
                messages().find(|m| m.name_crc == name_crc)
            }

            /// The message with this name.
            pub fn by_name(name: &str) -> Option<&'static MessageInfo> {
                messages().find(|m| m.name == name)
            }

            #(#statics)*
        };
        let f: syn::File = syn::parse2(t).expect("table parses");
        prettyplease::unparse(&f)
    }

    /// The `registry` module: a type-erased `MessageEntry` (decode to a `Value`, view,
    /// re-encode, random instances) for every message of the enabled modules. It names the
    /// modules; they never name it. It needs `Reflect` and `Random` (a bindings crate builds it
    /// behind its `registry` feature).
    pub fn registry(&self) -> String {
        let codec: TokenStream = self
            .options
            .codec
            .parse()
            .unwrap_or_else(|_| quote!(::vppapi_codec));
        let parts = self.modules.iter().map(|m| {
            let id = module_ident(&m.name);
            let cfg = self.module_cfg(&m.name);
            let name = &m.name;
            let entries = m.messages.iter().map(|n| {
                let t = type_ident(n);
                quote!(MessageEntry::of::<super::#id::#t>(#name))
            });
            quote!(#cfg &[#(#entries),*])
        });
        let t = quote! {
            //! Every message of the enabled modules, type-erased: decode any message to a
            //! `Value`, view it, re-encode it, make seeded random instances. For simulators,
            //! fuzzers and differential tests. Generated by vppapi-gen, do not edit.
            #![allow(deprecated)]

            pub use #codec::registry::{Decoded, MessageEntry};

            /// Every enabled module's messages.
            pub static MODULES: &[&[MessageEntry]] = &[#(#parts),*];

            /// Every message of the enabled modules.
            pub fn messages() -> impl Iterator<Item = &'static MessageEntry> {
                MODULES.iter().flat_map(|m| m.iter())
            }

            /// The message with this `name_crc` (`control_ping_51077d14`).
            pub fn by_name_crc(name_crc: &str) -> Option<&'static MessageEntry> {
                messages().find(|m| m.name_crc == name_crc)
            }

            /// The message with this name.
            pub fn by_name(name: &str) -> Option<&'static MessageEntry> {
                messages().find(|m| m.name == name)
            }
        };
        let f: syn::File = syn::parse2(t).expect("registry parses");
        prettyplease::unparse(&f)
    }

    /// Everything in one file: `pub mod <module> { ... }` per module, `pub mod table`, and
    /// `pub mod registry` when both `Reflect` and `Random` are always generated. For `include!`
    /// from `OUT_DIR` (see [`crate::Builder`]).
    pub fn single_file(&self) -> String {
        let mut out = String::from("// Generated by vppapi-gen. Do not edit.\n\n");
        for m in &self.modules {
            let id = module_ident(&m.name);
            let attrs = &m.items.attrs;
            let items = &m.items.items;
            // Included into a private module, unused items must not warn.
            let t =
                quote!(pub mod #id { #(#attrs)* #![allow(dead_code, unused_imports)] #(#items)* });
            let f: syn::File = syn::parse2(t).expect("module parses");
            out.push_str(&prettyplease::unparse(&f));
            out.push('\n');
        }
        let mut extra = vec![("table", self.table())];
        if self.options.reflect == Gate::Always && self.options.random == Gate::Always {
            extra.push(("registry", self.registry()));
        }
        for (name, text) in extra {
            let id = format_ident!("{}", name);
            let f: syn::File = syn::parse_str(&text).expect("generated module parses");
            let attrs = &f.attrs;
            let items = &f.items;
            let t = quote!(pub mod #id { #(#attrs)* #![allow(dead_code)] #(#items)* });
            let f: syn::File = syn::parse2(t).expect("module parses");
            out.push_str(&prettyplease::unparse(&f));
        }
        out
    }
}
