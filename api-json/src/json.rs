//! The `.api.json` front end: one JSON document (as written by vppapigen's JSON plugin) into one
//! [`ApiFile`]. Nothing is resolved here; see [`crate::api`] for the tree.
//!
//! Accepts both shapes in the wild: 24.10/25.06 (no `module`, no option dicts on union arms) and
//! 26.06 (`module`, `{"case": …}`/`{"discriminator": …}` field options, typedef `{"comment": …}`
//! trailers). Every error names the file and the JSON path (`$.messages[12][3]`) of the offending
//! value, or line:column for syntax errors. Untrusted input never panics.
//!
//! Tolerance policy (VPP adds keys over time, so unknown keys must not break loading):
//! - unknown top-level keys, unknown keys in a message trailer, a service or an alias are
//!   ignored;
//! - a missing top-level list/object key counts as empty (`module` may be absent);
//!   `vl_api_version` is required (vppapigen always writes it, and file checks need it);
//! - a `{"comment": …}` trailer on a union is accepted and dropped (the model has no place for
//!   it; vppapigen does not write one today).
//!
//! Known keys with the wrong kind (a number where a name must be, a bad `crc` string, an unknown
//! `enumtype`, ...) are errors.

use std::path::Path;

use serde_json::{Map, Value};

use crate::error::{Error, Location, Result};
use crate::model::*;

/// Reads and parses one `.api.json` file.
pub fn parse_file(path: &Path) -> Result<ApiFile> {
    let text = std::fs::read(path)
        .map_err(|e| Error::new(path, Location::File, format!("cannot read: {e}")))?;
    parse_bytes(path, &text)
}

/// Parses raw bytes (must be UTF-8 JSON); `path` is used for the result and in errors.
pub fn parse_bytes(path: &Path, bytes: &[u8]) -> Result<ApiFile> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let (line, column) = line_col(bytes, e.valid_up_to());
        Error::new(path, Location::LineCol { line, column }, "not valid UTF-8")
    })?;
    parse_str(path, text)
}

/// Parses one `.api.json` document; `path` is used for the result and in errors.
pub fn parse_str(path: &Path, text: &str) -> Result<ApiFile> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        let line = u32::try_from(e.line()).unwrap_or(u32::MAX);
        let column = u32::try_from(e.column()).unwrap_or(u32::MAX);
        Error::new(
            path,
            Location::LineCol { line, column },
            format!("JSON syntax error: {}", strip_position(&e.to_string())),
        )
    })?;
    Parser { path }.file(value)
}

fn line_col(bytes: &[u8], offset: usize) -> (u32, u32) {
    let before = &bytes[..offset.min(bytes.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let col = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(col).unwrap_or(u32::MAX),
    )
}

/// serde_json appends " at line L column C"; we report the position separately.
fn strip_position(msg: &str) -> &str {
    match msg.rfind(" at line ") {
        Some(i) => &msg[..i],
        None => msg,
    }
}

/// A JSON path, built as a linked list on the stack and rendered only when an error needs it.
#[derive(Clone, Copy)]
struct JPath<'a> {
    parent: Option<&'a JPath<'a>>,
    seg: Seg<'a>,
}

#[derive(Clone, Copy)]
enum Seg<'a> {
    Root,
    Key(&'a str),
    Idx(usize),
}

impl<'a> JPath<'a> {
    const ROOT: JPath<'static> = JPath {
        parent: None,
        seg: Seg::Root,
    };
    fn key(&'a self, k: &'a str) -> JPath<'a> {
        JPath {
            parent: Some(self),
            seg: Seg::Key(k),
        }
    }
    fn idx(&'a self, i: usize) -> JPath<'a> {
        JPath {
            parent: Some(self),
            seg: Seg::Idx(i),
        }
    }
    fn render(&self) -> String {
        let mut segs = Vec::new();
        let mut cur = Some(self);
        while let Some(p) = cur {
            segs.push(p.seg);
            cur = p.parent;
        }
        let mut out = String::new();
        for s in segs.iter().rev() {
            match s {
                Seg::Root => out.push('$'),
                Seg::Key(k) => {
                    if !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                        out.push('.');
                        out.push_str(k);
                    } else {
                        out.push('[');
                        out.push_str(&Value::String((*k).to_string()).to_string());
                        out.push(']');
                    }
                }
                Seg::Idx(i) => {
                    out.push('[');
                    out.push_str(&i.to_string());
                    out.push(']');
                }
            }
        }
        out
    }
}

/// Renders the JSON path of element `i` of top-level list `key` (`$.key[i]`), optionally followed
/// by element `j` of that entry. Used by the resolver to point at definitions after parsing.
pub fn json_path(key: &str, i: usize, j: Option<usize>) -> String {
    match j {
        Some(j) => format!("$.{key}[{i}][{j}]"),
        None => format!("$.{key}[{i}]"),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// An entry `[name, elem..., {trailer}?]` split into its parts.
type Entry = (String, Vec<Value>, Option<Map<String, Value>>);

struct Parser<'p> {
    path: &'p Path,
}

impl Parser<'_> {
    fn err(&self, at: &JPath, msg: impl Into<String>) -> Error {
        Error::new(self.path, Location::JsonPath(at.render()), msg)
    }

    fn want_str<'v>(&self, v: &'v Value, at: &JPath, what: &str) -> Result<&'v str> {
        v.as_str()
            .ok_or_else(|| self.err(at, format!("{what}: expected a string, found {}", kind(v))))
    }

    fn want_array<'v>(&self, v: &'v Value, at: &JPath, what: &str) -> Result<&'v Vec<Value>> {
        v.as_array()
            .ok_or_else(|| self.err(at, format!("{what}: expected an array, found {}", kind(v))))
    }

    fn want_object<'v>(
        &self,
        v: &'v Value,
        at: &JPath,
        what: &str,
    ) -> Result<&'v Map<String, Value>> {
        v.as_object()
            .ok_or_else(|| self.err(at, format!("{what}: expected an object, found {}", kind(v))))
    }

    /// Moves a non-empty string out of `v`.
    fn take_name(&self, v: Value, at: &JPath, what: &str) -> Result<String> {
        match v {
            Value::String(s) if !s.is_empty() => Ok(s),
            Value::String(_) => Err(self.err(at, format!("{what}: empty name"))),
            other => Err(self.err(
                at,
                format!("{what}: expected a string, found {}", kind(&other)),
            )),
        }
    }

    fn take_array(&self, v: Value, at: &JPath, what: &str) -> Result<Vec<Value>> {
        match v {
            Value::Array(a) => Ok(a),
            other => Err(self.err(
                at,
                format!("{what}: expected an array, found {}", kind(&other)),
            )),
        }
    }

    fn want_name<'v>(&self, v: &'v Value, at: &JPath, what: &str) -> Result<&'v str> {
        let s = self.want_str(v, at, what)?;
        if s.is_empty() {
            return Err(self.err(at, format!("{what}: empty name")));
        }
        Ok(s)
    }

    fn file(&self, v: Value) -> Result<ApiFile> {
        let root = JPath::ROOT;
        let top = match v {
            Value::Object(m) => m,
            other => {
                return Err(self.err(
                    &root,
                    format!("document: expected an object, found {}", kind(&other)),
                ))
            }
        };
        let mut f = ApiFile {
            path: self.path.to_path_buf(),
            module: None,
            types: Vec::new(),
            messages: Vec::new(),
            unions: Vec::new(),
            enums: Vec::new(),
            enumflags: Vec::new(),
            aliases: Vec::new(),
            services: Vec::new(),
            options: Vec::new(),
            vl_api_version: 0,
            imports: Vec::new(),
            counters: Vec::new(),
            paths: Vec::new(),
        };
        let mut have_version = false;
        for (key, val) in top {
            let at = root.key(&key);
            let mut val = val;
            match key.as_str() {
                "module" => f.module = Some(self.want_name(&val, &at, "module")?.to_string()),
                "types" => {
                    let list = self.take_array(std::mem::take(&mut val), &at, "types")?;
                    f.types.reserve(list.len());
                    for (i, e) in list.into_iter().enumerate() {
                        f.types.push(self.typedef(e, &at.idx(i))?);
                    }
                }
                "messages" => {
                    let list = self.take_array(std::mem::take(&mut val), &at, "messages")?;
                    f.messages.reserve(list.len());
                    for (i, e) in list.into_iter().enumerate() {
                        f.messages.push(self.message(e, &at.idx(i))?);
                    }
                }
                "unions" => {
                    let list = self.take_array(std::mem::take(&mut val), &at, "unions")?;
                    for (i, e) in list.into_iter().enumerate() {
                        f.unions.push(self.union(e, &at.idx(i))?);
                    }
                }
                "enums" | "enumflags" => {
                    let list = if key == "enums" {
                        &mut f.enums
                    } else {
                        &mut f.enumflags
                    };
                    for (i, e) in self
                        .take_array(std::mem::take(&mut val), &at, &key)?
                        .into_iter()
                        .enumerate()
                    {
                        list.push(self.enumdef(e, &at.idx(i))?);
                    }
                }
                "aliases" => {
                    for (name, a) in self.want_object(&val, &at, "aliases")? {
                        f.aliases.push(self.alias(name, a, &at.key(name))?);
                    }
                }
                "services" => {
                    for (name, s) in self.want_object(&val, &at, "services")? {
                        f.services.push(self.service(name, s, &at.key(name))?);
                    }
                }
                "options" => f.options = self.options(&val, &at, "options")?,
                "vl_api_version" => {
                    let s = self.want_str(&val, &at, "vl_api_version")?;
                    f.vl_api_version = parse_hex_u32(s).ok_or_else(|| {
                        self.err(&at, format!("vl_api_version: bad hex value {s:?}"))
                    })?;
                    have_version = true;
                }
                "imports" => {
                    for (i, e) in self.want_array(&val, &at, "imports")?.iter().enumerate() {
                        f.imports
                            .push(self.want_name(e, &at.idx(i), "import")?.to_string());
                    }
                }
                "counters" => {
                    for (i, e) in self.want_array(&val, &at, "counters")?.iter().enumerate() {
                        f.counters.push(self.counter_set(e, &at.idx(i))?);
                    }
                }
                "paths" => {
                    for (i, e) in self.want_array(&val, &at, "paths")?.iter().enumerate() {
                        f.paths.push(self.paths_block(e, &at.idx(i))?);
                    }
                }
                // Unknown keys: tolerated (see module docs).
                _ => {}
            }
        }
        if !have_version {
            return Err(self.err(&root, "missing key \"vl_api_version\""));
        }
        Ok(f)
    }

    /// `[type, name]`, `[type, name, {opts}]`, `[type, name, N]`, `[type, name, 0, "count"]`,
    /// each optionally followed by an options dict. Strings are moved out of the document.
    fn field(&self, v: Value, at: &JPath) -> Result<Field> {
        let mut a = self.take_array(v, at, "field")?;
        let n = a.len();
        if n < 2 {
            return Err(self.err(
                at,
                format!("field: expected [type, name, ...], found {n} element(s)"),
            ));
        }
        let trailer = match a.last() {
            Some(Value::Object(_)) if n > 2 => a.pop(),
            _ => None,
        };
        let mut it = a.into_iter();
        let ty = self.take_name(it.next().unwrap_or_default(), &at.idx(0), "field type")?;
        let name = self.take_name(it.next().unwrap_or_default(), &at.idx(1), "field name")?;
        let rest: Vec<Value> = it.collect();
        let options = match &trailer {
            Some(o) => self.options(o, &at.idx(n - 1), "field options")?,
            None => Vec::new(),
        };
        let shape = match rest.as_slice() {
            [] => FieldShape::Scalar,
            [len] => FieldShape::Array {
                len: self.array_len(len, &at.idx(2))?,
            },
            [len, c] => {
                let len = self.array_len(len, &at.idx(2))?;
                if len != 0 {
                    return Err(self.err(
                        &at.idx(2),
                        format!("variable array: length must be 0 when a count field is given, found {len}"),
                    ));
                }
                let count = self.want_name(c, &at.idx(3), "count field")?.to_string();
                FieldShape::Vla { count }
            }
            _ => return Err(self.err(at, format!("field: too many elements ({n})"))),
        };
        Ok(Field {
            ty,
            name,
            shape,
            options,
        })
    }

    fn array_len(&self, v: &Value, at: &JPath) -> Result<u32> {
        v.as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| {
                self.err(
                    at,
                    format!(
                        "array length: expected an integer 0..=4294967295, found {}",
                        if v.is_number() {
                            v.to_string()
                        } else {
                            kind(v).to_string()
                        }
                    ),
                )
            })
    }

    /// Splits `[name, elem..., {trailer}?]` into name, elements and trailer (moved out).
    fn entry(&self, v: Value, at: &JPath, what: &str) -> Result<Entry> {
        let mut a = self.take_array(v, at, what)?;
        if a.is_empty() {
            return Err(self.err(at, format!("{what}: empty entry, missing name")));
        }
        let trailer = match a.last() {
            Some(Value::Object(_)) if a.len() > 1 => match a.pop() {
                Some(Value::Object(m)) => Some(m),
                _ => None,
            },
            _ => None,
        };
        let mut it = a.into_iter();
        let name = self.take_name(
            it.next().unwrap_or_default(),
            &at.idx(0),
            &format!("{what} name"),
        )?;
        Ok((name, it.collect(), trailer))
    }

    fn fields(&self, elems: Vec<Value>, at: &JPath) -> Result<Vec<Field>> {
        elems
            .into_iter()
            .enumerate()
            .map(|(j, e)| self.field(e, &at.idx(j + 1)))
            .collect()
    }

    fn comment(
        &self,
        t: Option<&Map<String, Value>>,
        at: &JPath,
        idx: usize,
    ) -> Result<Option<String>> {
        match t.and_then(|m| m.get("comment")) {
            None | Some(Value::Null) => Ok(None),
            Some(c) => {
                let p = at.idx(idx);
                Ok(Some(
                    self.want_str(c, &p.key("comment"), "comment")?.to_string(),
                ))
            }
        }
    }

    fn typedef(&self, v: Value, at: &JPath) -> Result<TypeDef> {
        let (name, elems, trailer) = self.entry(v, at, "typedef")?;
        let ti = elems.len() + 1;
        let fields = self.fields(elems, at)?;
        Ok(TypeDef {
            name,
            fields,
            comment: self.comment(trailer.as_ref(), at, ti)?,
        })
    }

    fn union(&self, v: Value, at: &JPath) -> Result<UnionDef> {
        let (name, elems, trailer) = self.entry(v, at, "union")?;
        // A trailer, if any, is checked for kind but not kept (see module docs).
        self.comment(trailer.as_ref(), at, elems.len() + 1)?;
        Ok(UnionDef {
            name,
            fields: self.fields(elems, at)?,
        })
    }

    fn message(&self, v: Value, at: &JPath) -> Result<Message> {
        let (name, elems, trailer) = self.entry(v, at, "message")?;
        let ti = elems.len() + 1;
        let tp = at.idx(ti);
        let Some(trailer) = trailer.as_ref() else {
            return Err(self.err(
                at,
                format!("message {name:?}: missing trailing {{\"crc\": ...}} object"),
            ));
        };
        let crc = match trailer.get("crc") {
            None => return Err(self.err(&tp, format!("message {name:?}: missing \"crc\""))),
            Some(c) => {
                let cp = tp.key("crc");
                let s = self.want_str(c, &cp, "crc")?;
                parse_hex_u32(s).ok_or_else(|| {
                    self.err(
                        &cp,
                        format!("bad crc string {s:?} (expected 0x + hex digits)"),
                    )
                })?
            }
        };
        let options = match trailer.get("options") {
            None => Vec::new(),
            Some(o) => self.options(o, &tp.key("options"), "message options")?,
        };
        let comment = self.comment(Some(trailer), at, ti)?;
        Ok(Message {
            name,
            fields: self.fields(elems, at)?,
            crc,
            options,
            comment,
        })
    }

    fn enumdef(&self, v: Value, at: &JPath) -> Result<EnumDef> {
        let (name, elems, trailer) = self.entry(v, at, "enum")?;
        let ti = elems.len() + 1;
        let enumtype = match trailer.as_ref().and_then(|t| t.get("enumtype")) {
            None => {
                return Err(self.err(
                    at,
                    format!("enum {name:?}: missing trailing {{\"enumtype\": ...}}"),
                ))
            }
            Some(t) => {
                let tp = at.idx(ti);
                let p = tp.key("enumtype");
                let s = self.want_str(t, &p, "enumtype")?;
                IntType::parse(s).ok_or_else(|| {
                    self.err(
                        &p,
                        format!("bad enumtype {s:?} (expected u8, u16, u32, i8, i16 or i32)"),
                    )
                })?
            }
        };
        let mut members = Vec::with_capacity(elems.len());
        for (j, m) in elems.into_iter().enumerate() {
            let mp = at.idx(j + 1);
            let a = self.take_array(m, &mp, "enum member")?;
            if a.len() != 2 {
                return Err(self.err(
                    &mp,
                    format!(
                        "enum member: expected [NAME, value], found {} element(s)",
                        a.len()
                    ),
                ));
            }
            let value = a[1].as_i64();
            let mut it = a.into_iter();
            let first = it.next().unwrap_or_default();
            let second = it.next().unwrap_or_default();
            let mname = self.take_name(first, &mp.idx(0), "enum member name")?;
            let value = value.ok_or_else(|| {
                self.err(
                    &mp.idx(1),
                    format!(
                        "enum member value: expected an integer, found {}",
                        kind(&second)
                    ),
                )
            })?;
            members.push(EnumMember {
                name: mname,
                value,
                backwards_compatible: false,
            });
        }
        Ok(EnumDef {
            name,
            members,
            enumtype,
        })
    }

    fn alias(&self, name: &str, v: &Value, at: &JPath) -> Result<Alias> {
        if name.is_empty() {
            return Err(self.err(at, "alias: empty name"));
        }
        let o = self.want_object(v, at, "alias")?;
        let ty = match o.get("type") {
            Some(t) => self
                .want_name(t, &at.key("type"), "alias type")?
                .to_string(),
            None => return Err(self.err(at, format!("alias {name:?}: missing \"type\""))),
        };
        let length = match o.get("length") {
            None => None,
            Some(l) => Some(self.array_len(l, &at.key("length"))?),
        };
        Ok(Alias {
            name: name.to_string(),
            ty,
            length,
        })
    }

    fn service(&self, request: &str, v: &Value, at: &JPath) -> Result<Service> {
        if request.is_empty() {
            return Err(self.err(at, "service: empty request name"));
        }
        let o = self.want_object(v, at, "service")?;
        let reply = match o.get("reply") {
            None => return Err(self.err(at, format!("service {request:?}: missing \"reply\""))),
            Some(r) => match self.want_name(r, &at.key("reply"), "reply")? {
                "null" => None,
                s => Some(s.to_string()),
            },
        };
        let stream = match o.get("stream") {
            None => false,
            Some(s) => s.as_bool().ok_or_else(|| {
                self.err(
                    &at.key("stream"),
                    format!("stream: expected a boolean, found {}", kind(s)),
                )
            })?,
        };
        let stream_msg = match o.get("stream_msg") {
            None => None,
            Some(s) => Some(
                self.want_name(s, &at.key("stream_msg"), "stream_msg")?
                    .to_string(),
            ),
        };
        let events = match o.get("events") {
            None => None,
            Some(e) => {
                let ep = at.key("events");
                let list = self.want_array(e, &ep, "events")?;
                let mut out = Vec::with_capacity(list.len());
                for (i, x) in list.iter().enumerate() {
                    out.push(self.want_name(x, &ep.idx(i), "event")?.to_string());
                }
                Some(out)
            }
        };
        Ok(Service {
            request: request.to_string(),
            reply,
            stream,
            stream_msg,
            events,
        })
    }

    fn options(&self, v: &Value, at: &JPath, what: &str) -> Result<Vec<(String, OptionValue)>> {
        let o = self.want_object(v, at, what)?;
        let mut out = Vec::with_capacity(o.len());
        for (k, x) in o {
            let val = match x {
                Value::Null => OptionValue::Null,
                Value::Bool(b) => OptionValue::Bool(*b),
                Value::String(s) => OptionValue::Str(s.clone()),
                Value::Number(n) => {
                    if let Some(i) = n.as_i64() {
                        OptionValue::Int(i128::from(i))
                    } else if let Some(u) = n.as_u64() {
                        OptionValue::Int(i128::from(u))
                    } else {
                        OptionValue::Float(n.as_f64().unwrap_or(f64::NAN))
                    }
                }
                other => {
                    return Err(self.err(
                        &at.key(k),
                        format!(
                        "option {k:?}: expected null, a boolean, a number or a string, found {}",
                        kind(other)
                    ),
                    ))
                }
            };
            out.push((k.clone(), val));
        }
        Ok(out)
    }

    fn counter_set(&self, v: &Value, at: &JPath) -> Result<CounterSet> {
        let o = self.want_object(v, at, "counter set")?;
        let name = match o.get("name") {
            Some(n) => self
                .want_name(n, &at.key("name"), "counter set name")?
                .to_string(),
            None => return Err(self.err(at, "counter set: missing \"name\"")),
        };
        let mut elements = Vec::new();
        if let Some(e) = o.get("elements") {
            let ep = at.key("elements");
            for (i, x) in self.want_array(e, &ep, "elements")?.iter().enumerate() {
                let xp = ep.idx(i);
                let xo = self.want_object(x, &xp, "counter")?;
                let get = |k: &'static str| -> Result<String> {
                    match xo.get(k) {
                        Some(s) => Ok(self.want_str(s, &xp.key(k), k)?.to_string()),
                        None => Err(self.err(&xp, format!("counter: missing {k:?}"))),
                    }
                };
                elements.push(CounterElement {
                    name: get("name")?,
                    severity: get("severity")?,
                    ty: get("type")?,
                    units: get("units")?,
                    description: get("description")?,
                });
            }
        }
        Ok(CounterSet { name, elements })
    }

    fn path_entry(&self, v: &Value, at: &JPath) -> Result<PathEntry> {
        let o = self.want_object(v, at, "path entry")?;
        let get = |k: &'static str| -> Result<String> {
            match o.get(k) {
                Some(s) => Ok(self.want_str(s, &at.key(k), k)?.to_string()),
                None => Err(self.err(at, format!("path entry: missing {k:?}"))),
            }
        };
        Ok(PathEntry {
            path: get("path")?,
            counter: get("counter")?,
        })
    }

    fn paths_block(&self, v: &Value, at: &JPath) -> Result<PathsBlock> {
        match v {
            // Grammar quirk: a one-entry block is written as the bare dict.
            Value::Object(_) => Ok(PathsBlock {
                entries: vec![self.path_entry(v, at)?],
                bare: true,
            }),
            Value::Array(list) => Ok(PathsBlock {
                entries: list
                    .iter()
                    .enumerate()
                    .map(|(i, e)| self.path_entry(e, &at.idx(i)))
                    .collect::<Result<_>>()?,
                bare: false,
            }),
            other => Err(self.err(
                at,
                format!(
                    "paths block: expected an array or an object, found {}",
                    kind(other)
                ),
            )),
        }
    }
}

/// `0x…` hex (any number of digits up to 8 significant ones), as vppapigen writes CRCs and
/// `vl_api_version`.
pub fn parse_hex_u32(s: &str) -> Option<u32> {
    let h = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"))?;
    if h.is_empty() || h.len() > 16 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(h, 16)
        .ok()
        .and_then(|v| u32::try_from(v).ok())
}
