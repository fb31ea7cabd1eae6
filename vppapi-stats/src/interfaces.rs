//! Interface counters: the `/if/*` vectors indexed by `sw_if_index`, named by `/if/names`.

use crate::error::{Result, StatsError};
use crate::segment::{ColumnValue, StatsSegment};
use crate::value::{Combined, CombinedCounters, SimpleCounters, StatValue};

/// Simple interface counters (`src/vnet/interface.h`), without the `/if/` prefix.
pub const SIMPLE_INTERFACE_COUNTERS: [&str; 9] = [
    "drops",
    "punt",
    "ip4",
    "ip6",
    "rx-no-buf",
    "rx-miss",
    "rx-error",
    "tx-error",
    "mpls",
];

/// Combined interface counters, without the `/if/` prefix.
pub const COMBINED_INTERFACE_COUNTERS: [&str; 8] = [
    "rx",
    "rx-unicast",
    "rx-multicast",
    "rx-broadcast",
    "tx",
    "tx-unicast",
    "tx-multicast",
    "tx-broadcast",
];

/// The name vector of interface names.
pub const INTERFACE_NAMES: &str = "/if/names";

/// Every interface counter of the segment, per thread, from one consistent snapshot.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InterfaceCounters {
    /// `/if/names`, indexed by sw_if_index (`None` for unused slots).
    pub names: Vec<Option<String>>,
    /// The simple counters present, e.g. `("drops", counters)`.
    pub simple: Vec<(&'static str, SimpleCounters)>,
    /// The combined counters present, e.g. `("rx", counters)`.
    pub combined: Vec<(&'static str, CombinedCounters)>,
}

/// One interface's counters summed over threads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InterfaceStats {
    /// The interface index.
    pub sw_if_index: u32,
    /// Its name from `/if/names`, if any.
    pub name: Option<String>,
    /// Simple counters present in the segment, e.g. `("drops", 3)`.
    pub simple: Vec<(&'static str, u64)>,
    /// Combined counters present in the segment, e.g. `("rx", {packets, bytes})`.
    pub combined: Vec<(&'static str, Combined)>,
}

impl InterfaceStats {
    /// A simple counter by name (`"drops"`), 0 when the segment has no such vector.
    pub fn simple(&self, counter: &str) -> u64 {
        self.simple
            .iter()
            .find(|(n, _)| *n == counter)
            .map_or(0, |(_, v)| *v)
    }
    /// A combined counter by name (`"rx"`), zero when the segment has no such vector.
    pub fn combined(&self, counter: &str) -> Combined {
        self.combined
            .iter()
            .find(|(n, _)| *n == counter)
            .map_or(Combined::default(), |(_, v)| *v)
    }
    /// Received packets and bytes.
    pub fn rx(&self) -> Combined {
        self.combined("rx")
    }
    /// Transmitted packets and bytes.
    pub fn tx(&self) -> Combined {
        self.combined("tx")
    }
    /// Dropped packets.
    pub fn drops(&self) -> u64 {
        self.simple("drops")
    }
}

impl InterfaceCounters {
    /// Number of interface slots (the longest of names and counter vectors).
    pub fn len(&self) -> usize {
        let s = self.simple.iter().map(|(_, c)| c.n_objects());
        let c = self.combined.iter().map(|(_, c)| c.n_objects());
        s.chain(c).chain([self.names.len()]).max().unwrap_or(0)
    }
    /// True when there are no interfaces.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The sw_if_index of the interface named `name`.
    pub fn index_of(&self, name: &str) -> Option<u32> {
        self.names
            .iter()
            .position(|n| n.as_deref() == Some(name))
            .map(|i| i as u32)
    }
    /// The counters of one interface summed over threads (`None` beyond the vectors).
    pub fn get(&self, sw_if_index: u32) -> Option<InterfaceStats> {
        let i = sw_if_index as usize;
        if i >= self.len() {
            return None;
        }
        Some(InterfaceStats {
            sw_if_index,
            name: self.names.get(i).cloned().flatten(),
            simple: self.simple.iter().map(|(n, c)| (*n, c.sum(i))).collect(),
            combined: self.combined.iter().map(|(n, c)| (*n, c.sum(i))).collect(),
        })
    }
    /// Every interface slot summed over threads, by sw_if_index.
    pub fn iter(&self) -> impl Iterator<Item = InterfaceStats> + '_ {
        (0..self.len() as u32).filter_map(|i| self.get(i))
    }
}

fn vector_name(short: &str) -> String {
    format!("/if/{short}")
}

impl StatsSegment {
    /// All interface counters (every `/if/*` vector present, every thread) and `/if/names`, in
    /// one consistent snapshot.
    pub fn interface_counters(&self) -> Result<InterfaceCounters> {
        self.consistent(collect_interface_counters)
    }

    fn interface_at(
        &self,
        v: &mut crate::segment::View<'_, '_>,
        sw_if_index: u32,
        name: Option<String>,
    ) -> Result<InterfaceStats> {
        let mut st = InterfaceStats {
            sw_if_index,
            name,
            ..Default::default()
        };
        let mut found = false;
        for short in SIMPLE_INTERFACE_COUNTERS
            .iter()
            .chain(COMBINED_INTERFACE_COUNTERS.iter())
        {
            let Some(i) = v.find(&vector_name(short))? else {
                continue;
            };
            match v.ctx.counter_column(i, sw_if_index) {
                Ok(ColumnValue::Simple(per)) => {
                    found = true;
                    st.simple
                        .push((short, per.iter().fold(0u64, |a, b| a.wrapping_add(*b))));
                }
                Ok(ColumnValue::Combined(per)) => {
                    found = true;
                    st.combined.push((
                        short,
                        per.iter()
                            .fold(Combined::default(), |a, b| a.wrapping_add(*b)),
                    ));
                }
                // The interface is beyond this vector: it does not exist (yet).
                Err(StatsError::Corrupt { .. }) if !found => {
                    return Err(StatsError::NoSuchInterface(format!(
                        "sw_if_index {sw_if_index}"
                    )))
                }
                Err(e) => return Err(e),
            }
        }
        if !found && st.name.is_none() {
            // No counter vector and no name: nothing says this interface exists.
            return Err(StatsError::NoSuchInterface(format!(
                "sw_if_index {sw_if_index}"
            )));
        }
        Ok(st)
    }

    /// One interface's counters (summed over threads) by sw_if_index, reading only its column.
    pub fn interface(&self, sw_if_index: u32) -> Result<InterfaceStats> {
        self.consistent(|v| {
            let name = match v.find(INTERFACE_NAMES)? {
                Some(i) => v.ctx.name_at(i, sw_if_index)?,
                None => None,
            };
            self.interface_at(v, sw_if_index, name)
        })
    }

    /// One interface's counters (summed over threads) by name, via `/if/names`.
    pub fn interface_by_name(&self, name: &str) -> Result<InterfaceStats> {
        self.consistent(|v| {
            let i = v.lookup(INTERFACE_NAMES)?;
            let names = v.ctx.names_of(i)?;
            let idx = names
                .iter()
                .position(|n| n.as_deref() == Some(name))
                .ok_or_else(|| StatsError::NoSuchInterface(format!("{name:?}")))?;
            self.interface_at(v, idx as u32, Some(name.to_string()))
        })
    }
}

/// Reads every interface counter inside an attempt (shared with the Prometheus exporter).
pub(crate) fn collect_interface_counters(
    v: &mut crate::segment::View<'_, '_>,
) -> Result<InterfaceCounters> {
    let mut out = InterfaceCounters::default();
    if let Some(i) = v.find(INTERFACE_NAMES)? {
        out.names = v.ctx.names_of(i)?;
    }
    for short in SIMPLE_INTERFACE_COUNTERS {
        if let Some(i) = v.find(&vector_name(short))? {
            if let StatValue::Simple(c) = v.ctx.read_entry(i)?.value {
                out.simple.push((short, c));
            }
        }
    }
    for short in COMBINED_INTERFACE_COUNTERS {
        if let Some(i) = v.find(&vector_name(short))? {
            if let StatValue::Combined(c) = v.ctx.read_entry(i)?.value {
                out.combined.push((short, c));
            }
        }
    }
    Ok(out)
}
