//! Arbitrary bytes -> `.api.json` parser -> resolver -> CRC check -> file versions. Must never
//! panic. A NUL byte splits the input into up to three files (`a`, `b`, `c`), so cross-file
//! resolution (duplicate types and messages, conflicts, imports) is exercised too; a plain JSON
//! seed is a one-file tree.
#![no_main]

use std::path::PathBuf;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut files = Vec::new();
    for (i, part) in data.splitn(3, |&b| b == 0).enumerate() {
        let path = PathBuf::from(format!("{}.api.json", ["a", "b", "c"][i]));
        match api_json::json::parse_bytes(&path, part) {
            Ok(f) => files.push(f),
            Err(e) => {
                let _ = e.to_string();
                return;
            }
        }
    }
    match api_json::Api::from_files(files) {
        Ok(api) => {
            let _ = api.crc_report().all_ok();
            let _ = api.file_versions_with_budget(200);
            for m in api.messages() {
                let _ = api.services_of(&m.msg.name);
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
