//! `evpn-tools apply FILE`: any bytes as a YAML and as a TOML desired state. Parsing and
//! validation either succeed or return a bad-input error; they never panic or hang.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for name in ["f.yaml", "f.toml"] {
        if let Ok(f) = evpn_tools::apply::parse(text, Path::new(name)) {
            let _ = evpn_tools::apply::desired(&f);
        }
    }
});
