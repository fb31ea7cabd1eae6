//! Natural key order ([`key_cmp`]).

use std::cmp::Ordering;
use std::net::{Ipv4Addr, Ipv6Addr};

/// One key segment, classified for comparison. The variant order is the order between kinds
/// (integers, then IPv4, then IPv6, then other text), which keeps the order total when a segment
/// of one kind meets a segment of another kind.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Seg<'a> {
    Int(u128, &'a str),
    V4(u32, &'a str),
    V6(u128, &'a str),
    Text(&'a str),
}

impl<'a> Seg<'a> {
    pub(crate) fn classify(s: &'a str) -> Self {
        let first = s.as_bytes().first().copied();
        if s.bytes().all(|b| b.is_ascii_digit()) {
            if let Ok(n) = s.parse::<u128>() {
                return Seg::Int(n, s);
            }
        }
        // Cheap pre-checks before the (comparatively costly) address parsers.
        if first.is_some_and(|b| b.is_ascii_digit()) && s.contains('.') {
            if let Ok(a) = s.parse::<Ipv4Addr>() {
                return Seg::V4(u32::from(a), s);
            }
        }
        if s.contains(':') {
            if let Ok(a) = s.parse::<Ipv6Addr>() {
                return Seg::V6(u128::from(a), s);
            }
        }
        Seg::Text(s)
    }
}

/// Precomputed comparison key of a whole key (used to sort many keys once).
pub(crate) fn sort_key(key: &str) -> Vec<Seg<'_>> {
    key.split('/').map(Seg::classify).collect()
}

/// Natural key order used for every tie in a plan.
///
/// Keys are split on `'/'` and compared segment by segment:
/// - two segments that both parse as IP addresses compare numerically, IPv4 before IPv6;
/// - two unsigned integers compare numerically (`bd/2` before `bd/10`);
/// - anything else compares bytewise.
///
/// Equal numbers written differently (`01` and `1`, `::1` and `0::1`) then compare bytewise, and
/// segments of different kinds compare by kind (integers, IPv4, IPv6, other text), so the order
/// is total and consistent with string equality (a sort never sees two different keys as equal).
/// A key that is a prefix (in segments) of another comes first.
pub fn key_cmp(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let mut x = a.split('/');
    let mut y = b.split('/');
    loop {
        match (x.next(), y.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(s), Some(t)) => {
                if s == t {
                    continue;
                }
                let o = Seg::classify(s).cmp(&Seg::classify(t));
                if o != Ordering::Equal {
                    return o;
                }
            }
        }
    }
}

/// Whether `key` lies inside the scope prefix `prefix`, segment-aware: `bd/1` covers `bd/1` and
/// `bd/1/member/x` but not `bd/10`; a prefix ending in `/` (or the empty prefix) covers every key
/// that starts with it.
pub fn in_scope(prefix: &str, key: &str) -> bool {
    if prefix.is_empty() || prefix.ends_with('/') {
        return key.starts_with(prefix);
    }
    key.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(mut v: Vec<&str>) -> Vec<&str> {
        v.sort_by(|a, b| key_cmp(a, b));
        v
    }

    #[test]
    fn numbers_compare_numerically() {
        assert_eq!(
            sorted(vec!["bd/10", "bd/2", "bd/1", "bd/1/member/x"]),
            vec!["bd/1", "bd/1/member/x", "bd/2", "bd/10"]
        );
    }

    #[test]
    fn addresses_compare_numerically_v4_first() {
        assert_eq!(
            sorted(vec![
                "a/10.0.0.10/24",
                "a/2001:db8::1/64",
                "a/10.0.0.9/32",
                "a/10.0.0.9/24",
                "a/::1/128",
            ]),
            vec![
                "a/10.0.0.9/24",
                "a/10.0.0.9/32",
                "a/10.0.0.10/24",
                "a/::1/128",
                "a/2001:db8::1/64",
            ]
        );
    }

    #[test]
    fn text_bytewise_and_prefix_first() {
        assert_eq!(
            key_cmp("interface/loop1", "interface/loop10"),
            Ordering::Less
        );
        assert_eq!(
            key_cmp("interface/loop2", "interface/loop10"),
            Ordering::Greater
        );
        assert_eq!(key_cmp("a", "a/b"), Ordering::Less);
        assert_eq!(key_cmp("a/b", "a"), Ordering::Greater);
        assert_eq!(key_cmp("x/y", "x/y"), Ordering::Equal);
    }

    #[test]
    fn order_is_total_and_consistent_with_equality() {
        let keys = [
            "9", "10", "10.0.0.1", "01", "1", "::1", "0::1", "abc", "-x", "", "a/", "a",
        ];
        for a in keys {
            for b in keys {
                let o = key_cmp(a, b);
                assert_eq!(o == Ordering::Equal, a == b, "{a:?} vs {b:?}");
                assert_eq!(o, key_cmp(b, a).reverse());
                for c in keys {
                    if o == Ordering::Less && key_cmp(b, c) == Ordering::Less {
                        assert_eq!(key_cmp(a, c), Ordering::Less, "{a:?} < {b:?} < {c:?}");
                    }
                }
            }
        }
        let mut by_sort_key: Vec<&str> = keys.to_vec();
        by_sort_key.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
        assert_eq!(by_sort_key, sorted(keys.to_vec()));
    }

    #[test]
    fn scope_is_segment_aware() {
        assert!(in_scope("bd/1", "bd/1"));
        assert!(in_scope("bd/1", "bd/1/member/if1"));
        assert!(!in_scope("bd/1", "bd/10"));
        assert!(in_scope("bd/", "bd/10"));
        assert!(in_scope("", "anything"));
        assert!(!in_scope("lb", "lbx/1"));
    }
}
