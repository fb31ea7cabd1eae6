//! Mutated stats segments (header, directory, vectors): the reader returns errors, never panics,
//! hangs or allocates without bound.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use vppapi_stats::prometheus::{render, PrometheusOptions};
use vppapi_stats::{ReadOptions, StatsSegment};

fuzz_target!(|data: &[u8]| {
    let Ok(seg) = StatsSegment::from_bytes(data) else {
        return;
    };
    // A static buffer never changes: a zero wait makes a set in_progress fail at once (Busy).
    let seg = seg.with_options(ReadOptions {
        busy_timeout: Duration::ZERO,
    });
    let _ = seg.header();
    if let Ok(names) = seg.ls(&[]) {
        for n in names.iter().take(64) {
            let _ = seg.read(n);
            if let Ok(mut h) = seg.prepare(n) {
                let _ = seg.read_handle(&mut h);
            }
        }
    }
    let _ = seg.dump(&["^/if/", "^/err/"]);
    let _ = seg.dump(&[]);
    for i in 0..8 {
        let _ = seg.read_index(i);
        let _ = seg.interface(i);
    }
    let _ = seg.interface_counters();
    let _ = seg.interface_by_name("pg0");
    let _ = render(&seg, &PrometheusOptions::default());
});
