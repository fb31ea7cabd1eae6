//! Write an [`ApiFile`] as vppapigen's JSON plugin does (`.api.json`): same keys in the same
//! order, same list shapes and quirks (`vl_api_version` as Python `hex()`, `"reply": "null"`,
//! bare dicts for single-entry `paths` blocks), and as text the same layout (4-space indent,
//! non-ASCII escaped as `\uXXXX` like Python's `ensure_ascii`).

use serde_json::{json, Map, Number, Value};

use crate::model::*;

fn option_value(v: &OptionValue) -> Value {
    match v {
        OptionValue::Null => Value::Null,
        OptionValue::Bool(b) => Value::Bool(*b),
        OptionValue::Int(i) => {
            if let Ok(x) = i64::try_from(*i) {
                Value::from(x)
            } else if let Ok(x) = u64::try_from(*i) {
                Value::from(x)
            } else {
                // Beyond 64 bits JSON numbers lose precision anyway; keep the magnitude.
                Number::from_f64(*i as f64).map_or(Value::Null, Value::Number)
            }
        }
        OptionValue::Float(f) => Number::from_f64(*f).map_or(Value::Null, Value::Number),
        OptionValue::Str(s) => Value::String(s.clone()),
    }
}

fn options_dict(opts: &[(String, OptionValue)]) -> Value {
    let mut m = Map::new();
    for (k, v) in opts {
        m.insert(k.clone(), option_value(v));
    }
    Value::Object(m)
}

/// `["u32", "x"]`, `["u32", "x", {"default": 1}]`, `["u8", "x", 6]`, `["u8", "x", 0, "n"]`.
pub fn field_value(f: &Field) -> Value {
    let mut a = vec![Value::from(f.ty.as_str()), Value::from(f.name.as_str())];
    match &f.shape {
        FieldShape::Scalar => {}
        FieldShape::Array { len } => a.push(Value::from(*len)),
        FieldShape::Vla { count } => {
            a.push(Value::from(0));
            a.push(Value::from(count.as_str()));
        }
    }
    if !f.options.is_empty() {
        a.push(options_dict(&f.options));
    }
    Value::Array(a)
}

fn enum_value(e: &EnumDef) -> Value {
    let mut a = vec![Value::from(e.name.as_str())];
    for m in &e.members {
        a.push(json!([m.name, m.value]));
    }
    a.push(json!({"enumtype": e.enumtype.name()}));
    Value::Array(a)
}

/// The whole document as a JSON value (key order as vppapigen writes it).
pub fn to_value(f: &ApiFile) -> Value {
    let mut top = Map::new();
    if let Some(m) = &f.module {
        top.insert("module".into(), Value::from(m.as_str()));
    }
    top.insert(
        "types".into(),
        f.types
            .iter()
            .map(|t| {
                let mut a = vec![Value::from(t.name.as_str())];
                a.extend(t.fields.iter().map(field_value));
                if let Some(c) = &t.comment {
                    a.push(json!({ "comment": c }));
                }
                Value::Array(a)
            })
            .collect(),
    );
    top.insert(
        "messages".into(),
        f.messages
            .iter()
            .map(|m| {
                let mut a = vec![Value::from(m.name.as_str())];
                a.extend(m.fields.iter().map(field_value));
                let mut trailer = Map::new();
                trailer.insert("crc".into(), Value::from(format!("0x{:08x}", m.crc)));
                trailer.insert("options".into(), options_dict(&m.options));
                if let Some(c) = &m.comment {
                    trailer.insert("comment".into(), Value::from(c.as_str()));
                }
                a.push(Value::Object(trailer));
                Value::Array(a)
            })
            .collect(),
    );
    top.insert(
        "unions".into(),
        f.unions
            .iter()
            .map(|u| {
                let mut a = vec![Value::from(u.name.as_str())];
                a.extend(u.fields.iter().map(field_value));
                Value::Array(a)
            })
            .collect(),
    );
    top.insert("enums".into(), f.enums.iter().map(enum_value).collect());
    top.insert(
        "enumflags".into(),
        f.enumflags.iter().map(enum_value).collect(),
    );
    let mut services = Map::new();
    for s in &f.services {
        let mut d = Map::new();
        d.insert(
            "reply".into(),
            Value::from(s.reply.as_deref().unwrap_or("null")),
        );
        if s.stream {
            d.insert("stream".into(), Value::Bool(true));
        }
        if let Some(m) = &s.stream_msg {
            d.insert("stream_msg".into(), Value::from(m.as_str()));
        }
        if let Some(ev) = &s.events {
            d.insert("events".into(), json!(ev));
        }
        services.insert(s.request.clone(), Value::Object(d));
    }
    top.insert("services".into(), Value::Object(services));
    top.insert("options".into(), options_dict(&f.options));
    let mut aliases = Map::new();
    for a in &f.aliases {
        let mut d = Map::new();
        d.insert("type".into(), Value::from(a.ty.as_str()));
        if let Some(l) = a.length {
            d.insert("length".into(), Value::from(l));
        }
        aliases.insert(a.name.clone(), Value::Object(d));
    }
    top.insert("aliases".into(), Value::Object(aliases));
    // Python `hex()`: no zero padding.
    top.insert(
        "vl_api_version".into(),
        Value::from(format!("{:#x}", f.vl_api_version)),
    );
    top.insert("imports".into(), json!(f.imports));
    top.insert(
        "counters".into(),
        f.counters
            .iter()
            .map(|c| {
                json!({
                    "name": c.name,
                    "elements": c.elements.iter().map(|e| json!({
                        "name": e.name,
                        "severity": e.severity,
                        "type": e.ty,
                        "units": e.units,
                        "description": e.description,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect(),
    );
    top.insert(
        "paths".into(),
        f.paths
            .iter()
            .map(|p| {
                let entries: Vec<Value> = p
                    .entries
                    .iter()
                    .map(|e| json!({"path": e.path, "counter": e.counter}))
                    .collect();
                match (p.bare, entries.as_slice()) {
                    (true, [one]) => one.clone(),
                    _ => Value::Array(entries),
                }
            })
            .collect(),
    );
    Value::Object(top)
}

fn write_str(out: &mut String, s: &str) {
    use std::fmt::Write as _;
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            // Python's ensure_ascii: everything else as UTF-16 escapes.
            _ => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

fn newline(out: &mut String, depth: usize) {
    out.push('\n');
    for _ in 0..depth {
        out.push_str("    ");
    }
}

fn write_value(out: &mut String, v: &Value, depth: usize) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_str(out, s),
        Value::Array(a) if a.is_empty() => out.push_str("[]"),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, depth + 1);
                write_value(out, x, depth + 1);
            }
            newline(out, depth);
            out.push(']');
        }
        Value::Object(m) if m.is_empty() => out.push_str("{}"),
        Value::Object(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, depth + 1);
                write_str(out, k);
                out.push_str(": ");
                write_value(out, x, depth + 1);
            }
            newline(out, depth);
            out.push('}');
        }
    }
}

/// The document as text, laid out like vppapigen's output (Python `json.dumps(indent=4)` with
/// `ensure_ascii`), ending with a newline.
pub fn to_string(f: &ApiFile) -> String {
    let mut out = String::new();
    write_value(&mut out, &to_value(f), 0);
    out.push('\n');
    out
}
