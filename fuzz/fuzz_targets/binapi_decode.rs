//! Decode arbitrary bytes as any VPP 26.06 message of the generated bindings (the first two
//! bytes pick it from the registry, big-endian) through the owned decoder and the zero-copy view:
//! no panic, both accept or refuse the same input (a view checks lengths only, so invalid UTF-8
//! makes only the owned side fail), they agree on the value, and a decoded message re-encodes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vppapi_binapi::registry;

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let n = registry::messages().count();
    let i = usize::from(u16::from_be_bytes([data[0], data[1]])) % n;
    let e = registry::messages().nth(i).expect("index below count");
    let body = &data[2..];
    let owned = e.decode(body);
    let viewed = e.view(body);
    match (&owned, &viewed) {
        // Debug strings: an f64 may be NaN (NaN != NaN) and prints the same on both sides.
        (Ok(a), Ok(b)) => {
            assert_eq!(format!("{a:?}"), format!("{b:?}"), "{}", e.name_crc);
            assert!(a.2 <= body.len() && a.2 >= e.fixed_size);
            // Re-encoding must not panic; it may refuse (a fixed string without its NUL) or
            // normalise (bool bytes, padding), so its bytes are not compared here.
            let _ = e.reencode(body);
        }
        (Err(_), Err(_)) => {}
        (a, b) => panic!("{}: owned {a:?} vs view {b:?}", e.name_crc),
    }
});
