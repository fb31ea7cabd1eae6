//! Hostile but well-formed trees stay cheap: bounded work, errors instead of hangs.

use std::path::Path;
use std::time::Instant;

use api_json::{json, Api};

/// Types t0..tN where t(k) holds two t(k-1): folding tN visits 2^(N+1) types.
fn exponential_tree(depth: usize, messages: usize) -> String {
    let mut types = vec![r#"["t0", ["u8", "x"]]"#.to_string()];
    for k in 1..=depth {
        types.push(format!(
            r#"["t{k}", ["vl_api_t{p}_t", "a"], ["vl_api_t{p}_t", "b"]]"#,
            p = k - 1
        ));
    }
    let msgs: Vec<String> = (0..messages)
        .map(|i| {
            format!(
                r#"["m{i}", ["u16", "_vl_msg_id"], ["u32", "context"], ["vl_api_t{depth}_t", "v"], {{"crc": "0x00000000", "options": {{}}}}]"#
            )
        })
        .collect();
    format!(
        r#"{{"types": [{}], "messages": [{}], "vl_api_version": "0x0"}}"#,
        types.join(", "),
        msgs.join(", ")
    )
}

#[test]
fn exponential_folds_are_bounded() {
    let text = exponential_tree(24, 3000);
    let t = Instant::now();
    let file = json::parse_str(Path::new("exp.api.json"), &text).unwrap();
    let api = Api::from_files(vec![file]).unwrap();
    let rep = api.crc_report();
    assert_eq!(rep.messages.len(), 3000);
    assert_eq!(rep.ok_count(), 0);
    // Each fold stops at the per-message bound; after the tree-wide budget the rest are not
    // even attempted.
    assert!(rep.messages[0].computed.is_err());
    let last = rep.messages.last().unwrap().computed.as_ref().unwrap_err();
    assert!(last.contains("budget"), "{last}");
    // Layouts are computed per type once: t24 is 2^24 bytes.
    assert_eq!(api.message("m0").unwrap().layout.fixed_size, 6 + (1 << 24));
    eprintln!("loaded in {:?}", t.elapsed());
    // File versions of this file: nothing to derive against a zero version, but bounded.
    let v = api.file_versions_with_budget(1000);
    assert!(!v[0].verified());
}

#[test]
fn many_objects_in_one_file_do_not_exhaust_the_stack() {
    // 3000 enums and 3000 messages, each message failing its CRC: the inference and the order
    // search stay bounded (the search refuses files of more than MAX_SEARCH_OBJECTS objects).
    let enums: Vec<String> = (0..3000)
        .map(|i| format!(r#"["e{i}", ["A", 0], {{"enumtype": "u8"}}]"#))
        .collect();
    let msgs: Vec<String> = (0..3000)
        .map(|i| {
            format!(
                r#"["m{i}", ["u16", "_vl_msg_id"], ["vl_api_e{i}_t", "e"], {{"crc": "0x00000000", "options": {{}}}}]"#
            )
        })
        .collect();
    let text = format!(
        r#"{{"enums": [{}], "messages": [{}], "vl_api_version": "0x0"}}"#,
        enums.join(", "),
        msgs.join(", ")
    );
    let t = Instant::now();
    let file = json::parse_str(Path::new("big.api.json"), &text).unwrap();
    eprintln!("parse {:?}", t.elapsed());
    let api = Api::from_files(vec![file]).unwrap();
    eprintln!("resolve {:?}", t.elapsed());
    let v = api.file_versions_with_budget(100);
    eprintln!("versions {:?}", t.elapsed());
    assert!(!v[0].verified());
    // No imports: the runtime version is the stated one by definition, but not reproduced.
    assert_eq!(
        v[0].status,
        api_json::version::VersionStatus::NoImportsNotReproduced { tried: 0 }
    );
    assert_eq!(api.crc_report().ok_count(), 0);
}
