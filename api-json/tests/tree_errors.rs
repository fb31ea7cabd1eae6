//! Trees that must not resolve (`tests/fixtures/bad`): every error names the file, the JSON path
//! and what is wrong.

use std::path::PathBuf;

use api_json::{Api, Location};

fn bad(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/bad")).join(name)
}

#[track_caller]
fn check(input: &str, file: &str, path: &str, msg: &str) {
    let e = Api::load(&[bad(input)]).expect_err(input);
    assert_eq!(e.file, bad(file), "{input}: {e}");
    assert_eq!(e.location, Location::JsonPath(path.into()), "{input}: {e}");
    assert!(
        e.message.contains(msg),
        "{input}: {:?} does not contain {msg:?}",
        e.message
    );
}

#[test]
fn resolver_errors() {
    let table = [
        (
            "unknown_type.api.json",
            "unknown_type.api.json",
            "$.messages[1][5]",
            "message `bad_msg`: field `b`: unknown type vl_api_nope_t",
        ),
        (
            "count_missing.api.json",
            "count_missing.api.json",
            "$.messages[0][5]",
            "field `xs`: count field `n` is not declared before it in the same block",
        ),
        (
            "count_not_integer.api.json",
            "count_not_integer.api.json",
            "$.types[0][2]",
            "typedef `t`: field `xs`: count field `n` has type bool, expected an integer",
        ),
        (
            "vla_not_last.api.json",
            "vla_not_last.api.json",
            "$.messages[0][5]",
            "variable-size field `xs` must be the last field (followed by `after`)",
        ),
        (
            "cycle.api.json",
            "cycle.api.json",
            "$.types[0]",
            "typedef `a`: type cycle: vl_api_a_t -> vl_api_b_t -> vl_api_a_t",
        ),
        (
            "unknown_service_message.api.json",
            "unknown_service_message.api.json",
            "$.services.m.reply",
            "service `m`: unknown message `m_reply`",
        ),
        (
            "alias_unknown_target.api.json",
            "alias_unknown_target.api.json",
            "$.aliases.idx",
            "alias `idx`: alias vl_api_idx_t: unknown type vl_api_missing_t",
        ),
        (
            "enum_value_too_big.api.json",
            "enum_value_too_big.api.json",
            "$.enums[0][2]",
            "enum `small`: value 300 of B does not fit its enumtype u8",
        ),
    ];
    for (input, file, path, msg) in table {
        check(input, file, path, msg);
    }
}

#[test]
fn conflicting_types_across_files_name_both_places() {
    let a = bad("conflict/a.api.json");
    check(
        "conflict",
        "conflict/b.api.json",
        "$.types[1]",
        &format!(
            "typedef `pair` conflicts with the typedef of the same name at {}:$.types[0]",
            a.display()
        ),
    );
}

#[test]
fn conflicting_messages_across_files_name_both_places() {
    let a = bad("dup_message/a.api.json");
    check(
        "dup_message",
        "dup_message/b.api.json",
        "$.messages[0]",
        &format!(
            "message `dup` conflicts with the message of the same name at {}:$.messages[1]",
            a.display()
        ),
    );
}

#[test]
fn syntax_error_in_a_tree_file() {
    let e = Api::load(&[bad("syntax.api.json")]).unwrap_err();
    assert_eq!(e.file, bad("syntax.api.json"));
    assert_eq!(
        e.location,
        Location::LineCol {
            line: 5,
            column: 15
        }
    );
    assert!(e.message.starts_with("JSON syntax error"), "{e}");
}

#[test]
fn missing_inputs() {
    let e = Api::load(&[bad("nonexistent")]).unwrap_err();
    assert_eq!((e.file, e.location), (bad("nonexistent"), Location::File));
    let empty = std::env::temp_dir().join(format!("api-json-empty-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let e = Api::load(&[&empty]).unwrap_err();
    assert_eq!(e.file, empty);
    assert!(e.message.contains("no *.api.json files"), "{e}");
    std::fs::remove_dir(&empty).unwrap();
}
