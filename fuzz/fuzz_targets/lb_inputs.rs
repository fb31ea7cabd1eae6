//! `evpn-tools lb`: any bytes as an `lb.yaml` (both validation stages) and as VPP's
//! `show lb vips verbose` / `show lb` text (the 26.06 read-back scrape). Each either succeeds or
//! returns an error naming the place; none panics or hangs.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(f) = evpn_tools::lb::config::parse_yaml(text) {
        let _ = f.validate();
    }
    let _ = evpn_tools::lb::read::parse_vips(text);
    let _ = evpn_tools::lb::read::parse_show_lb(text);
});
