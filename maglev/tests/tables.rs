//! Table tests: the vectors and counts of operator-tools.md §4.3/§4.4, invariants, and the fast
//! fill against the literal port of VPP's loop.

use std::net::IpAddr;

use maglev::{
    balance, c_loop, clib_xxhash, disruption, ip46_key, is_prime, paper_offset_skip, paper_table,
    vpp_skip_offset, vpp_table, Backend, BackendId, MaglevError, Variant, MAX_TABLE_LEN,
};
use proptest::prelude::*;

fn addr(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn v6(n: u32) -> Backend {
    Backend::new(addr(&format!("2001:db8:1::{n:x}")), 1)
}

fn three() -> Vec<Backend> {
    (1..=3).map(v6).collect()
}

#[test]
fn doc_hash_vectors() {
    assert_eq!(clib_xxhash(0), 0x6f06f901bfa27892);
    let cases = [
        (
            "2001:db8:1::1",
            0x01000100b80d0120,
            0xf76e0a0f2d6c5bb3,
            (947, 527),
        ),
        (
            "2001:db8:1::2",
            0x02000100b80d0120,
            0xe6662bfe6ab6e892,
            (147, 1022),
        ),
        (
            "2001:db8:1::3",
            0x03000100b80d0120,
            0x450fd874f02e4ed6,
            (727, 116),
        ),
        (
            "192.0.2.10",
            0x0a0200c000000000,
            0xb9de59f62e5b6f25,
            (805, 502),
        ),
    ];
    for (a, key, hash, skip_offset) in cases {
        assert_eq!(ip46_key(addr(a)), key, "{a}");
        assert_eq!(clib_xxhash(key), hash, "{a}");
        assert_eq!(vpp_skip_offset(addr(a), 0, 1024), skip_offset, "{a}");
    }
}

#[test]
fn three_ases_counts_and_first_slots() {
    let t = vpp_table(&three(), 1024, Variant::Vpp2606).unwrap();
    assert_eq!(t.len(), 1024);
    assert_eq!(t.buckets_per_backend(), vec![342, 341, 341]);
    assert_eq!(
        &t.slots[..16],
        &[1, 3, 1, 2, 2, 1, 3, 3, 2, 1, 3, 1, 3, 2, 2, 3]
    );
    assert_eq!(t.empty_slots(), 0);
    assert_eq!(
        t.backend_at(1),
        Some(&BackendId::Addr(addr("2001:db8:1::3")))
    );
    assert_eq!(
        t,
        c_loop::new_flow_table(&three(), 1024, Variant::Vpp2606).unwrap()
    );
}

#[test]
fn third_as_removed() {
    let before = vpp_table(&three(), 1024, Variant::Vpp2606).unwrap();
    let after = vpp_table(&three()[..2], 1024, Variant::Vpp2606).unwrap();
    assert_eq!(after.buckets_per_backend(), vec![512, 512]);
    // Every slot of ::3 moves; the rest may move too, but not all.
    let d = disruption(&before, &after);
    assert!((341.0 / 1024.0..1.0).contains(&d), "{d}");
    assert_eq!(disruption(&before, &before), 0.0);
}

#[test]
fn weighted_counts() {
    let mut b: Vec<Backend> = (1..=4).map(v6).collect();
    for (x, w) in b.iter_mut().zip([100, 100, 100, 50]) {
        x.weight = w;
    }
    let t = vpp_table(&b, 1024, Variant::VppWeighted).unwrap();
    assert_eq!(t.buckets_per_backend(), vec![292, 291, 291, 150]);
    assert_eq!(t.entries, vec![100, 100, 100, 50]);
    assert_eq!(
        t,
        c_loop::new_flow_table(&b, 1024, Variant::VppWeighted).unwrap()
    );
    // Normalised per weight, the heaviest load is ::4's 150/50 against 1024/350 on average.
    assert!((balance(&t) - 3.0 / (1024.0 / 350.0)).abs() < 1e-12);

    // Weight 0: out of the table (26.06 ignores weights).
    b[3].weight = 0;
    let t = vpp_table(&b, 1024, Variant::VppWeighted).unwrap();
    assert_eq!(t.buckets_per_backend()[3], 0);
    let t = vpp_table(&b, 1024, Variant::Vpp2606).unwrap();
    assert_eq!(t.buckets_per_backend(), vec![256; 4]);
}

#[test]
fn weighted_with_unit_weights_is_vpp2606() {
    let b: Vec<Backend> = (1..=50).map(v6).collect();
    assert_eq!(
        vpp_table(&b, 4096, Variant::VppWeighted).unwrap(),
        vpp_table(&b, 4096, Variant::Vpp2606).unwrap()
    );
}

#[test]
fn vpp2606_independent_of_input_order() {
    let b: Vec<Backend> = (1..=40)
        .map(|i| {
            if i % 3 == 0 {
                Backend::new(addr(&format!("10.0.{}.{}", i / 7, i)), 1)
            } else {
                v6(i * 37)
            }
        })
        .collect();
    let mut rev = b.clone();
    rev.reverse();
    rev.swap(3, 17);
    let t1 = vpp_table(&b, 2048, Variant::Vpp2606).unwrap();
    let t2 = vpp_table(&rev, 2048, Variant::Vpp2606).unwrap();
    assert_ne!(t1.slots, t2.slots, "numbering follows the input order");
    let ids = |t: &maglev::Table| {
        (0..t.len())
            .map(|i| t.backend_at(i).cloned())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&t1), ids(&t2));
    assert_eq!(disruption(&t1, &t2), 0.0);
}

#[test]
fn table_length_checks() {
    for m in [0usize, 3, 1000, 1023, 65537] {
        assert_eq!(
            vpp_table(&three(), m, Variant::Vpp2606),
            Err(MaglevError::NotPowerOfTwo(m))
        );
    }
    assert_eq!(
        vpp_table(&three(), MAX_TABLE_LEN * 2, Variant::Vpp2606),
        Err(MaglevError::TooLarge(MAX_TABLE_LEN * 2))
    );
    assert_eq!(
        c_loop::new_flow_table(&three(), 1000, Variant::Vpp2606),
        Err(MaglevError::NotPowerOfTwo(1000))
    );
    for m in [1usize, 2, 4, 1 << 20] {
        let t = vpp_table(&three(), m, Variant::Vpp2606).unwrap();
        assert_eq!(t.len(), m);
        assert_eq!(t.empty_slots(), 0);
    }
    assert_eq!(
        paper_table(&["a"], 65536),
        Err(MaglevError::NotPrime(65536))
    );
    assert_eq!(paper_table(&["a"], 1), Err(MaglevError::NotPrime(1)));
    assert_eq!(paper_table(&["a"], 0), Err(MaglevError::NotPrime(0)));
    assert!(MaglevError::NotPowerOfTwo(3)
        .to_string()
        .contains("power of two"));
}

#[test]
fn duplicates_rejected() {
    let b = vec![v6(1), v6(2), v6(1)];
    assert_eq!(
        vpp_table(&b, 1024, Variant::Vpp2606),
        Err(MaglevError::DuplicateAddress(addr("2001:db8:1::1")))
    );
    assert_eq!(
        paper_table(&["x", "y", "x"], 13),
        Err(MaglevError::DuplicateName("x".into()))
    );
    let mut heavy = three();
    heavy[0].weight = u32::MAX;
    assert!(matches!(
        vpp_table(&heavy, 1024, Variant::VppWeighted),
        Err(MaglevError::TooManyEntries(_))
    ));
}

#[test]
fn no_backend_all_zero() {
    let t = vpp_table(&[], 1024, Variant::Vpp2606).unwrap();
    assert!(t.slots.iter().all(|&s| s == 0));
    assert_eq!(t.empty_slots(), 1024);
    assert_eq!(balance(&t), 0.0);
    let mut b = three();
    for x in &mut b {
        x.weight = 0;
    }
    let t = vpp_table(&b, 64, Variant::VppWeighted).unwrap();
    assert_eq!(t.slots, vec![0; 64]);
    assert_eq!(t.buckets_per_backend(), vec![0, 0, 0]);
    assert_eq!(
        t,
        c_loop::new_flow_table(&b, 64, Variant::VppWeighted).unwrap()
    );
    assert_eq!(paper_table(&[], 13).unwrap().slots, vec![0; 13]);
}

#[test]
fn primes() {
    assert!(is_prime(65537) && is_prime(655373) && is_prime(2));
    assert!(!is_prime(0) && !is_prime(1) && !is_prime(65536) && !is_prime(561));
}

#[test]
fn paper_offset_skip_ranges() {
    for m in [2usize, 3, 13, 65537] {
        for name in ["a", "backend-7", ""] {
            let (offset, skip) = paper_offset_skip(name, m);
            assert!((offset as usize) < m);
            assert!((1..m).contains(&(skip as usize)));
        }
    }
}

#[test]
fn paper_65537_100_backends() {
    let names: Vec<String> = (0..100).map(|i| format!("backend-{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let t = paper_table(&refs, 65537).unwrap();
    assert_eq!(t.empty_slots(), 0);
    let counts = t.buckets_per_backend();
    assert_eq!(counts.iter().sum::<usize>(), 65537);
    // Round-robin fill: every backend gets floor(M/N) or one more.
    assert!(counts.iter().all(|&c| c == 655 || c == 656), "{counts:?}");
    let b = balance(&t);
    assert!((1.0..=1.01).contains(&b), "{b}");

    let mut fewer = refs.clone();
    fewer.remove(42);
    let t2 = paper_table(&fewer, 65537).unwrap();
    let d = disruption(&t, &t2);
    // The removed backend's ~1 % must move; Maglev moves more, but well under 3/N.
    assert!((655.0 / 65537.0..0.03).contains(&d), "{d}");
    eprintln!(
        "paper M=65537 N=100, one removed: {:.2} % of slots changed",
        d * 100.0
    );
}

/// The paper's pseudo-code (Eisenbud et al., §3.4, "Pseudocode 1"), written independently of
/// the crate's fill: permutation entries computed as `(offset + j * skip) mod M`.
fn paper_reference(names: &[&str], m: usize) -> Vec<u32> {
    let params: Vec<(u64, u64)> = names
        .iter()
        .map(|n| {
            let (o, s) = paper_offset_skip(n, m);
            (u64::from(o), u64::from(s))
        })
        .collect();
    let mut next = vec![0u64; names.len()];
    let mut entry = vec![0u32; m];
    if names.is_empty() {
        return entry;
    }
    let mut n = 0;
    loop {
        for i in 0..names.len() {
            let (offset, skip) = params[i];
            let mut c = (offset + next[i] * skip) % m as u64;
            while entry[c as usize] != 0 {
                next[i] += 1;
                c = (offset + next[i] * skip) % m as u64;
            }
            entry[c as usize] = i as u32 + 1;
            next[i] += 1;
            n += 1;
            if n == m {
                return entry;
            }
        }
    }
}

fn backends_strategy() -> impl Strategy<Value = Vec<Backend>> {
    prop::collection::btree_set(any::<u128>(), 0..24).prop_flat_map(|addrs| {
        let n = addrs.len();
        (
            Just(addrs),
            prop::collection::vec(any::<bool>(), n),
            prop::collection::vec(0u32..6, n),
        )
            .prop_map(|(addrs, v4, weights)| {
                addrs
                    .into_iter()
                    .zip(v4)
                    .zip(weights)
                    .map(|((a, v4), w)| {
                        let ip: IpAddr = if v4 {
                            std::net::Ipv4Addr::from(a as u32).into()
                        } else {
                            std::net::Ipv6Addr::from(a).into()
                        };
                        Backend::new(ip, w)
                    })
                    .collect::<Vec<_>>()
            })
            .prop_filter("unique ip46", |b: &Vec<Backend>| {
                vpp_table(b, 1, Variant::Vpp2606).is_ok()
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn fast_fill_equals_c_loop(
        b in backends_strategy(),
        log2 in 0u32..15,
        weighted in any::<bool>(),
    ) {
        let variant = if weighted { Variant::VppWeighted } else { Variant::Vpp2606 };
        let m = 1usize << log2;
        let fast = vpp_table(&b, m, variant).unwrap();
        let slow = c_loop::new_flow_table(&b, m, variant).unwrap();
        prop_assert_eq!(&fast, &slow);
        let live = fast.entries.iter().any(|&e| e > 0);
        prop_assert_eq!(fast.empty_slots(), if live { 0 } else { m });
    }

    #[test]
    fn paper_fill_equals_pseudocode(n in 0usize..40, m_index in 0usize..8) {
        let m = [2usize, 3, 13, 97, 251, 1031, 4099, 65537][m_index];
        let names: Vec<String> = (0..n).map(|i| format!("be{i}")).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        prop_assert_eq!(paper_table(&refs, m).unwrap().slots, paper_reference(&refs, m));
    }
}
