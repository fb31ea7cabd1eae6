//! Decode arbitrary bytes as any hand-written VPP message (the first byte picks it) through the
//! owned decoder, the view and the message-header functions: no panic, and when both succeed
//! they agree and the value re-encodes to bytes that decode to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vppapi_runtime::codec::{decode_message, view_message, DecodeError, Wire};

#[path = "../../vppapi-runtime/tests/common/msgs.rs"]
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
                assert_eq!(M::view_to_owned(v).as_ref(), Ok(m));
                let again = m.encode_to_vec().expect("a decoded value re-encodes");
                assert_eq!(again.len(), m.encoded_len());
                assert_eq!(M::decode(&again).expect("decode again").0, *m);
            }
            // Views check lengths only; UTF-8 is checked when a string is read.
            (Err(DecodeError::InvalidUtf8 { .. }), Ok(_)) | (Err(_), Err(_)) => {}
            _ => panic!("{}: owned and view disagree", M::NAME),
        }
        if let (Ok((h1, m, n1)), Ok((h2, v, n2))) =
            (decode_message::<M>(self.0), view_message::<M>(self.0))
        {
            assert_eq!((h1, n1), (h2, n2));
            assert_eq!(M::view_to_owned(&v).as_ref(), Ok(&m));
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if let Some((&which, rest)) = data.split_first() {
        msgs::with_index(usize::from(which), &mut Decode(rest));
    }
});
