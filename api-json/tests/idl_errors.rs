//! Malformed IDL: every error names the file, the line:column and what is wrong.

use std::path::{Path, PathBuf};

use api_json::idl::{Loader, MemSources};
use api_json::{Error, Location};

/// Load `main.api` (plus extra in-memory files) with include directory `/inc`.
fn load(main: &str, extra: &[(&str, &str)]) -> Result<api_json::idl::IdlApi, Error> {
    let mut m = MemSources::new();
    m.insert("/inc/main.api", main);
    for (p, s) in extra {
        m.insert(Path::new("/inc").join(p), *s);
    }
    Loader::new(vec![PathBuf::from("/inc")], m).load(Path::new("/inc/main.api"))
}

const OK_MSG: &str = "autoreply define ok { u32 client_index; u32 context; };\n";

#[test]
fn malformed_snippets_report_file_line_column_and_what() {
    // (name, source, extra files, error file, line, column, message fragment)
    #[allow(clippy::type_complexity)]
    let cases: &[(&str, &str, &[(&str, &str)], &str, u32, u32, &str)] = &[
        (
            "unterminated comment",
            "option version = \"1.0.0\";\n  /* never closed\ndefine x { u32 a; };\n",
            &[],
            "/inc/main.api",
            2,
            3,
            "unterminated comment",
        ),
        (
            "unterminated string",
            "option version = \"1.0.0;\n",
            &[],
            "/inc/main.api",
            1,
            18,
            "unterminated string literal",
        ),
        (
            "unterminated block",
            "define x {\n  u32 client_index;\n  u32 context;\n",
            &[],
            "/inc/main.api",
            4,
            1,
            "expected `}` closing the block, found end of file",
        ),
        (
            "bad enum value",
            "enum e : u8 {\n  A = 1,\n  B = 2.5,\n};\n",
            &[],
            "/inc/main.api",
            3,
            7,
            "bad enum value for B: expected an integer, found number 2.5",
        ),
        (
            "enum value is a name",
            "enum e {\n  A = B,\n};\n",
            &[],
            "/inc/main.api",
            2,
            7,
            "bad enum value for A",
        ),
        (
            "unknown keyword",
            "definee x { u32 a; };\n",
            &[],
            "/inc/main.api",
            1,
            1,
            "expected a statement (define, typedef, union, enum, enumflag, option, import, service, counters, paths), found `definee`",
        ),
        (
            "missing semicolon after field",
            "define x {\n  u32 client_index\n  u32 context;\n};\n",
            &[],
            "/inc/main.api",
            3,
            3,
            "expected `;`, found keyword `u32`",
        ),
        (
            "missing semicolon after block",
            "typedef t { u32 a; }\ndefine x { u32 a; };\n",
            &[],
            "/inc/main.api",
            2,
            1,
            "expected `;`, found keyword `define`",
        ),
        (
            "negative array length",
            "typedef t {\n  u8 data[-4];\n};\n",
            &[],
            "/inc/main.api",
            2,
            11,
            "bad array length number -4",
        ),
        (
            "fractional array length",
            "typedef t {\n  u8 data[1.5];\n};\n",
            &[],
            "/inc/main.api",
            2,
            11,
            "bad array length",
        ),
        (
            "VLA count names an unknown field",
            "typedef t {\n  u32 n;\n  u8 data[count];\n};\n",
            &[],
            "/inc/main.api",
            3,
            11,
            "missing length field `count` for `data`",
        ),
        (
            "VLA count names a later field",
            "typedef t {\n  u8 data[n];\n  u32 n;\n};\n",
            &[],
            "/inc/main.api",
            2,
            11,
            "length field `n` of `data` must be declared before it",
        ),
        (
            "VLA not last",
            "typedef t {\n  u32 n;\n  u8 data[n];\n  u32 after;\n};\n",
            &[],
            "/inc/main.api",
            3,
            3,
            "variable-length field `data` must be the last field of `t`",
        ),
        (
            "type with a VLA used before the end",
            "typedef v { u32 n; u8 d[n]; };\ntypedef t {\n  vl_api_v_t inner;\n  u32 after;\n};\n",
            &[],
            "/inc/main.api",
            3,
            3,
            "variable-length field `inner` must be the last field of `t`",
        ),
        (
            "string without length",
            "typedef t {\n  string name;\n};\n",
            &[],
            "/inc/main.api",
            2,
            3,
            "string field `name` must be an array",
        ),
        (
            "undefined type",
            "define x {\n  u32 client_index;\n  vl_api_nothing_t n;\n};\n",
            &[],
            "/inc/main.api",
            3,
            3,
            "undefined type `vl_api_nothing_t` (field `n` of `x`)",
        ),
        (
            "import of a missing file",
            "option version = \"1.0.0\";\nimport \"vnet/missing.api\";\n",
            &[],
            "/inc/main.api",
            2,
            1,
            "cannot find imported file \"vnet/missing.api\" (looked in: /inc)",
        ),
        (
            "import cycle",
            "import \"a.api\";\n",
            &[
                ("a.api", "typedef ta { u8 x; };\nimport \"b.api\";\n"),
                ("b.api", "\n\nimport \"a.api\";\n"),
            ],
            "/inc/b.api",
            3,
            1,
            "import cycle: /inc/a.api -> /inc/b.api -> /inc/a.api",
        ),
        (
            "error inside an imported file",
            "import \"bad.api\";\n",
            &[("bad.api", "typedef t {\n  u32 a\n};\n")],
            "/inc/bad.api",
            3,
            1,
            "expected `;`, found `}`",
        ),
        (
            "duplicate typedef",
            "typedef t { u8 a; };\n\ntypedef t { u16 b; };\n",
            &[],
            "/inc/main.api",
            3,
            1,
            "duplicate definition of type `t` (also defined at /inc/main.api:1:1)",
        ),
        (
            "type redefined across an import",
            "import \"types.api\";\nenum t { A, };\n",
            &[("types.api", "typedef t { u8 a; };\n")],
            "/inc/main.api",
            2,
            1,
            "duplicate definition of type `t` (also defined at /inc/types.api:1:1)",
        ),
        (
            "duplicate message",
            "define x { u32 client_index; u32 context; };\ndefine x_reply { u32 context; i32 retval; };\ndefine x { u32 client_index; };\n",
            &[],
            "/inc/main.api",
            3,
            1,
            "duplicate definition of message `x` (also defined at 1:1)",
        ),
        (
            "autoreply collides with an explicit reply",
            "autoreply define x { u32 client_index; u32 context; };\ndefine x_reply { u32 context; i32 retval; };\n",
            &[],
            "/inc/main.api",
            2,
            1,
            "duplicate definition of message `x_reply`",
        ),
        (
            "illegal character",
            "define x {\n  u32 a; $\n};\n",
            &[],
            "/inc/main.api",
            2,
            10,
            "illegal character '$'",
        ),
        (
            "backwards_compatible enumerator not last",
            "enum e {\n  A = 0,\n  B [backwards_compatible],\n  C,\n};\n",
            &[],
            "/inc/main.api",
            4,
            3,
            "enumerator C of `e` follows a [backwards_compatible] one",
        ),
        (
            "service names an unknown message",
            "define x { u32 client_index; u32 context; };\ndefine x_reply { u32 context; i32 retval; };\nservice {\n  rpc y returns x_reply;\n};\n",
            &[],
            "/inc/main.api",
            4,
            3,
            "service refers to unknown message `y`",
        ),
        (
            "request without reply",
            "define lonely { u32 client_index; u32 context; };\n",
            &[],
            "/inc/main.api",
            1,
            1,
            "`lonely` has no reply message `lonely_reply` and no service definition",
        ),
        (
            "reply equals request",
            "define x { u32 client_index; };\nservice { rpc x returns x; };\n",
            &[],
            "/inc/main.api",
            2,
            11,
            "reply `x` must differ from the request message",
        ),
        (
            "empty block",
            "typedef t {\n};\n",
            &[],
            "/inc/main.api",
            2,
            1,
            "expected a field declaration or option, found `}`",
        ),
        (
            "option in a typedef",
            "typedef t {\n  u8 a;\n  option deprecated;\n};\n",
            &[],
            "/inc/main.api",
            3,
            3,
            "`option deprecated` is not allowed in a typedef",
        ),
        (
            "bad enum size",
            "enum e : u64 { A, };\n",
            &[],
            "/inc/main.api",
            1,
            10,
            "expected an enum size (u8, u16, u32, i8, i16, i32), found keyword `u64`",
        ),
        (
            "number too large",
            "enum e { A = 0x1ffffffffffffffffffffffffffffffffff, };\n",
            &[],
            "/inc/main.api",
            1,
            14,
            "number 0x1ffffffffffffffffffffffffffffffffff is too large",
        ),
    ];
    // Each typedef holds two of the previous one: folding t17 would visit 2^18 types.
    let mut blowup = String::from("typedef t0 { u8 a; };\n");
    for i in 1..=17 {
        let p = i - 1;
        blowup += &format!("typedef t{i} {{ vl_api_t{p}_t a; vl_api_t{p}_t b; }};\n");
    }
    blowup += "define big { u32 client_index; vl_api_t17_t t; };\n";
    let blowup_case = (
        "exponential type fold",
        blowup.as_str(),
        &[][..],
        "/inc/main.api",
        19,
        1,
        "nests too deeply or too often",
    );
    for (name, src, extra, file, line, column, fragment) in cases.iter().chain([&blowup_case]) {
        let err = match load(src, extra) {
            Ok(_) => panic!("{name}: parsed without error"),
            Err(e) => e,
        };
        assert_eq!(err.file, Path::new(file), "{name}: {err}");
        assert_eq!(
            err.location,
            Location::LineCol {
                line: *line,
                column: *column
            },
            "{name}: {err}"
        );
        assert!(
            err.message.contains(fragment),
            "{name}: message {:?} lacks {fragment:?}",
            err.message
        );
        // Display renders file:line:column: message.
        assert!(err
            .to_string()
            .starts_with(&format!("{file}:{line}:{column}: ")));
    }
}

#[test]
fn the_snippet_scaffold_itself_loads() {
    let api = load(OK_MSG, &[]).unwrap();
    let names: Vec<_> = api.file.messages.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["ok", "ok_reply"]);
}

#[test]
fn main_file_missing() {
    let e = Loader::new(vec![], MemSources::new())
        .load(Path::new("/nope.api"))
        .unwrap_err();
    assert_eq!(e.location, Location::File);
    assert!(e.to_string().contains("/nope.api: no such file"));
}
