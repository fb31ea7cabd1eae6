//! `diff TREE_A TREE_B`: which messages were added, removed, or changed CRC between two trees.
//!
//! Messages are keyed by name; a name whose CRC differs is "changed". A tree that states one name
//! with two CRCs (two files disagreeing) lists each CRC, so nothing is hidden.

use std::collections::{BTreeMap, BTreeSet};

/// The difference between two API trees, sorted by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiDiff {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: Vec<Changed>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    pub name: String,
    pub old_crc: Vec<u32>,
    pub new_crc: Vec<u32>,
}

impl ApiDiff {
    /// Compares the `(name, crc)` pairs of two trees.
    pub fn between<'a>(
        old: impl IntoIterator<Item = (&'a str, u32)>,
        new: impl IntoIterator<Item = (&'a str, u32)>,
    ) -> ApiDiff {
        fn index<'a>(
            it: impl IntoIterator<Item = (&'a str, u32)>,
        ) -> BTreeMap<&'a str, BTreeSet<u32>> {
            let mut m: BTreeMap<&str, BTreeSet<u32>> = BTreeMap::new();
            for (name, crc) in it {
                m.entry(name).or_default().insert(crc);
            }
            m
        }
        let (old, new) = (index(old), index(new));
        let mut diff = ApiDiff::default();
        for (name, crcs) in &new {
            match old.get(name) {
                None => diff.added.push(name.to_string()),
                Some(old_crcs) if old_crcs != crcs => diff.changed.push(Changed {
                    name: name.to_string(),
                    old_crc: old_crcs.iter().copied().collect(),
                    new_crc: crcs.iter().copied().collect(),
                }),
                Some(_) => {}
            }
        }
        diff.removed = old
            .keys()
            .filter(|n| !new.contains_key(*n))
            .map(|n| n.to_string())
            .collect();
        diff
    }

    /// True when something was removed or changed (what `--check` fails on).
    pub fn is_breaking(&self) -> bool {
        !self.removed.is_empty() || !self.changed.is_empty()
    }

    /// `{"added": [...], "removed": [...], "changed": [{"name", "old_crc", "new_crc"}...]}`.
    /// CRCs are `0x%08x` strings; a name stated with several CRCs joins them with `,`.
    pub fn to_json(&self) -> serde_json::Value {
        let crcs = |v: &[u32]| {
            v.iter()
                .map(|c| format!("{c:#010x}"))
                .collect::<Vec<_>>()
                .join(",")
        };
        serde_json::json!({
            "added": self.added,
            "removed": self.removed,
            "changed": self.changed.iter().map(|c| serde_json::json!({
                "name": c.name,
                "old_crc": crcs(&c.old_crc),
                "new_crc": crcs(&c.new_crc),
            })).collect::<Vec<_>>(),
        })
    }

    /// Human-readable listing.
    pub fn to_text(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let crcs = |v: &[u32]| {
            v.iter()
                .map(|c| format!("{c:08x}"))
                .collect::<Vec<_>>()
                .join(",")
        };
        let _ = writeln!(
            out,
            "{} added, {} removed, {} changed",
            self.added.len(),
            self.removed.len(),
            self.changed.len()
        );
        for n in &self.added {
            let _ = writeln!(out, "+ {n}");
        }
        for n in &self.removed {
            let _ = writeln!(out, "- {n}");
        }
        for c in &self.changed {
            let _ = writeln!(
                out,
                "~ {} {} -> {}",
                c.name,
                crcs(&c.old_crc),
                crcs(&c.new_crc)
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn added_removed_changed() {
        let old = [("a", 1), ("b", 2), ("c", 3)];
        let new = [("a", 1), ("b", 5), ("d", 4)];
        let d = ApiDiff::between(old, new);
        assert_eq!(d.added, vec!["d"]);
        assert_eq!(d.removed, vec!["c"]);
        assert_eq!(
            d.changed,
            vec![Changed {
                name: "b".into(),
                old_crc: vec![2],
                new_crc: vec![5]
            }]
        );
        assert!(d.is_breaking());
        assert_eq!(
            d.to_json()["changed"][0]["new_crc"],
            serde_json::json!("0x00000005")
        );
        assert!(!ApiDiff::between([("a", 1)], [("a", 1), ("z", 9)]).is_breaking());
    }
}
