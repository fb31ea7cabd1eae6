//! The per-file model: one [`ApiFile`] is exactly what one `.api.json` document says (or what
//! vppapigen would write for one `.api` source), nothing resolved yet.
//!
//! Both front ends produce this: [`crate::json`] from `.api.json`, [`crate::idl`] from `.api`
//! sources. Two files are "the same API" when their `ApiFile`s compare equal, so the model keeps
//! everything the JSON carries (order included) and nothing that only one front end could know,
//! with one exception: [`EnumMember::backwards_compatible`], which only the IDL states and which
//! the resolver infers for JSON input (see `crate::crc`).

use std::path::PathBuf;

/// One API file (`foo.api` / `foo.api.json`).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiFile {
    /// Where it was read from (for error messages and listings); not part of equality semantics
    /// in tests that compare IDL and JSON models (compare with [`ApiFile::same_api`]).
    pub path: PathBuf,
    /// `module` key (26.06+ JSON); `None` in 24.10/25.06 JSON.
    pub module: Option<String>,
    /// Typedefs, own and imported (JSON copies imported types in).
    pub types: Vec<TypeDef>,
    /// The file's own messages (`define`s), each with its synthetic leading `_vl_msg_id`.
    pub messages: Vec<Message>,
    pub unions: Vec<UnionDef>,
    pub enums: Vec<EnumDef>,
    pub enumflags: Vec<EnumDef>,
    /// In document order.
    pub aliases: Vec<Alias>,
    /// In document order.
    pub services: Vec<Service>,
    /// File-level `option x = y;` statements, in document order (e.g. `version`).
    pub options: Vec<(String, OptionValue)>,
    /// The JSON's `vl_api_version` (file CRC including imported types; see wire doc 3.6).
    pub vl_api_version: u32,
    /// Import paths as written (`vnet/interface_types.api`).
    pub imports: Vec<String>,
    pub counters: Vec<CounterSet>,
    pub paths: Vec<PathsBlock>,
}

impl ApiFile {
    /// The file's base name without `.api`/`.api.json` (the `module` key when present).
    pub fn module_name(&self) -> String {
        if let Some(m) = &self.module {
            return m.clone();
        }
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        name.trim_end_matches(".json")
            .trim_end_matches(".api")
            .to_string()
    }

    /// Equality of everything but `path`.
    pub fn same_api(&self, other: &ApiFile) -> bool {
        let mut a = self.clone();
        a.path = other.path.clone();
        a == *other
    }
}

/// A value in an option list (`default`, message options, file options).
///
/// Kept with the JSON's own kinds so that IDL and JSON agree: vppapigen writes integers (hex
/// literals converted), floats, `false` as a boolean and `true` as the *string* `"true"`.
#[derive(Debug, Clone, PartialEq)]
pub enum OptionValue {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
}

/// How a field is shaped on the wire, as the JSON encodes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldShape {
    /// `[type, name]` or `[type, name, {options}]`.
    Scalar,
    /// `[type, name, len]`: fixed array (`len > 0`); with `type == "string"` a fixed string of
    /// `len` bytes. `len == 0` is a variable string (`string x[]`) or a legacy "rest of message"
    /// VLA for other types.
    Array { len: u32 },
    /// `[type, name, 0, count]`: variable-length array whose element count is the earlier sibling
    /// field `count`.
    Vla { count: String },
}

/// One field of a typedef, union or message.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The type as written: a base type (`u8`..`f64`, `bool`, `string`) or `vl_api_<name>_t`.
    pub ty: String,
    pub name: String,
    pub shape: FieldShape,
    /// Field options in order (`default`, `limit`, `discriminator`, `case`, ...).
    pub options: Vec<(String, OptionValue)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TypeDef {
    pub name: String,
    pub fields: Vec<Field>,
    /// Doc comment (26.06 JSON: a trailing `{"comment": ...}`).
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UnionDef {
    pub name: String,
    pub fields: Vec<Field>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub name: String,
    /// All fields, starting with the synthetic `_vl_msg_id`.
    pub fields: Vec<Field>,
    /// The CRC the file states (`"crc": "0x…"`).
    pub crc: u32,
    /// Message options in order (`deprecated`, `in_progress`, `replaced_by`, `status`, ...).
    pub options: Vec<(String, OptionValue)>,
    pub comment: Option<String>,
}

/// Integer types an enum may be declared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IntType {
    U8,
    U16,
    U32,
    I8,
    I16,
    I32,
}

impl IntType {
    pub fn size(self) -> u32 {
        match self {
            IntType::U8 | IntType::I8 => 1,
            IntType::U16 | IntType::I16 => 2,
            IntType::U32 | IntType::I32 => 4,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            IntType::U8 => "u8",
            IntType::U16 => "u16",
            IntType::U32 => "u32",
            IntType::I8 => "i8",
            IntType::I16 => "i16",
            IntType::I32 => "i32",
        }
    }
    pub fn parse(s: &str) -> Option<IntType> {
        Some(match s {
            "u8" => IntType::U8,
            "u16" => IntType::U16,
            "u32" => IntType::U32,
            "i8" => IntType::I8,
            "i16" => IntType::I16,
            "i32" => IntType::I32,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct EnumMember {
    pub name: String,
    pub value: i64,
    /// `[backwards_compatible]` in the `.api` source: excluded from the enum's CRC. JSON does not
    /// carry it; the JSON loader sets `false` and the resolver infers it from the stated CRCs.
    pub backwards_compatible: bool,
}

/// An `enum` or `enumflag` (the list it sits in says which).
#[derive(Debug, Clone, PartialEq)]
pub struct EnumDef {
    pub name: String,
    pub members: Vec<EnumMember>,
    pub enumtype: IntType,
}

/// `typedef u32 interface_index;` or `typedef u8 mac_address[6];`.
#[derive(Debug, Clone, PartialEq)]
pub struct Alias {
    pub name: String,
    /// Aliased type as written (`u32`, `vl_api_prefix_t`).
    pub ty: String,
    /// Fixed array length, for array aliases.
    pub length: Option<u32>,
}

/// One `services` entry, keyed by its request message.
#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub request: String,
    /// `None` for `returns null` (JSON `"reply": "null"`).
    pub reply: Option<String>,
    pub stream: bool,
    /// Details message of a cursor (`_get`) service.
    pub stream_msg: Option<String>,
    /// Event messages (`want_*` services); `None` when the key is absent.
    pub events: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CounterSet {
    pub name: String,
    pub elements: Vec<CounterElement>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CounterElement {
    pub name: String,
    pub severity: String,
    pub ty: String,
    pub units: String,
    pub description: String,
}

/// One `paths { ... }` block. vppapigen writes a block with a single entry as a bare object
/// instead of a one-element list; `bare` records that so JSON output round-trips.
#[derive(Debug, Clone, PartialEq)]
pub struct PathsBlock {
    pub entries: Vec<PathEntry>,
    pub bare: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PathEntry {
    pub path: String,
    pub counter: String,
}
