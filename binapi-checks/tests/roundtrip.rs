//! Round-trip properties for every generated message (and so every type they contain) of every
//! release compiled in: a random instance (proptest picks the message and the seed) encodes to
//! exactly `encoded_len` bytes, decodes (owned and view) to the same value, and re-encodes to the
//! same bytes. Truncating it by any amount is an error, never a panic.

use binapi_checks::releases;
use proptest::prelude::*;
use vppapi_codec::SmallRng;

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_message_round_trips(pick in any::<usize>(), seed in any::<u64>(), cut in any::<usize>(), unknowns in any::<bool>()) {
        let rels = releases();
        let rel = &rels[pick % rels.len()];
        let e = &rel.entries[(pick / rels.len()) % rel.entries.len()];
        let mut rng = SmallRng::new(seed, unknowns);
        let (value, bytes) = (e.random)(&mut rng, 0x0042, [1, 2, 3, 4], 7).expect("encode");
        prop_assert!(bytes.len() >= e.fixed_size);
        let (_, back, used) = (e.decode)(&bytes).expect("decode");
        prop_assert_eq!(&back, &value, "{} {}", rel.name, e.name_crc);
        prop_assert_eq!(used, bytes.len());
        let (_, viewed, _) = (e.view)(&bytes).expect("view");
        prop_assert_eq!(&viewed, &value);
        let (again, _) = (e.reencode)(&bytes).expect("re-encode");
        prop_assert_eq!(&again, &bytes);
        if !bytes.is_empty() {
            let short = &bytes[..cut % bytes.len()];
            prop_assert!((e.decode)(short).is_err(), "{} decoded a truncated frame", e.name_crc);
            prop_assert!((e.view)(short).is_err());
        }
    }
}

#[test]
fn every_message_round_trips_with_several_seeds() {
    for rel in releases() {
        for e in &rel.entries {
            for seed in 0..8 {
                let mut rng = SmallRng::new(seed ^ u64::from(e.crc), seed % 2 == 0);
                let (value, bytes) = (e.random)(&mut rng, 1, [0; 4], 1).expect("encode");
                let (_, back, _) = (e.decode)(&bytes)
                    .unwrap_or_else(|err| panic!("{} {}: {err}", rel.name, e.name_crc));
                assert_eq!(back, value, "{} {}", rel.name, e.name_crc);
                let (again, _) = (e.reencode)(&bytes).expect("re-encode");
                assert_eq!(again, bytes, "{} {}", rel.name, e.name_crc);
            }
        }
    }
}
