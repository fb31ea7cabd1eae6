//! Desired or actual state: key -> entry.

use std::collections::BTreeMap;

/// One value of a [`State`].
#[derive(Debug, Clone, PartialEq)]
pub struct Entry<V> {
    /// The value.
    pub value: V,
    /// Whether this tool created the value (meaningful for actual state; desired entries are
    /// owned).
    pub owned: bool,
}

/// Desired or actual state: key -> entry. BTreeMap-backed, iteration in (bytewise) key order.
#[derive(Debug, Clone, PartialEq)]
pub struct State<V> {
    entries: BTreeMap<String, Entry<V>>,
}

impl<V> Default for State<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V> State<V> {
    /// An empty state.
    pub fn new() -> Self {
        State {
            entries: BTreeMap::new(),
        }
    }

    /// Inserts (or replaces) an owned value.
    pub fn insert(&mut self, key: impl Into<String>, value: V) {
        self.insert_entry(key, value, true);
    }

    /// Inserts (or replaces) a value with explicit ownership.
    pub fn insert_entry(&mut self, key: impl Into<String>, value: V, owned: bool) {
        self.entries.insert(key.into(), Entry { value, owned });
    }

    /// The entry of `key`.
    pub fn get(&self, key: &str) -> Option<&Entry<V>> {
        self.entries.get(key)
    }

    /// Removes and returns the entry of `key`.
    pub fn remove(&mut self, key: &str) -> Option<Entry<V>> {
        self.entries.remove(key)
    }

    /// Whether `key` is present.
    pub fn contains(&self, key: &str) -> bool {
        self.entries.contains_key(key)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries in (bytewise) key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Entry<V>)> {
        self.entries.iter().map(|(k, e)| (k.as_str(), e))
    }

    /// Keys in (bytewise) key order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }
}

impl<V, K: Into<String>> FromIterator<(K, V)> for State<V> {
    /// Collects owned values.
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut s = State::new();
        for (k, v) in iter {
            s.insert(k, v);
        }
        s
    }
}
