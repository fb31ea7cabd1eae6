//! The socket transport's frame reader: arbitrary bytes, delivered in arbitrary pieces (the
//! first bytes of the input choose the piece sizes), through `FrameBuf`: no panic, no
//! allocation beyond the limit, and every frame returned lies within the limit and carries a
//! message id; an error ends the stream. Also the batch walker and the client-index patch.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vppapi_runtime::transport::{frames, patch_client_index, FrameBuf, HEADER_LEN};

const MAX_BODY: usize = 1 << 16;

fuzz_target!(|data: &[u8]| {
    let Some((&cuts, rest)) = data.split_first() else {
        return;
    };
    let piece = 1 + cuts as usize % 64;
    let mut fb = FrameBuf::new(MAX_BODY);
    let mut total = 0usize;
    'feed: for chunk in rest.chunks(piece) {
        fb.extend_from_slice(chunk);
        loop {
            match fb.next_frame() {
                Ok(Some(f)) => {
                    assert!(f.len() >= 2 && f.len() <= MAX_BODY);
                    total += HEADER_LEN + f.len();
                    assert!(total <= rest.len());
                }
                Ok(None) => break,
                Err(_) => break 'feed,
            }
        }
    }
    let _ = fb.eof_error();

    // The batch walker never reads past the end; patching keeps the length.
    let mut batch = rest.to_vec();
    for (start, len) in frames(&batch) {
        assert!(start + len <= batch.len() && len >= HEADER_LEN);
    }
    let before = batch.len();
    patch_client_index(&mut batch, [0, 0, 0, 0], [0x80, 0, 0, 1]);
    assert_eq!(batch.len(), before);
});
