//! Arbitrary bytes -> `.api.json` parser -> resolver (one-file tree: type table, layouts,
//! classification, CRC check with backwards_compatible inference). Must never panic.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.api.json");
    if let Ok(file) = api_json::json::parse_bytes(path, data) {
        if let Ok(api) = api_json::Api::from_files(vec![file]) {
            let _ = api.crc_report().all_ok();
        }
    }
});
