//! Layout rules on small inline trees: sizes of every kind of field, and the errors for
//! layouts vppapigen would reject.

use std::path::Path;

use api_json::layout::{BaseType, ElemType, FieldKind, VarTail};
use api_json::{json, Api, Error, Location};

const MID: &str = r#"["u16", "_vl_msg_id"]"#;
const TRAILER: &str = r#"{"crc": "0x00000000", "options": {}}"#;

fn tree(types: &str, messages: &[&str], extra: &str) -> Result<Api, Error> {
    let msgs: Vec<String> = messages
        .iter()
        .map(|m| {
            let (name, fields) = m.split_once(':').unwrap();
            let sep = if fields.is_empty() { "" } else { ", " };
            format!(r#"["{name}", {MID}{sep}{fields}, {TRAILER}]"#)
        })
        .collect();
    let text = format!(
        r#"{{"types": [{types}], "messages": [{}], "vl_api_version": "0x0"{extra}}}"#,
        msgs.join(", ")
    );
    let f = json::parse_str(Path::new("t.api.json"), &text).expect("valid JSON");
    Api::from_files(vec![f])
}

#[test]
fn base_types_and_shapes() {
    let api = tree(
        "",
        &[r#"m:["u8", "a"], ["i8", "b"], ["bool", "c"], ["u16", "d"], ["i16", "e"], ["u32", "f"], ["i32", "g"], ["u64", "h"], ["i64", "i"], ["f64", "j"], ["u16", "arr", 3], ["string", "s", 5], ["u8", "n"], ["u64", "v", 0, "n"]"#],
        "",
    )
    .unwrap();
    let l = &api.message("m").unwrap().layout;
    let rows: Vec<(&str, u32, u32)> = l
        .fields
        .iter()
        .map(|f| (f.name.as_str(), f.offset, f.size))
        .collect();
    assert_eq!(
        rows,
        [
            ("_vl_msg_id", 0, 2),
            ("a", 2, 1),
            ("b", 3, 1),
            ("c", 4, 1),
            ("d", 5, 2),
            ("e", 7, 2),
            ("f", 9, 4),
            ("g", 13, 4),
            ("h", 17, 8),
            ("i", 25, 8),
            ("j", 33, 8),
            ("arr", 41, 6),
            ("s", 47, 5),
            ("n", 52, 1),
            ("v", 53, 0),
        ]
    );
    assert_eq!(l.fixed_size, 53);
    assert_eq!(
        l.tail,
        Some(VarTail::Vla {
            field: "v".into(),
            offset: 53,
            elem: ElemType::Base(BaseType::U64),
            elem_size: 8,
            count_field: "n".into(),
            count_offset: 52,
            count_size: 1
        })
    );
    assert_eq!(l.field("arr").unwrap().kind, FieldKind::Array { len: 3 });
    assert_eq!(l.field("arr").unwrap().elem_size, 2);
}

#[test]
fn aliases_enums_unions() {
    let api = tree(
        r#"["pair", ["vl_api_small_t", "x"], ["vl_api_idx_t", "y"]]"#,
        &[r#"m:["vl_api_mac_t", "mac"], ["vl_api_macs_t", "two"], ["vl_api_u_t", "u"], ["vl_api_pair_t", "p"], ["vl_api_big_t", "e"], ["vl_api_idx_t", "cnt"], ["vl_api_pair_t", "ps", 0, "cnt"]"#],
        r#", "aliases": {"idx": {"type": "u32"}, "mac": {"type": "u8", "length": 6}, "macs": {"type": "vl_api_mac_t", "length": 2}},
            "enums": [["small", ["A", 0], {"enumtype": "u8"}], ["big", ["B", -1], {"enumtype": "i32"}]],
            "unions": [["u", ["u8", "a"], ["vl_api_mac_t", "b"], ["u16", "c"]]]"#,
    )
    .unwrap();
    let l = &api.message("m").unwrap().layout;
    let rows: Vec<(&str, u32, u32)> = l
        .fields
        .iter()
        .map(|f| (f.name.as_str(), f.offset, f.size))
        .collect();
    assert_eq!(
        rows,
        [
            ("_vl_msg_id", 0, 2),
            ("mac", 2, 6),
            ("two", 8, 12),
            ("u", 20, 6),
            ("p", 26, 5),
            ("e", 31, 4),
            ("cnt", 35, 4),
            ("ps", 39, 0),
        ]
    );
    // An alias of an integer is a valid count; the VLA's element is the 5-byte typedef.
    assert_eq!(l.field("ps").unwrap().elem_size, 5);
    assert_eq!(
        l.field("two").unwrap().elem,
        ElemType::Array {
            elem: Box::new(ElemType::Array {
                elem: Box::new(ElemType::Base(BaseType::U8)),
                len: 6
            }),
            len: 2
        }
    );
    let u = api.type_layout("u").unwrap();
    assert_eq!(u.fixed_size, 6);
    assert!(u.fields.iter().all(|f| f.offset == 0));
}

#[test]
fn legacy_rest_of_message_array() {
    let api = tree("", &[r#"m:["u32", "a"], ["u8", "data", 0]"#], "").unwrap();
    let l = &api.message("m").unwrap().layout;
    assert_eq!(l.fixed_size, 6);
    assert_eq!(
        l.tail,
        Some(VarTail::Rest {
            field: "data".into(),
            offset: 6,
            elem_size: 1
        })
    );
}

#[track_caller]
fn rejects(types: &str, messages: &[&str], extra: &str, path: &str, msg: &str) {
    let e = tree(types, messages, extra).expect_err(msg);
    assert_eq!(e.file, Path::new("t.api.json"));
    assert_eq!(e.location, Location::JsonPath(path.into()), "{e}");
    assert!(
        e.message.contains(msg),
        "{:?} does not contain {msg:?}",
        e.message
    );
}

#[test]
fn rejected_layouts() {
    rejects(
        "",
        &[r#"m:["string", "s"]"#],
        "",
        "$.messages[0][2]",
        "field `s`: a string needs a length",
    );
    rejects(
        "",
        &[r#"m:["u8", "n"], ["string", "s", 0, "n"]"#],
        "",
        "$.messages[0][3]",
        "a string cannot have a count field",
    );
    rejects(
        "",
        &[r#"m:["f64", "n"], ["u8", "v", 0, "n"]"#],
        "",
        "$.messages[0][3]",
        "count field `n` has type f64, expected an integer",
    );
    rejects(
        r#"["var", ["u8", "n"], ["u8", "v", 0, "n"]]"#,
        &[r#"m:["vl_api_var_t", "x", 2]"#],
        "",
        "$.messages[0][2]",
        "field `x`: array of a variable-size type",
    );
    rejects(
        r#"["var", ["u8", "n"], ["u8", "v", 0, "n"]]"#,
        &[r#"m:["vl_api_var_t", "x"], ["u8", "after"]"#],
        "",
        "$.messages[0][2]",
        "variable-size field `x` must be the last field (followed by `after`)",
    );
    rejects(
        "",
        &[],
        r#", "unions": [["u", ["u8", "a"], ["string", "s", 0]]]"#,
        "$.unions[0][2]",
        "union `u`: union arm `s` has a variable size",
    );
    rejects(
        "",
        &[],
        r#", "aliases": {"a": {"type": "vl_api_b_t"}, "b": {"type": "vl_api_a_t"}}"#,
        "$.aliases.a",
        "nest deeper than",
    );
    rejects(
        "",
        &[],
        r#", "aliases": {"s": {"type": "string"}}"#,
        "$.aliases.s",
        "alias vl_api_s_t of string is not supported",
    );
    rejects(
        "",
        &[r#"m:["u32", "x", 4294967295]"#],
        "",
        "$.messages[0][2]",
        "block size exceeds 4 GiB",
    );
}
