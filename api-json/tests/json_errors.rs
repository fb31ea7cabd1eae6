//! `json::parse_str` on malformed documents: every error names the file, the JSON path (or
//! line:column) and what is wrong.

use std::path::Path;

use api_json::{json, Location};

const FILE: &str = "dir/x.api.json";

/// Wraps `body` (top-level keys, without braces) into a document with a version.
fn doc(body: &str) -> String {
    if body.is_empty() {
        r#"{"vl_api_version": "0x1"}"#.to_string()
    } else {
        format!(r#"{{{body}, "vl_api_version": "0x1"}}"#)
    }
}

fn err(text: &str) -> api_json::Error {
    match json::parse_str(Path::new(FILE), text) {
        Ok(f) => panic!("expected an error for {text}, got {f:?}"),
        Err(e) => e,
    }
}

#[track_caller]
fn check(text: &str, path: &str, msg: &str) {
    let e = err(text);
    assert_eq!(e.file, Path::new(FILE), "{text}");
    assert_eq!(
        e.location,
        Location::JsonPath(path.to_string()),
        "{text}: {e}"
    );
    assert!(
        e.message.contains(msg),
        "{text}: {:?} does not contain {msg:?}",
        e.message
    );
    // Display renders file:place: message.
    assert_eq!(e.to_string(), format!("{FILE}:{path}: {}", e.message));
}

const MSG_ID: &str = r#"["u16", "_vl_msg_id"]"#;

#[test]
fn wrong_kinds_and_missing_parts() {
    let table: Vec<(String, &str, &str)> = vec![
        (
            "[]".into(),
            "$",
            "document: expected an object, found an array",
        ),
        (
            doc(r#""messages": {}"#),
            "$.messages",
            "messages: expected an array, found an object",
        ),
        (
            doc(r#""types": [[]]"#),
            "$.types[0]",
            "empty entry, missing name",
        ),
        (
            doc(r#""types": [[5]]"#),
            "$.types[0][0]",
            "typedef name: expected a string, found a number",
        ),
        (
            doc(r#""types": [["t", ["u32"]]]"#),
            "$.types[0][1]",
            "expected [type, name, ...], found 1 element(s)",
        ),
        (
            doc(r#""types": [["t", "u32"]]"#),
            "$.types[0][1]",
            "field: expected an array, found a string",
        ),
        (
            doc(r#""types": [["t", ["u32", 5]]]"#),
            "$.types[0][1][1]",
            "field name: expected a string, found a number",
        ),
        (
            doc(r#""types": [["t", ["u8", "x", -1]]]"#),
            "$.types[0][1][2]",
            "array length: expected an integer 0..=4294967295, found -1",
        ),
        (
            doc(r#""types": [["t", ["u8", "x", 4294967296]]]"#),
            "$.types[0][1][2]",
            "found 4294967296",
        ),
        (
            doc(r#""types": [["t", ["u8", "x", 3, "n"]]]"#),
            "$.types[0][1][2]",
            "length must be 0 when a count field is given",
        ),
        (
            doc(r#""types": [["t", ["u8", "x", 0, 7]]]"#),
            "$.types[0][1][3]",
            "count field: expected a string",
        ),
        (
            doc(r#""types": [["t", ["u8", "x", 0, "n", "extra"]]]"#),
            "$.types[0][1]",
            "too many elements",
        ),
        (
            doc(r#""types": [["t", ["u8", "x", {"default": [1]}]]]"#),
            "$.types[0][1][2].default",
            "expected null, a boolean, a number or a string, found an array",
        ),
        (
            doc(r#""types": [["t", ["u8", "x"], {"comment": 1}]]"#),
            "$.types[0][2].comment",
            "comment: expected a string",
        ),
        (
            doc(&format!(r#""messages": [["m", {MSG_ID}]]"#)),
            "$.messages[0]",
            "message \"m\": missing trailing {\"crc\": ...} object",
        ),
        (
            doc(&format!(
                r#""messages": [["m", {MSG_ID}, {{"options": {{}}}}]]"#
            )),
            "$.messages[0][2]",
            "missing \"crc\"",
        ),
        (
            doc(&format!(
                r#""messages": [["m", {MSG_ID}, {{"crc": "0xZZ"}}]]"#
            )),
            "$.messages[0][2].crc",
            "bad crc string \"0xZZ\"",
        ),
        (
            doc(&format!(
                r#""messages": [["m", {MSG_ID}, {{"crc": "12345678"}}]]"#
            )),
            "$.messages[0][2].crc",
            "bad crc string",
        ),
        (
            doc(&format!(
                r#""messages": [["m", {MSG_ID}, {{"crc": "0x123456789"}}]]"#
            )),
            "$.messages[0][2].crc",
            "bad crc string",
        ),
        (
            doc(&format!(r#""messages": [["m", {MSG_ID}, {{"crc": 5}}]]"#)),
            "$.messages[0][2].crc",
            "crc: expected a string, found a number",
        ),
        (
            doc(&format!(
                r#""messages": [["m", {MSG_ID}, {{"crc": "0x1", "options": []}}]]"#
            )),
            "$.messages[0][2].options",
            "message options: expected an object",
        ),
        (
            doc(&format!(
                r#""messages": [["m", {MSG_ID}, ["u32", ""], {{"crc": "0x1"}}]]"#
            )),
            "$.messages[0][2][1]",
            "field name: empty name",
        ),
        (
            doc(r#""enums": [["e", ["A", 0]]]"#),
            "$.enums[0]",
            "enum \"e\": missing trailing {\"enumtype\": ...}",
        ),
        (
            doc(r#""enums": [["e", ["A", 0], {"enumtype": "u64"}]]"#),
            "$.enums[0][2].enumtype",
            "bad enumtype \"u64\"",
        ),
        (
            doc(r#""enumflags": [["e", ["A", 0], {"enumtype": 8}]]"#),
            "$.enumflags[0][2].enumtype",
            "enumtype: expected a string",
        ),
        (
            doc(r#""enums": [["e", ["A", "x"], {"enumtype": "u8"}]]"#),
            "$.enums[0][1][1]",
            "enum member value: expected an integer, found a string",
        ),
        (
            doc(r#""enums": [["e", ["A"], {"enumtype": "u8"}]]"#),
            "$.enums[0][1]",
            "expected [NAME, value], found 1 element(s)",
        ),
        (
            doc(r#""enums": [["e", ["A", 1.5], {"enumtype": "u8"}]]"#),
            "$.enums[0][1][1]",
            "expected an integer, found a number",
        ),
        (
            doc(r#""aliases": []"#),
            "$.aliases",
            "aliases: expected an object, found an array",
        ),
        (
            doc(r#""aliases": {"a": {}}"#),
            "$.aliases.a",
            "alias \"a\": missing \"type\"",
        ),
        (
            doc(r#""aliases": {"a b": {"type": "u8", "length": "6"}}"#),
            "$.aliases[\"a b\"].length",
            "array length: expected an integer",
        ),
        (
            doc(r#""services": {"s": {}}"#),
            "$.services.s",
            "service \"s\": missing \"reply\"",
        ),
        (
            doc(r#""services": {"s": {"reply": "r", "stream": "yes"}}"#),
            "$.services.s.stream",
            "stream: expected a boolean, found a string",
        ),
        (
            doc(r#""services": {"s": {"reply": "r", "events": "e"}}"#),
            "$.services.s.events",
            "events: expected an array, found a string",
        ),
        (
            doc(r#""services": {"s": {"reply": "r", "events": [1]}}"#),
            "$.services.s.events[0]",
            "event: expected a string",
        ),
        (
            doc(r#""options": {"version": [1]}"#),
            "$.options.version",
            "option \"version\": expected null, a boolean, a number or a string",
        ),
        (
            doc(r#""imports": [3]"#),
            "$.imports[0]",
            "import: expected a string",
        ),
        (
            doc(r#""counters": [{}]"#),
            "$.counters[0]",
            "counter set: missing \"name\"",
        ),
        (
            doc(r#""counters": [{"name": "c", "elements": [{"name": "x"}]}]"#),
            "$.counters[0].elements[0]",
            "counter: missing \"severity\"",
        ),
        (
            doc(r#""paths": [5]"#),
            "$.paths[0]",
            "paths block: expected an array or an object, found a number",
        ),
        (
            doc(r#""paths": [[{"path": "/x"}]]"#),
            "$.paths[0][0]",
            "path entry: missing \"counter\"",
        ),
        (
            doc(r#""paths": [{"path": "/x", "counter": 1}]"#),
            "$.paths[0].counter",
            "counter: expected a string",
        ),
        (
            doc(r#""module": 1"#),
            "$.module",
            "module: expected a string",
        ),
        (
            r#"{"types": []}"#.into(),
            "$",
            "missing key \"vl_api_version\"",
        ),
        (
            r#"{"vl_api_version": "c2b1c41"}"#.into(),
            "$.vl_api_version",
            "bad hex value",
        ),
    ];
    for (text, path, msg) in &table {
        check(text, path, msg);
    }
}

#[test]
fn syntax_errors_give_line_and_column() {
    let e = err("{\n  \"types\": [}\n");
    assert_eq!(
        e.location,
        Location::LineCol {
            line: 2,
            column: 13
        }
    );
    assert!(e.message.starts_with("JSON syntax error"), "{e}");
    assert!(!e.message.contains(" at line "), "{e}");
    let e = err("");
    assert!(
        matches!(e.location, Location::LineCol { line: 1, .. }),
        "{e}"
    );
    let e = err("{\"vl_api_version\": \"0x1\"} trailing");
    assert!(
        matches!(
            e.location,
            Location::LineCol {
                line: 1,
                column: 27
            }
        ),
        "{e}"
    );
    assert_eq!(e.to_string(), format!("{FILE}:1:27: {}", e.message),);
    let e = json::parse_bytes(Path::new(FILE), b"{\"a\":\n \"\xff\"}").unwrap_err();
    assert_eq!(e.location, Location::LineCol { line: 2, column: 3 });
    assert_eq!(e.message, "not valid UTF-8");
}

#[test]
fn tolerated_input() {
    // Unknown keys anywhere are ignored; missing lists count as empty.
    let f = json::parse_str(
        Path::new(FILE),
        r#"{"future_key": {"x": 1}, "vl_api_version": "0xc2b1c41",
            "services": {"s": {"reply": "null", "future": true}},
            "aliases": {"a": {"type": "u32", "future": 1}},
            "unions": [["u", ["u8", "a"], {"comment": "c"}]]}"#,
    )
    .unwrap();
    assert_eq!(f.vl_api_version, 0x0c2b_1c41);
    assert_eq!(f.services[0].reply, None);
    assert!(f.messages.is_empty() && f.types.is_empty());
    assert_eq!(f.unions[0].fields.len(), 1);
    assert_eq!(f.module_name(), "x");
}

#[test]
fn parse_file_reports_io_errors() {
    let e = json::parse_file(Path::new("/nonexistent/x.api.json")).unwrap_err();
    assert_eq!(e.location, Location::File);
    assert!(e.message.starts_with("cannot read"), "{e}");
}
