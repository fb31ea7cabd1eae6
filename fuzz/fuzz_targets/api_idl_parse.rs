//! Arbitrary bytes as a `.api` source: the parser, the semantic build (imports resolve against
//! one small in-memory file) and the JSON writer must never panic or hang.
#![no_main]

use std::path::{Path, PathBuf};

use api_json::idl::{self, Loader, MemSources};
use libfuzzer_sys::fuzz_target;

const TYPES: &str = "typedef u32 idx;\nenum e : u8 { A, B = 3, };\n\
typedef t { u32 n; u8 d[n]; };\nunion u { u32 a; u8 b[4]; };\n";

fuzz_target!(|data: &[u8]| {
    let src = String::from_utf8_lossy(data);
    let path = Path::new("/f/main.api");
    if idl::parse_str(path, &src).is_err() {
        return;
    }
    let mut m = MemSources::new();
    m.insert("/f/main.api", src.into_owned());
    m.insert("/f/t.api", TYPES);
    if let Ok(api) = Loader::new(vec![PathBuf::from("/f")], m).load(path) {
        let _ = api_json::json_out::to_string(&api.file);
    }
});
