//! The client's receive path over a segment whose queue elements and msgbuf headers/bodies are
//! chosen by the input (addresses inside, at the edges and outside the segment; garbage q,
//! data_len, gc; keepalive and heap shapes): no panic, no hang, no read outside the mapping
//! (every access is bounds-checked in vppapi-shm's sys module, which panics rather than reads
//! outside). The glibc lock words are never fuzzed, only contents.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = vppapi_shm::fuzzing::run_recv(data);
});
