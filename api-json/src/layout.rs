//! Wire layouts: every field's offset and size, packed with no padding (wire doc 2.1-2.4).
//!
//! A [`Layout`] describes one typedef, union or message: its fields (offsets from the start of
//! the block; for a message offset 0 is `_vl_msg_id`), the size of its fixed part, and its
//! variable tail if it has one. Sizes follow the C structs vppapigen generates:
//! - base types: `u8`/`i8`/`bool` 1, `u16`/`i16` 2, `u32`/`i32` 4, `u64`/`i64`/`f64` 8;
//! - enums and enumflags: the width of their `enumtype`;
//! - aliases are transparent, fixed-array aliases (`mac_address` = `u8[6]`) included;
//! - a union is as large as its largest arm, every arm at offset 0;
//! - `string x[N]` is N bytes; `string x[]` is a 4-byte BE length then the bytes (variable);
//! - `T x[count]` (VLA) contributes 0 fixed bytes; its elements follow at the end;
//! - a field whose type has a variable tail contributes its type's fixed size.
//!
//! Only the last field of a block may be variable, VLA counts must be integer fields declared
//! earlier in the same block, and types may not contain themselves: violations are errors.

use std::collections::HashMap;

use indexmap::IndexMap;

use crate::api::{TypeEntry, UserType};
use crate::model::{Field, FieldShape, IntType};

/// Deepest type nesting accepted (real API types nest a handful of levels). Bounds recursion on
/// hostile input such as long alias chains.
pub const MAX_NESTING: usize = 64;

/// A base (built-in) type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BaseType {
    U8,
    I8,
    U16,
    I16,
    U32,
    I32,
    U64,
    I64,
    F64,
    Bool,
    /// `string`: only as `string x[N]` (fixed, N bytes) or `string x[]` (variable).
    String,
}

impl BaseType {
    pub fn parse(s: &str) -> Option<BaseType> {
        Some(match s {
            "u8" => BaseType::U8,
            "i8" => BaseType::I8,
            "u16" => BaseType::U16,
            "i16" => BaseType::I16,
            "u32" => BaseType::U32,
            "i32" => BaseType::I32,
            "u64" => BaseType::U64,
            "i64" => BaseType::I64,
            "f64" => BaseType::F64,
            "bool" => BaseType::Bool,
            "string" => BaseType::String,
            _ => return None,
        })
    }
    pub fn name(self) -> &'static str {
        match self {
            BaseType::U8 => "u8",
            BaseType::I8 => "i8",
            BaseType::U16 => "u16",
            BaseType::I16 => "i16",
            BaseType::U32 => "u32",
            BaseType::I32 => "i32",
            BaseType::U64 => "u64",
            BaseType::I64 => "i64",
            BaseType::F64 => "f64",
            BaseType::Bool => "bool",
            BaseType::String => "string",
        }
    }
    /// Size of one element (a `string` counts per byte).
    pub fn size(self) -> u32 {
        match self {
            BaseType::U8 | BaseType::I8 | BaseType::Bool | BaseType::String => 1,
            BaseType::U16 | BaseType::I16 => 2,
            BaseType::U32 | BaseType::I32 => 4,
            BaseType::U64 | BaseType::I64 | BaseType::F64 => 8,
        }
    }
    pub fn is_integer(self) -> bool {
        !matches!(self, BaseType::F64 | BaseType::Bool | BaseType::String)
    }
}

/// What one element of a field is on the wire, with aliases resolved away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ElemType {
    Base(BaseType),
    /// An enum or enumflag (bare name), encoded as its `enumtype`.
    Enum {
        name: String,
        repr: IntType,
        flags: bool,
    },
    /// A typedef (bare name); see its own layout.
    Typedef(String),
    /// A union (bare name); see its own layout.
    Union(String),
    /// The target of a fixed-array alias (`mac_address` -> `u8[6]`).
    Array {
        elem: Box<ElemType>,
        len: u32,
    },
}

/// How a field repeats its element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldKind {
    /// One element.
    Scalar,
    /// `T x[N]`, N > 0.
    Array { len: u32 },
    /// `string x[N]`: N bytes, NUL padded.
    FixedString { len: u32 },
    /// `string x[]`: u32 BE length + bytes (4 fixed bytes, the rest variable).
    VarString,
    /// `T x[count]`: `count` elements after the fixed part; the count is the sibling field
    /// `count_field` at `count_offset` (in the same block).
    Vla {
        count_field: String,
        count_offset: u32,
        count_size: u32,
    },
    /// Legacy `T x[0]` without a count ("rest of the message"; none in VPP >= 24.10).
    Rest,
}

/// One field of a [`Layout`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldLayout {
    pub name: String,
    /// The type as written (`u32`, `vl_api_address_t`).
    pub ty: String,
    /// Offset from the start of the block.
    pub offset: u32,
    /// Fixed bytes the field occupies (VLA: 0, variable string: 4).
    pub size: u32,
    pub kind: FieldKind,
    pub elem: ElemType,
    /// Fixed size of one element.
    pub elem_size: u32,
    /// Whether the field has a variable part (VLA, variable string, legacy rest, or a nested
    /// type with a variable tail). Only the last field of a block can.
    pub variable: bool,
}

/// The variable end of a block. All offsets are absolute within the block that owns the layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VarTail {
    /// `T field[count]`: elements start at `offset`.
    Vla {
        field: String,
        offset: u32,
        elem: ElemType,
        elem_size: u32,
        count_field: String,
        count_offset: u32,
        count_size: u32,
    },
    /// `string field[]`: the u32 BE length at `offset`, bytes from `offset + 4`.
    String { field: String, offset: u32 },
    /// Legacy rest-of-message array.
    Rest {
        field: String,
        offset: u32,
        elem_size: u32,
    },
    /// A field (at `offset`) whose type (bare name `ty`) ends in a variable tail `inner`.
    Nested {
        field: String,
        offset: u32,
        ty: String,
        inner: Box<VarTail>,
    },
}

impl VarTail {
    fn shifted(&self, by: u32) -> Option<VarTail> {
        Some(match self {
            VarTail::Vla {
                field,
                offset,
                elem,
                elem_size,
                count_field,
                count_offset,
                count_size,
            } => VarTail::Vla {
                field: field.clone(),
                offset: offset.checked_add(by)?,
                elem: elem.clone(),
                elem_size: *elem_size,
                count_field: count_field.clone(),
                count_offset: count_offset.checked_add(by)?,
                count_size: *count_size,
            },
            VarTail::String { field, offset } => VarTail::String {
                field: field.clone(),
                offset: offset.checked_add(by)?,
            },
            VarTail::Rest {
                field,
                offset,
                elem_size,
            } => VarTail::Rest {
                field: field.clone(),
                offset: offset.checked_add(by)?,
                elem_size: *elem_size,
            },
            VarTail::Nested {
                field,
                offset,
                ty,
                inner,
            } => VarTail::Nested {
                field: field.clone(),
                offset: offset.checked_add(by)?,
                ty: ty.clone(),
                inner: Box::new(inner.shifted(by)?),
            },
        })
    }

    /// The innermost variable part (the VLA, string or rest array at the very end).
    pub fn innermost(&self) -> &VarTail {
        match self {
            VarTail::Nested { inner, .. } => inner.innermost(),
            t => t,
        }
    }
}

/// The layout of one typedef, union or message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub fields: Vec<FieldLayout>,
    /// Bytes of the fixed part (for a message: including `_vl_msg_id`; for a union: its largest
    /// arm). A message without a tail is exactly this long.
    pub fixed_size: u32,
    /// The variable end, if any.
    pub tail: Option<VarTail>,
}

impl Layout {
    pub fn field(&self, name: &str) -> Option<&FieldLayout> {
        self.fields.iter().find(|f| f.name == name)
    }
    pub fn is_fixed(&self) -> bool {
        self.tail.is_none()
    }
}

/// A layout error: which type's block (`None`: the block being laid out at the top), which
/// field (index into the block's fields), and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LayoutError {
    pub ty: Option<String>,
    pub field: Option<usize>,
    pub message: String,
}

impl LayoutError {
    fn at(field: usize, message: impl Into<String>) -> Self {
        LayoutError {
            ty: None,
            field: Some(field),
            message: message.into(),
        }
    }
}

/// Computes and caches layouts of user types (by bare name).
pub(crate) struct Sizer<'t> {
    types: &'t IndexMap<String, TypeEntry>,
    pub layouts: HashMap<String, Layout>,
    /// Types currently being laid out (cycle detection), outermost first.
    stack: Vec<String>,
}

/// What a field's type resolves to.
struct Resolved {
    elem: ElemType,
    size: u32,
    /// Variable tail of a nested typedef (relative to the nested type).
    tail: Option<VarTail>,
}

enum ResolveError {
    /// About the field being resolved.
    Msg(String),
    /// Inside a nested type's own block (already located there).
    Nested(LayoutError),
}

impl From<String> for ResolveError {
    fn from(m: String) -> Self {
        ResolveError::Msg(m)
    }
}

/// `vl_api_foo_t` -> `foo`.
pub fn bare_type_name(c_name: &str) -> Option<&str> {
    c_name.strip_prefix("vl_api_")?.strip_suffix("_t")
}

impl<'t> Sizer<'t> {
    pub fn new(types: &'t IndexMap<String, TypeEntry>) -> Self {
        Sizer {
            types,
            layouts: HashMap::new(),
            stack: Vec::new(),
        }
    }

    /// Layout of the typedef or union `name` (computed once).
    pub fn type_layout(&mut self, name: &str) -> Result<&Layout, LayoutError> {
        if !self.layouts.contains_key(name) {
            let layout = self.compute_type_layout(name)?;
            self.layouts.insert(name.to_string(), layout);
        }
        Ok(&self.layouts[name])
    }

    fn compute_type_layout(&mut self, name: &str) -> Result<Layout, LayoutError> {
        let types = self.types;
        let Some(entry) = types.get(name) else {
            return Err(LayoutError {
                ty: None,
                field: None,
                message: format!("unknown type vl_api_{name}_t"),
            });
        };
        if let Some(pos) = self.stack.iter().position(|s| s == name) {
            let mut cycle: Vec<String> = self.stack[pos..]
                .iter()
                .map(|s| format!("vl_api_{s}_t"))
                .collect();
            cycle.push(format!("vl_api_{name}_t"));
            return Err(LayoutError {
                ty: Some(name.to_string()),
                field: None,
                message: format!("type cycle: {}", cycle.join(" -> ")),
            });
        }
        if self.stack.len() >= MAX_NESTING {
            return Err(LayoutError {
                ty: Some(name.to_string()),
                field: None,
                message: format!("types nest deeper than {MAX_NESTING} levels"),
            });
        }
        let (fields, union) = match &entry.def {
            UserType::Typedef(t) => (&t.fields, false),
            UserType::Union(u) => (&u.fields, true),
            _ => {
                return Err(LayoutError {
                    ty: None,
                    field: None,
                    message: format!("vl_api_{name}_t is not a typedef or union"),
                })
            }
        };
        self.stack.push(name.to_string());
        let r = self.block(fields, union);
        self.stack.pop();
        r.map_err(|mut e| {
            if e.ty.is_none() {
                e.ty = Some(name.to_string());
            }
            e
        })
    }

    fn resolve(&mut self, ty: &str, depth: usize) -> Result<Resolved, ResolveError> {
        if depth > MAX_NESTING {
            return Err(format!(
                "type {ty}: aliases nest deeper than {MAX_NESTING} levels (an alias cycle?)"
            )
            .into());
        }
        if let Some(b) = BaseType::parse(ty) {
            return Ok(Resolved {
                elem: ElemType::Base(b),
                size: b.size(),
                tail: None,
            });
        }
        let types = self.types;
        let entry = bare_type_name(ty).and_then(|n| types.get(n).map(|e| (n, e)));
        let Some((name, entry)) = entry else {
            return Err(format!("unknown type {ty}").into());
        };
        match &entry.def {
            UserType::Enum(e) | UserType::EnumFlag(e) => Ok(Resolved {
                elem: ElemType::Enum {
                    name: name.to_string(),
                    repr: e.enumtype,
                    flags: matches!(entry.def, UserType::EnumFlag(_)),
                },
                size: e.enumtype.size(),
                tail: None,
            }),
            UserType::Alias(a) => {
                if a.ty == "string" {
                    return Err(format!("alias {ty} of string is not supported").into());
                }
                let inner = self.resolve(&a.ty, depth + 1).map_err(|e| match e {
                    ResolveError::Msg(m) => ResolveError::Msg(format!("alias {ty}: {m}")),
                    nested => nested,
                })?;
                match a.length {
                    None => Ok(inner),
                    Some(len) => {
                        if inner.tail.is_some() {
                            return Err(format!("alias {ty}: array of a variable-size type").into());
                        }
                        let size = inner
                            .size
                            .checked_mul(len)
                            .ok_or_else(|| format!("alias {ty}: size exceeds 4 GiB"))?;
                        Ok(Resolved {
                            elem: ElemType::Array {
                                elem: Box::new(inner.elem),
                                len,
                            },
                            size,
                            tail: None,
                        })
                    }
                }
            }
            UserType::Typedef(_) | UserType::Union(_) => {
                let union = matches!(entry.def, UserType::Union(_));
                // Errors inside the nested type are reported at that type.
                let layout = self.type_layout(name).map_err(ResolveError::Nested)?;
                Ok(Resolved {
                    elem: if union {
                        ElemType::Union(name.to_string())
                    } else {
                        ElemType::Typedef(name.to_string())
                    },
                    size: layout.fixed_size,
                    tail: layout.tail.clone(),
                })
            }
        }
    }

    /// Lays out one block of fields (a typedef, union or message).
    pub fn block(&mut self, fields: &[Field], union: bool) -> Result<Layout, LayoutError> {
        let mut out: Vec<FieldLayout> = Vec::with_capacity(fields.len());
        let mut offset: u32 = 0;
        let mut max: u32 = 0;
        let mut tail: Option<(usize, VarTail)> = None;
        let too_big = |j: usize| LayoutError::at(j, "block size exceeds 4 GiB");
        for (j, f) in fields.iter().enumerate() {
            if let Some((k, _)) = &tail {
                return Err(LayoutError::at(
                    *k,
                    format!(
                        "variable-size field `{}` must be the last field (followed by `{}`)",
                        fields[*k].name, f.name
                    ),
                ));
            }
            let is_string = f.ty == "string";
            let r = self.resolve(&f.ty, 0).map_err(|e| match e {
                ResolveError::Msg(m) => LayoutError::at(j, format!("field `{}`: {m}", f.name)),
                ResolveError::Nested(e) => e,
            })?;
            let here = if union { 0 } else { offset };
            let (kind, size, ftail) = match &f.shape {
                FieldShape::Scalar => {
                    if is_string {
                        return Err(LayoutError::at(
                            j,
                            format!(
                                "field `{}`: a string needs a length (N, or 0 for variable)",
                                f.name
                            ),
                        ));
                    }
                    let t = match &r.tail {
                        None => None,
                        Some(inner) => Some(VarTail::Nested {
                            field: f.name.clone(),
                            offset: here,
                            ty: bare_type_name(&f.ty).unwrap_or(&f.ty).to_string(),
                            inner: Box::new(inner.shifted(here).ok_or_else(|| too_big(j))?),
                        }),
                    };
                    (FieldKind::Scalar, r.size, t)
                }
                FieldShape::Array { len } if *len > 0 => {
                    if r.tail.is_some() {
                        return Err(LayoutError::at(
                            j,
                            format!("field `{}`: array of a variable-size type", f.name),
                        ));
                    }
                    let size = r.size.checked_mul(*len).ok_or_else(|| too_big(j))?;
                    let kind = if is_string {
                        FieldKind::FixedString { len: *len }
                    } else {
                        FieldKind::Array { len: *len }
                    };
                    (kind, size, None)
                }
                FieldShape::Array { .. } => {
                    if r.tail.is_some() {
                        return Err(LayoutError::at(
                            j,
                            format!("field `{}`: array of a variable-size type", f.name),
                        ));
                    }
                    if is_string {
                        let t = VarTail::String {
                            field: f.name.clone(),
                            offset: here,
                        };
                        (FieldKind::VarString, 4, Some(t))
                    } else {
                        let t = VarTail::Rest {
                            field: f.name.clone(),
                            offset: here,
                            elem_size: r.size,
                        };
                        (FieldKind::Rest, 0, Some(t))
                    }
                }
                FieldShape::Vla { count } => {
                    if is_string {
                        return Err(LayoutError::at(
                            j,
                            format!("field `{}`: a string cannot have a count field", f.name),
                        ));
                    }
                    if r.tail.is_some() {
                        return Err(LayoutError::at(
                            j,
                            format!("field `{}`: variable array of a variable-size type", f.name),
                        ));
                    }
                    let Some(cf) = out.iter().find(|c| &c.name == count) else {
                        return Err(LayoutError::at(
                            j,
                            format!(
                                "field `{}`: count field `{count}` is not declared before it in the same block",
                                f.name
                            ),
                        ));
                    };
                    let count_ok = cf.kind == FieldKind::Scalar
                        && matches!(cf.elem, ElemType::Base(b) if b.is_integer());
                    if !count_ok {
                        return Err(LayoutError::at(
                            j,
                            format!(
                                "field `{}`: count field `{count}` has type {}, expected an integer",
                                f.name, cf.ty
                            ),
                        ));
                    }
                    let t = VarTail::Vla {
                        field: f.name.clone(),
                        offset: here,
                        elem: r.elem.clone(),
                        elem_size: r.size,
                        count_field: count.clone(),
                        count_offset: cf.offset,
                        count_size: cf.size,
                    };
                    let kind = FieldKind::Vla {
                        count_field: count.clone(),
                        count_offset: cf.offset,
                        count_size: cf.size,
                    };
                    (kind, 0, Some(t))
                }
            };
            if union && ftail.is_some() {
                return Err(LayoutError::at(
                    j,
                    format!("union arm `{}` has a variable size", f.name),
                ));
            }
            out.push(FieldLayout {
                name: f.name.clone(),
                ty: f.ty.clone(),
                offset: here,
                size,
                kind,
                elem: r.elem,
                elem_size: r.size,
                variable: ftail.is_some(),
            });
            if union {
                max = max.max(size);
            } else {
                offset = offset.checked_add(size).ok_or_else(|| too_big(j))?;
            }
            if let Some(t) = ftail {
                tail = Some((j, t));
            }
        }
        Ok(Layout {
            fields: out,
            fixed_size: if union { max } else { offset },
            tail: tail.map(|(_, t)| t),
        })
    }
}
