//! A literal transliteration of VPP's `lb_vip_update_new_flow_table()` fill loop.
//!
//! This is the reference the fast [`vpp_table`](crate::vpp_table) is tested against and the
//! baseline of the benchmark; use [`vpp_table`](crate::vpp_table) otherwise. It keeps VPP's
//! structure: an AS pool whose entry 0 is the "no server" placeholder, a sort array of
//! `(as_index, replica, last, skip)` sorted by a comparator that looks the addresses up in the
//! pool and compares them byte-wise, permutations walked on the fly, and a `done` counter that
//! ends the fill after M placements. Only the data structures are Rust's.

use crate::{check_backends, check_pow2, clib_xxhash, ip46, BackendId, Table};
use crate::{Backend, MaglevError, Variant};

/// One AS of the pool: its ip46 address.
struct As {
    address: [u8; 16],
}

/// The per-entry walk state (VPP's `lb_pseudorand_t`).
#[derive(Clone, Copy)]
struct PseudoRand {
    as_index: u32,
    replica: u32,
    last: u32,
    skip: u32,
}

/// One slot of the new-flow table (VPP's `lb_new_flow_entry_t`).
#[derive(Clone, Copy)]
struct NewFlowEntry {
    as_index: u32,
}

/// Builds the same table as [`vpp_table`](crate::vpp_table), the way VPP's C code does.
///
/// Same arguments, validation and result; slot value `i + 1` is `backends[i]`.
pub fn new_flow_table(
    backends: &[Backend],
    m: usize,
    variant: Variant,
) -> Result<Table, MaglevError> {
    check_pow2(m)?;
    let entries = check_backends(backends, variant)?;
    let weighted = variant == Variant::VppWeighted;

    // The AS pool: index 0 is the placeholder, i + 1 is backends[i].
    let mut ass = vec![As { address: [0; 16] }];
    ass.extend(backends.iter().map(|b| As {
        address: ip46(b.addr),
    }));
    let mask = (m - 1) as u32;

    let live = backends.iter().any(|b| !weighted || b.weight > 0);
    let mut new_flow_table = vec![NewFlowEntry { as_index: 0 }; m];
    if live {
        let mut sort_arr: Vec<PseudoRand> = Vec::new();
        for (i, b) in backends.iter().enumerate() {
            let replicas = if weighted { b.weight } else { 1 };
            for r in 0..replicas {
                sort_arr.push(PseudoRand {
                    as_index: i as u32 + 1,
                    replica: r,
                    last: 0,
                    skip: 0,
                });
            }
        }
        sort_arr.sort_by(|a, b| {
            let asa = &ass[a.as_index as usize];
            let asb = &ass[b.as_index as usize];
            if weighted && a.replica != b.replica {
                return a.replica.cmp(&b.replica);
            }
            asa.address.cmp(&asb.address)
        });

        for pr in sort_arr.iter_mut() {
            let a = &ass[pr.as_index as usize].address;
            let w0 = u64::from_le_bytes(a[..8].try_into().expect("8 bytes"));
            let w1 = u64::from_le_bytes(a[8..].try_into().expect("8 bytes"));
            let seed = if weighted {
                clib_xxhash(w0 ^ w1 ^ u64::from(pr.replica))
            } else {
                clib_xxhash(w0 ^ w1)
            };
            pr.skip = (((seed & 0xffff_ffff) | 1) as u32) & mask;
            pr.last = ((seed >> 32) as u32) & mask;
        }

        let mut done = 0usize;
        'finished: loop {
            for pr in sort_arr.iter_mut() {
                loop {
                    let last = pr.last;
                    pr.last = (pr.last + pr.skip) & mask;
                    if new_flow_table[last as usize].as_index == 0 {
                        new_flow_table[last as usize].as_index = pr.as_index;
                        break;
                    }
                }
                done += 1;
                if done == new_flow_table.len() {
                    break 'finished;
                }
            }
        }
    }

    Ok(Table {
        slots: new_flow_table.iter().map(|e| e.as_index).collect(),
        ids: backends.iter().map(|b| BackendId::Addr(b.addr)).collect(),
        entries,
    })
}
