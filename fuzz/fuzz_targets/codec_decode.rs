//! Decode arbitrary bytes as any hand-written VPP message (the first byte picks it) through the
//! owned decoder, the view and the message-header functions: no panic, and when both succeed
//! they agree and the value re-encodes to bytes that decode to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vppapi_runtime::codec::{decode_message, view_message, DecodeError, EncodeError};

#[path = "../../vppapi-codec/tests/common/msgs.rs"]
mod msgs;

struct Decode<'a>(&'a [u8]);

impl msgs::Visitor for Decode<'_> {
    fn visit<M: msgs::TestMessage>(&mut self) {
        let owned = M::decode(self.0);
        let view = M::view(self.0);
        match (&owned, &view) {
            (Ok((m, n)), Ok((v, vn))) => {
                assert_eq!(n, vn);
                assert!(*n <= self.0.len());
                // Compare re-encodings, not values: an f64 may be NaN (NaN != NaN).
                let again = match m.encode_to_vec() {
                    Ok(b) => b,
                    // A fixed string that filled all N bytes without a NUL decodes (lenient
                    // receive) but is refused on encode (VPP needs the NUL): the one asymmetry.
                    Err(EncodeError::StringTooLong { len, size, .. }) if len == size => return,
                    Err(e) => panic!("{}: a decoded value does not re-encode: {e}", M::NAME),
                };
                assert_eq!(again.len(), m.encoded_len());
                let from_view = M::view_to_owned(v).expect("view to owned");
                assert_eq!(from_view.encode_to_vec().as_ref(), Ok(&again));
                let decoded_again = M::decode(&again).expect("decode again").0;
                assert_eq!(decoded_again.encode_to_vec().as_ref(), Ok(&again));
            }
            // Views check lengths only; UTF-8 is checked when a string is read.
            (Err(DecodeError::InvalidUtf8 { .. }), Ok(_)) | (Err(_), Err(_)) => {}
            _ => panic!("{}: owned and view disagree", M::NAME),
        }
        if let (Ok((h1, m, n1)), Ok((h2, v, n2))) =
            (decode_message::<M>(self.0), view_message::<M>(self.0))
        {
            assert_eq!((h1, n1), (h2, n2));
            let owned = M::view_to_owned(&v).expect("view to owned");
            assert_eq!(owned.encode_to_vec(), m.encode_to_vec());
            assert!(n1 <= self.0.len());
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if let Some((&which, rest)) = data.split_first() {
        msgs::with_index(usize::from(which), &mut Decode(rest));
    }
});
