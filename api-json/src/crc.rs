//! vppapigen's CRC algorithm on the model (wire doc section 3).
//!
//! Every object has a "crc byte string": the Python `str()` of its block (a list of field reprs,
//! or of `[NAME, value]` pairs for enums, `[]` for aliases, the bare option name for file
//! options). A message CRC is the CRC-32 of its own bytes continued depth-first, pre-order over
//! the bytes of every user type it uses (every occurrence, not deduplicated); enums and aliases
//! contribute their bytes but are not descended into. The file CRC (`vl_api_version`) chains the
//! unfolded bytes of the file's objects in parse order.
//!
//! The repr strings must match CPython's byte for byte, hence the small [`python_str_repr`].

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;

use crate::model::{Alias, ApiFile, EnumDef, Field, FieldShape, Message, TypeDef, UnionDef};

/// The synthetic first field vppapigen inserts into every message; it is not part of the CRC.
pub const MSG_ID_FIELD: &str = "_vl_msg_id";

/// A type as the CRC fold sees it, looked up by its C name (`vl_api_<name>_t`).
#[derive(Debug, Clone, Copy)]
pub enum CrcType<'a> {
    Typedef(&'a TypeDef),
    Union(&'a UnionDef),
    Enum(&'a EnumDef),
    Alias(&'a Alias),
}

/// Lookup of user types by C name (`vl_api_<name>_t`), as vppapigen's `global_types`.
pub trait CrcTypes {
    fn crc_type(&self, c_name: &str) -> Option<CrcType<'_>>;

    /// The type with its unfolded crc bytes when the table has them precomputed (folds then
    /// skip rebuilding the repr for every occurrence). By default nothing is cached.
    fn crc_type_with_bytes(&self, c_name: &str) -> Option<(CrcType<'_>, Option<&[u8]>)> {
        self.crc_type(c_name).map(|t| (t, None))
    }
}

impl CrcTypes for HashMap<String, CrcType<'_>> {
    fn crc_type(&self, c_name: &str) -> Option<CrcType<'_>> {
        self.get(c_name).copied()
    }
}

/// A type table keyed by C name, built from one or more [`ApiFile`]s, with each type's crc
/// bytes computed once.
///
/// Later insertions of the same name replace earlier ones; callers that need conflict detection
/// do it before building the table (the resolver's job).
#[derive(Debug, Clone, Default)]
pub struct CrcTypeTable<'a> {
    map: HashMap<String, (CrcType<'a>, Cow<'a, [u8]>)>,
}

impl<'a> CrcTypeTable<'a> {
    pub fn new() -> Self {
        CrcTypeTable {
            map: HashMap::new(),
        }
    }

    /// All types, unions, enums, enumflags and aliases of one file (JSON files carry their
    /// imported types, so one file is enough to compute its message CRCs).
    pub fn from_file(file: &'a ApiFile) -> Self {
        let mut t = Self::new();
        t.add_file(file);
        t
    }

    /// The union of several files' types.
    pub fn from_files(files: impl IntoIterator<Item = &'a ApiFile>) -> Self {
        let mut t = Self::new();
        for f in files {
            t.add_file(f);
        }
        t
    }

    pub fn add_file(&mut self, file: &'a ApiFile) {
        for x in &file.types {
            self.insert(&x.name, CrcType::Typedef(x));
        }
        for x in &file.unions {
            self.insert(&x.name, CrcType::Union(x));
        }
        for x in file.enums.iter().chain(&file.enumflags) {
            self.insert(&x.name, CrcType::Enum(x));
        }
        for x in &file.aliases {
            self.insert(&x.name, CrcType::Alias(x));
        }
    }

    /// Insert under the bare name (`interface_index`); stored by C name.
    pub fn insert(&mut self, bare_name: &str, t: CrcType<'a>) {
        let bytes = object_crc_bytes(&t.as_object());
        self.map
            .insert(c_type_name(bare_name), (t, Cow::Owned(bytes)));
    }

    /// Insert with crc bytes the caller already has (must equal [`object_crc_bytes`] of `t`).
    pub fn insert_with_bytes(&mut self, bare_name: &str, t: CrcType<'a>, bytes: &'a [u8]) {
        self.map
            .insert(c_type_name(bare_name), (t, Cow::Borrowed(bytes)));
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

impl CrcTypes for CrcTypeTable<'_> {
    fn crc_type(&self, c_name: &str) -> Option<CrcType<'_>> {
        self.map.get(c_name).map(|e| e.0)
    }

    fn crc_type_with_bytes(&self, c_name: &str) -> Option<(CrcType<'_>, Option<&[u8]>)> {
        self.map.get(c_name).map(|(t, b)| (*t, Some(&b[..])))
    }
}

impl<'a> CrcType<'a> {
    /// The same definition as a file-CRC object.
    pub fn as_object(&self) -> CrcObject<'a> {
        match *self {
            CrcType::Typedef(t) => CrcObject::Typedef(t),
            CrcType::Union(u) => CrcObject::Union(u),
            CrcType::Enum(e) => CrcObject::Enum(e),
            CrcType::Alias(a) => CrcObject::Alias(a),
        }
    }
}

/// `interface_index` -> `vl_api_interface_index_t`.
pub fn c_type_name(bare: &str) -> String {
    format!("vl_api_{bare}_t")
}

/// CPython's `repr()` of a `str`: single quotes unless the text contains `'` and no `"`.
pub fn python_str_repr(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    push_python_str_repr(&mut out, s);
    out
}

fn push_python_str_repr(out: &mut String, s: &str) {
    // Fast path: identifiers and the like need no escaping.
    if s.bytes()
        .all(|b| (0x20..0x7f).contains(&b) && b != b'\\' && b != b'\'')
    {
        out.push('\'');
        out.push_str(s);
        out.push('\'');
        return;
    }
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            // Non-ASCII: CPython keeps printable characters and escapes the rest. Approximate
            // "printable" as neither control nor non-space whitespace (identifiers never get here).
            c if !c.is_ascii() && (c.is_control() || c.is_whitespace()) => {
                let v = c as u32;
                if v <= 0xff {
                    let _ = write!(out, "\\x{v:02x}");
                } else if v <= 0xffff {
                    let _ = write!(out, "\\u{v:04x}");
                } else {
                    let _ = write!(out, "\\U{v:08x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push(quote);
}

/// One field's repr: `['u32', 'context']`, `['u8', 'name', 64, None]`,
/// `['vl_api_x_t', 'name', 0, 'count']`. Field options are not part of it.
pub fn field_repr(f: &Field) -> String {
    let mut s = String::new();
    push_field_repr(&mut s, f);
    s
}

fn push_field_repr(out: &mut String, f: &Field) {
    out.push('[');
    push_python_str_repr(out, &f.ty);
    out.push_str(", ");
    push_python_str_repr(out, &f.name);
    match &f.shape {
        FieldShape::Scalar => {}
        FieldShape::Array { len } => {
            let _ = write!(out, ", {len}, None");
        }
        FieldShape::Vla { count } => {
            out.push_str(", 0, ");
            push_python_str_repr(out, count);
        }
    }
    out.push(']');
}

/// Python `str()` of a list of fields.
pub fn block_repr(fields: &[Field]) -> String {
    let mut s = String::from("[");
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        push_field_repr(&mut s, f);
    }
    s.push(']');
    s
}

/// `[['NAME', value], ...]` over the members not marked `[backwards_compatible]`.
pub fn enum_repr(e: &EnumDef) -> String {
    let mut s = String::from("[");
    let mut first = true;
    for m in e.members.iter().filter(|m| !m.backwards_compatible) {
        if !first {
            s.push_str(", ");
        }
        first = false;
        s.push('[');
        push_python_str_repr(&mut s, &m.name);
        let _ = write!(s, ", {}]", m.value);
    }
    s.push(']');
    s
}

/// A message's fields without the synthetic leading `_vl_msg_id`.
pub fn message_block(msg: &Message) -> &[Field] {
    match msg.fields.first() {
        Some(f) if f.name == MSG_ID_FIELD => &msg.fields[1..],
        _ => &msg.fields,
    }
}

/// Why a CRC fold failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CrcError {
    /// A field names a `vl_api_*_t` type the table does not have.
    UnknownType(String),
    /// Types nest deeper than [`MAX_FOLD_DEPTH`] (only possible with a cycle) or the fold would
    /// visit more than [`MAX_FOLD_STEPS`] types; names the type where it stopped.
    TooDeep(String),
}

impl std::fmt::Display for CrcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CrcError::UnknownType(t) => write!(f, "unknown type {t}"),
            CrcError::TooDeep(t) => write!(
                f,
                "type {t} nests too deeply or too often (a cycle between types?)"
            ),
        }
    }
}

impl std::error::Error for CrcError {}

impl CrcError {
    /// The type name the error is about.
    pub fn type_name(&self) -> &str {
        match self {
            CrcError::UnknownType(t) | CrcError::TooDeep(t) => t,
        }
    }
}

/// Nesting bound for the fold: real API types nest a handful of levels; a cycle (possible only in
/// hand-made JSON) would otherwise recurse forever.
pub const MAX_FOLD_DEPTH: usize = 64;
/// Bound on types visited in one message fold: every occurrence is folded, so a crafted DAG of
/// types could make the work exponential. Real messages visit at most 143 (`flow_add_v2`,
/// 24.10-26.06).
pub const MAX_FOLD_STEPS: usize = 1 << 16;

struct Fold<'t> {
    types: &'t dyn CrcTypes,
    hasher: crc32fast::Hasher,
    steps: usize,
}

impl Fold<'_> {
    fn block(&mut self, fields: &[Field], depth: usize) -> Result<(), CrcError> {
        for f in fields {
            if !f.ty.starts_with("vl_api_") {
                continue;
            }
            self.steps += 1;
            if depth >= MAX_FOLD_DEPTH || self.steps > MAX_FOLD_STEPS {
                return Err(CrcError::TooDeep(f.ty.clone()));
            }
            let (t, bytes) = self
                .types
                .crc_type_with_bytes(&f.ty)
                .ok_or_else(|| CrcError::UnknownType(f.ty.clone()))?;
            match bytes {
                Some(b) => self.hasher.update(b),
                None => self.hasher.update(&object_crc_bytes(&t.as_object())),
            }
            // Enums contribute their member list only; aliases (deliberately `[]` in vppapigen,
            // "to be backwards compatible") are not followed.
            match t {
                CrcType::Typedef(td) => self.block(&td.fields, depth + 1)?,
                CrcType::Union(u) => self.block(&u.fields, depth + 1)?,
                CrcType::Enum(_) | CrcType::Alias(_) => {}
            }
        }
        Ok(())
    }
}

/// CRC of a block of fields folded over its dependent types (the message algorithm without the
/// `_vl_msg_id` handling).
pub fn block_crc(fields: &[Field], types: &dyn CrcTypes) -> Result<u32, CrcError> {
    let mut fold = Fold {
        types,
        hasher: crc32fast::Hasher::new(),
        steps: 0,
    };
    fold.hasher.update(block_repr(fields).as_bytes());
    fold.block(fields, 0)?;
    Ok(fold.hasher.finalize())
}

/// Message CRC as vppapigen computes it (drops the synthetic leading `_vl_msg_id`), with the
/// failure reason.
pub fn message_crc_detailed(msg: &Message, types: &dyn CrcTypes) -> Result<u32, CrcError> {
    block_crc(message_block(msg), types)
}

/// Message CRC as vppapigen computes it (drops the synthetic leading `_vl_msg_id`).
/// `Err(type name)` on an unknown type (or, for a type cycle, the type where the fold stopped;
/// use [`message_crc_detailed`] to tell them apart).
pub fn message_crc(msg: &Message, types: &dyn CrcTypes) -> Result<u32, String> {
    message_crc_detailed(msg, types).map_err(|e| e.type_name().to_string())
}

/// One object of a file as the file CRC sees it.
#[derive(Debug, Clone, Copy)]
pub enum CrcObject<'a> {
    /// A file-level `option name = value;`: only the name is hashed.
    Option(&'a str),
    Typedef(&'a TypeDef),
    Union(&'a UnionDef),
    Enum(&'a EnumDef),
    Alias(&'a Alias),
    Message(&'a Message),
}

/// The unfolded crc bytes of one object (section 3.1).
pub fn object_crc_bytes(o: &CrcObject) -> Vec<u8> {
    match o {
        CrcObject::Option(name) => name.as_bytes().to_vec(),
        CrcObject::Typedef(t) => block_repr(&t.fields).into_bytes(),
        CrcObject::Union(u) => block_repr(&u.fields).into_bytes(),
        CrcObject::Enum(e) => enum_repr(e).into_bytes(),
        CrcObject::Alias(_) => b"[]".to_vec(),
        CrcObject::Message(m) => block_repr(message_block(m)).into_bytes(),
    }
}

/// The file CRC over objects in the given order (section 3.6): CRC-32 of the concatenation of
/// their unfolded crc bytes.
pub fn file_crc<'a>(objs: impl IntoIterator<Item = CrcObject<'a>>) -> u32 {
    let mut h = crc32fast::Hasher::new();
    for o in objs {
        h.update(&object_crc_bytes(&o));
    }
    h.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{EnumMember, IntType};

    fn scalar(ty: &str, name: &str) -> Field {
        Field {
            ty: ty.into(),
            name: name.into(),
            shape: FieldShape::Scalar,
            options: vec![],
        }
    }

    fn msg(name: &str, fields: Vec<Field>) -> Message {
        let mut all = vec![scalar("u16", MSG_ID_FIELD)];
        all.extend(fields);
        Message {
            name: name.into(),
            fields: all,
            crc: 0,
            options: vec![],
            comment: None,
        }
    }

    fn member(name: &str, value: i64, bc: bool) -> EnumMember {
        EnumMember {
            name: name.into(),
            value,
            backwards_compatible: bc,
        }
    }

    fn alias(name: &str, ty: &str, length: Option<u32>) -> Alias {
        Alias {
            name: name.into(),
            ty: ty.into(),
            length,
        }
    }

    #[test]
    fn python_repr_of_strings() {
        assert_eq!(python_str_repr("abc"), "'abc'");
        assert_eq!(python_str_repr("it's"), "\"it's\"");
        assert_eq!(python_str_repr("a'b\"c"), "'a\\'b\"c'");
        assert_eq!(python_str_repr("a\\b\n"), "'a\\\\b\\n'");
        assert_eq!(python_str_repr("\u{1}"), "'\\x01'");
    }

    #[test]
    fn field_reprs() {
        assert_eq!(field_repr(&scalar("u32", "context")), "['u32', 'context']");
        let arr = Field {
            shape: FieldShape::Array { len: 64 },
            ..scalar("u8", "name")
        };
        assert_eq!(field_repr(&arr), "['u8', 'name', 64, None]");
        let vla = Field {
            shape: FieldShape::Vla {
                count: "count".into(),
            },
            ..scalar("vl_api_x_t", "name")
        };
        assert_eq!(field_repr(&vla), "['vl_api_x_t', 'name', 0, 'count']");
        let with_opts = Field {
            options: vec![("default".into(), crate::model::OptionValue::Int(5))],
            ..scalar("u32", "x")
        };
        assert_eq!(block_repr(&[with_opts]), "[['u32', 'x']]");
        assert_eq!(block_repr(&[]), "[]");
    }

    #[test]
    fn enum_repr_skips_backwards_compatible_and_keeps_negatives() {
        let e = EnumDef {
            name: "e".into(),
            members: vec![
                member("A", -1, false),
                member("B", 0x10, false),
                member("C", 3, true),
            ],
            enumtype: IntType::I32,
        };
        assert_eq!(enum_repr(&e), "[['A', -1], ['B', 16]]");
    }

    #[test]
    fn control_ping_trace() {
        let m = msg(
            "control_ping",
            vec![scalar("u32", "client_index"), scalar("u32", "context")],
        );
        let types: HashMap<String, CrcType> = HashMap::new();
        assert_eq!(message_crc(&m, &types), Ok(0x51077d14));
    }

    #[test]
    fn sw_interface_set_flags_trace() {
        let m = msg(
            "sw_interface_set_flags",
            vec![
                scalar("u32", "client_index"),
                scalar("u32", "context"),
                scalar("vl_api_interface_index_t", "sw_if_index"),
                scalar("vl_api_if_status_flags_t", "flags"),
            ],
        );
        let idx = alias("interface_index", "u32", None);
        let flags = EnumDef {
            name: "if_status_flags".into(),
            members: vec![
                member("IF_STATUS_API_FLAG_ADMIN_UP", 1, false),
                member("IF_STATUS_API_FLAG_LINK_UP", 2, false),
            ],
            enumtype: IntType::U32,
        };
        let mut t = CrcTypeTable::new();
        t.insert("interface_index", CrcType::Alias(&idx));
        t.insert("if_status_flags", CrcType::Enum(&flags));
        // Intermediate values of the trace: own bytes, then + alias "[]".
        assert_eq!(
            crc32fast::hash(block_repr(message_block(&m)).as_bytes()),
            0x68c99ef4
        );
        let mut h = crc32fast::Hasher::new();
        h.update(block_repr(message_block(&m)).as_bytes());
        h.update(b"[]");
        assert_eq!(h.clone().finalize(), 0x6a2b491a);
        assert_eq!(message_crc(&m, &t), Ok(0xf5aec1b8));
    }

    #[test]
    fn lb_add_del_as_trace() {
        let m = msg(
            "lb_add_del_as",
            vec![
                scalar("u32", "client_index"),
                scalar("u32", "context"),
                scalar("vl_api_address_with_prefix_t", "pfx"),
                scalar("u8", "protocol"),
                scalar("u16", "port"),
                scalar("vl_api_address_t", "as_address"),
                scalar("bool", "is_del"),
                scalar("bool", "is_flush"),
            ],
        );
        let awp = alias("address_with_prefix", "vl_api_prefix_t", None);
        let ip4 = alias("ip4_address", "u8", Some(4));
        let ip6 = alias("ip6_address", "u8", Some(16));
        let af = EnumDef {
            name: "address_family".into(),
            members: vec![
                member("ADDRESS_IP4", 0, false),
                member("ADDRESS_IP6", 1, false),
            ],
            enumtype: IntType::U8,
        };
        let mut ip4f = scalar("vl_api_ip4_address_t", "ip4");
        ip4f.options = vec![(
            "case".into(),
            crate::model::OptionValue::Str("ADDRESS_IP4".into()),
        )];
        let un = UnionDef {
            name: "address_union".into(),
            fields: vec![ip4f, scalar("vl_api_ip6_address_t", "ip6")],
        };
        let addr = TypeDef {
            name: "address".into(),
            fields: vec![
                scalar("vl_api_address_family_t", "af"),
                scalar("vl_api_address_union_t", "un"),
            ],
            comment: None,
        };
        let mut t = CrcTypeTable::new();
        t.insert("address_with_prefix", CrcType::Alias(&awp));
        t.insert("ip4_address", CrcType::Alias(&ip4));
        t.insert("ip6_address", CrcType::Alias(&ip6));
        t.insert("address_family", CrcType::Enum(&af));
        t.insert("address_union", CrcType::Union(&un));
        t.insert("address", CrcType::Typedef(&addr));
        assert_eq!(
            crc32fast::hash(block_repr(message_block(&m)).as_bytes()),
            0x951fb16c
        );
        assert_eq!(message_crc(&m, &t), Ok(0x35d72500));
    }

    #[test]
    fn unknown_type_and_cycles_are_errors() {
        let m = msg("x", vec![scalar("vl_api_nope_t", "a")]);
        let t = CrcTypeTable::new();
        assert_eq!(message_crc(&m, &t), Err("vl_api_nope_t".to_string()));

        let selfref = TypeDef {
            name: "loop".into(),
            fields: vec![scalar("vl_api_loop_t", "next")],
            comment: None,
        };
        let mut t = CrcTypeTable::new();
        t.insert("loop", CrcType::Typedef(&selfref));
        let m = msg("y", vec![scalar("vl_api_loop_t", "a")]);
        assert!(matches!(
            message_crc_detailed(&m, &t),
            Err(CrcError::TooDeep(_))
        ));
    }

    #[test]
    fn file_crc_chains_unfolded_objects() {
        let e = EnumDef {
            name: "e".into(),
            members: vec![member("A", 0, false)],
            enumtype: IntType::U32,
        };
        let a = alias("a", "u32", None);
        let m = msg("m", vec![scalar("u32", "context")]);
        let got = file_crc([
            CrcObject::Option("version"),
            CrcObject::Enum(&e),
            CrcObject::Alias(&a),
            CrcObject::Message(&m),
        ]);
        let want = crc32fast::hash(b"version[['A', 0]][][['u32', 'context']]");
        assert_eq!(got, want);
        assert_eq!(file_crc([]), 0);
    }
}
