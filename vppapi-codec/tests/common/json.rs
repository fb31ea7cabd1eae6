//! `Value` <-> JSON in the shape vpp_papi takes and gives (bytes as `{"$bytes": hex}`).

use serde_json::{json, Map, Value as Json};
use vppapi_codec::Value;

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

pub fn to_json(v: &Value) -> Json {
    match v {
        Value::Int(i) => {
            if let Ok(x) = i64::try_from(*i) {
                json!(x)
            } else {
                json!(u64::try_from(*i).expect("wire integers fit in 64 bits"))
            }
        }
        Value::F64(f) => json!(f),
        Value::Bool(b) => json!(b),
        Value::Str(s) => json!(s),
        Value::Bytes(b) => json!({ "$bytes": hex(b) }),
        Value::List(l) => Json::Array(l.iter().map(to_json).collect()),
        Value::Struct(fields) => {
            let mut m = Map::new();
            for (k, v) in fields {
                m.insert((*k).to_owned(), to_json(v));
            }
            Json::Object(m)
        }
    }
}

/// True when every field of `ours` is in `theirs` with the same value (papi decodes unions as
/// every arm; ours names one). Numbers compare as f64 when either side is a float.
pub fn subset(ours: &Json, theirs: &Json) -> Result<(), String> {
    match (ours, theirs) {
        (Json::Object(a), Json::Object(b)) => {
            for (k, v) in a {
                let Some(w) = b.get(k) else {
                    return Err(format!("papi lacks field {k}"));
                };
                subset(v, w).map_err(|e| format!("{k}.{e}"))?;
            }
            Ok(())
        }
        (Json::Array(a), Json::Array(b)) => {
            if a.len() != b.len() {
                return Err(format!("length {} vs {}", a.len(), b.len()));
            }
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                subset(x, y).map_err(|e| format!("[{i}].{e}"))?;
            }
            Ok(())
        }
        (Json::Number(a), Json::Number(b)) if a.is_f64() || b.is_f64() => {
            if a.as_f64() == b.as_f64() {
                Ok(())
            } else {
                Err(format!("{a} != {b}"))
            }
        }
        (a, b) if a == b => Ok(()),
        (a, b) => Err(format!("{a} != {b}")),
    }
}
