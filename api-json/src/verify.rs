//! CRC verification of a whole tree, with inference of `[backwards_compatible]` enum members.
//!
//! Every message CRC is recomputed with [`crate::crc::message_crc`] and compared with the
//! file's `crc`. JSON does not mark `[backwards_compatible]` enum members, which vppapigen leaves
//! out of the enum's CRC bytes (wire doc 3.5), so the messages folding such an enum mismatch.
//! The marking is inferred from the data:
//!
//! 1. Enums folded by any message whose CRC matches are known to be complete ("clean").
//! 2. For a mismatching message, the candidate enums are the enums it folds minus the clean ones.
//! 3. Starting with the message with the fewest unsolved candidates (at most
//!    [`MAX_JOINT_ENUMS`]), all mismatching messages whose unsolved candidates lie within that
//!    set are the test set; exclusion sets are tried per enum in this order: none, suffixes
//!    (last 1, 2, ... [`MAX_SUFFIX`] members), then subsets of 1, 2, 3 members (at most
//!    [`MAX_CANDIDATES_PER_ENUM`] per enum); combinations of several enums are tried by
//!    increasing total rank, at most [`MAX_EVALUATIONS`] per test set and
//!    [`MAX_TOTAL_EVALUATIONS`] per tree (hostile input cannot make loading slow). The first
//!    combination under which every test message matches is taken.
//! 4. Repeat until every message matches or nothing more can be solved (at most
//!    [`MAX_ROUNDS`] rounds; all folds of one check share [`MAX_TREE_FOLD_STEPS`]).
//!
//! A wrong exclusion set would have to produce the same 32-bit CRC for every test message by
//! chance, so a found set is reported as inferred, not as a guess; on the 26.06 tree it equals
//! the `[backwards_compatible]` markings of the `.api` sources (tested).

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::api::{Api, TypeEntry, UserType};
use crate::crc::{self, CrcType, CrcTypes};
use crate::layout::bare_type_name;
use crate::model::{EnumDef, Field, TypeDef, UnionDef};

/// Most enums solved jointly for one test set.
pub const MAX_JOINT_ENUMS: usize = 3;
/// Most exclusion sets tried per enum.
pub const MAX_CANDIDATES_PER_ENUM: usize = 5000;
/// Most combinations evaluated per test set.
pub const MAX_EVALUATIONS: usize = 100_000;

/// The CRC check of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageCrc {
    pub name: String,
    /// File index (into [`Api::files`]).
    pub file: usize,
    /// The CRC the file states.
    pub stated: u32,
    /// Recomputed with the inferred `[backwards_compatible]` members left out (the final
    /// answer), or why it could not be computed.
    pub computed: Result<u32, String>,
    /// Recomputed from the JSON as it is (every enum member counted).
    pub computed_raw: Result<u32, String>,
}

impl MessageCrc {
    pub fn ok(&self) -> bool {
        self.computed.as_ref().is_ok_and(|c| *c == self.stated)
    }
}

/// Members inferred as `[backwards_compatible]` for one enum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InferredBc {
    /// Bare enum name.
    pub enum_name: String,
    /// Member names, in declaration order.
    pub members: Vec<String>,
    /// The mismatching messages this fixed.
    pub messages: Vec<String>,
}

/// The result of checking a tree's CRCs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CrcReport {
    /// Every message, in tree order.
    pub messages: Vec<MessageCrc>,
    /// Inferred `[backwards_compatible]` members, by enum name.
    pub inferred: Vec<InferredBc>,
}

impl CrcReport {
    pub fn mismatches(&self) -> impl Iterator<Item = &MessageCrc> {
        self.messages.iter().filter(|m| !m.ok())
    }
    /// Every message matches.
    pub fn all_ok(&self) -> bool {
        self.messages.iter().all(MessageCrc::ok)
    }
    pub fn ok_count(&self) -> usize {
        self.messages.iter().filter(|m| m.ok()).count()
    }
}

/// The table with some enums replaced.
struct Overlay<'a> {
    api: &'a Api,
    enums: HashMap<String, EnumDef>,
}

impl CrcTypes for Overlay<'_> {
    fn crc_type(&self, c_name: &str) -> Option<CrcType<'_>> {
        match self.enums.get(c_name) {
            Some(e) => Some(CrcType::Enum(e)),
            None => self.api.crc_type(c_name),
        }
    }
    fn crc_type_with_bytes(&self, c_name: &str) -> Option<(CrcType<'_>, Option<&[u8]>)> {
        match self.enums.get(c_name) {
            Some(e) => Some((CrcType::Enum(e), None)),
            None => self.api.crc_type_with_bytes(c_name),
        }
    }
}

/// Adds the enums (bare names) `fields` fold into a CRC to `out`: through typedefs and unions,
/// not through aliases (vppapigen does not fold alias targets). Each typedef or union is visited
/// once per `seen` set.
fn collect_folded_enums<'t>(
    fields: &'t [Field],
    table: &'t indexmap::IndexMap<String, TypeEntry>,
    seen: &mut HashSet<&'t str>,
    out: &mut BTreeSet<&'t str>,
    depth: usize,
) {
    if depth > crate::layout::MAX_NESTING {
        return;
    }
    for f in fields {
        let Some((name, entry)) = bare_type_name(&f.ty).and_then(|n| table.get_key_value(n)) else {
            continue;
        };
        match &entry.def {
            UserType::Enum(_) | UserType::EnumFlag(_) => {
                out.insert(name);
            }
            UserType::Typedef(TypeDef { fields, .. })
            | UserType::Union(UnionDef { fields, .. }) => {
                if seen.insert(name) {
                    collect_folded_enums(fields, table, seen, out, depth + 1);
                }
            }
            UserType::Alias(_) => {}
        }
    }
}

/// Types visited when folding `fields` (every occurrence, as the CRC fold does), saturating.
fn fold_steps<'t>(
    fields: &'t [Field],
    table: &'t indexmap::IndexMap<String, TypeEntry>,
    memo: &mut HashMap<&'t str, u64>,
    depth: usize,
) -> u64 {
    if depth > crate::layout::MAX_NESTING {
        return u64::MAX / 4;
    }
    let mut n: u64 = 0;
    for f in fields {
        let Some((name, entry)) = bare_type_name(&f.ty).and_then(|n| table.get_key_value(n)) else {
            continue;
        };
        let inner = match &entry.def {
            UserType::Typedef(TypeDef { fields, .. })
            | UserType::Union(UnionDef { fields, .. }) => match memo.get(name.as_str()) {
                Some(&c) => c,
                None => {
                    let c = fold_steps(fields, table, memo, depth + 1);
                    memo.insert(name, c);
                    c
                }
            },
            _ => 0,
        };
        n = n.saturating_add(1).saturating_add(inner);
    }
    n
}

/// Bound on types visited by all CRC folds of one tree check (real trees need well under 1% of
/// it): a crafted tree cannot make loading slow.
pub const MAX_TREE_FOLD_STEPS: u64 = 1 << 22;

/// Message CRCs under the tree-wide fold budget.
struct Steps {
    /// Fold cost of each message.
    cost: Vec<u64>,
    spent: u64,
}

impl Steps {
    fn exhausted(&self) -> bool {
        self.spent >= MAX_TREE_FOLD_STEPS
    }
    fn crc(
        &mut self,
        i: usize,
        msg: &crate::model::Message,
        types: &dyn CrcTypes,
    ) -> Result<u32, String> {
        let cost = self.cost[i];
        if self.spent.saturating_add(cost) > MAX_TREE_FOLD_STEPS {
            return Err(
                "not checked: the CRC check's work budget for this tree is exhausted".into(),
            );
        }
        self.spent += cost;
        crc::message_crc(msg, types)
    }
}

/// Longest suffix of members tried as an exclusion set.
pub const MAX_SUFFIX: usize = 64;
/// Most rounds (one test set each) of the inference per tree.
pub const MAX_ROUNDS: usize = 256;
/// Most evaluations (one candidate combination checked against its test messages) per tree.
pub const MAX_TOTAL_EVALUATIONS: usize = 1_000_000;

/// One exclusion set: the last `k` members, or a set of member indexes (at most 3).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Excl {
    Suffix(usize),
    Set(Vec<usize>),
}

impl Excl {
    fn indexes(&self, n: usize) -> Vec<usize> {
        match self {
            Excl::Suffix(k) => (n.saturating_sub(*k)..n).collect(),
            Excl::Set(s) => s.clone(),
        }
    }
}

/// Exclusion sets to try for an enum of `n` members, in order (see module docs).
fn candidates(n: usize) -> Vec<Excl> {
    let mut out = vec![Excl::Suffix(0)];
    for k in 1..=n.min(MAX_SUFFIX) {
        out.push(Excl::Suffix(k));
    }
    'outer: for size in 1..=3usize.min(n) {
        let mut idx: Vec<usize> = (0..size).collect();
        loop {
            if out.len() >= MAX_CANDIDATES_PER_ENUM {
                break 'outer;
            }
            // Sets equal to a suffix were tried already.
            if idx[0] != n - size {
                out.push(Excl::Set(idx.clone()));
            }
            // Next combination in lexicographic order.
            let mut i = size;
            loop {
                if i == 0 {
                    continue 'outer;
                }
                i -= 1;
                if idx[i] < n - size + i {
                    break;
                }
            }
            idx[i] += 1;
            for j in i + 1..size {
                idx[j] = idx[j - 1] + 1;
            }
        }
    }
    out
}

/// Calls `f` on every index tuple with `tuple[i] < lens[i]` and `sum == total`.
fn tuples_with_sum(
    lens: &[usize],
    total: usize,
    cur: &mut Vec<usize>,
    f: &mut dyn FnMut(&[usize]) -> bool,
) -> bool {
    if cur.len() == lens.len() {
        return if total == 0 { f(cur) } else { false };
    }
    let i = cur.len();
    let last = i + 1 == lens.len();
    let lo = if last { total } else { 0 };
    for v in lo..=total.min(lens[i].saturating_sub(1)) {
        cur.push(v);
        let stop = tuples_with_sum(lens, total - v, cur, f);
        cur.pop();
        if stop {
            return true;
        }
    }
    false
}

fn with_excluded(e: &EnumDef, excl: &Excl) -> EnumDef {
    let n = e.members.len();
    let mut e = e.clone();
    for (i, m) in e.members.iter_mut().enumerate() {
        m.backwards_compatible = match excl {
            Excl::Suffix(k) => i + k >= n,
            Excl::Set(s) => s.contains(&i),
        };
    }
    e
}

fn enum_def<'a>(api: &'a Api, name: &str) -> Option<&'a EnumDef> {
    match &api.table().get(name)?.def {
        UserType::Enum(e) | UserType::EnumFlag(e) => Some(e),
        _ => None,
    }
}

/// Checks every message CRC of `api`; returns the report and the inferred members
/// (`enum name -> member names`).
pub(crate) fn check(api: &Api) -> (CrcReport, Vec<(String, Vec<String>)>) {
    let table = api.table();
    let msgs: Vec<_> = api.messages().collect();
    let mut memo = HashMap::new();
    let mut steps = Steps {
        cost: msgs
            .iter()
            .map(|m| {
                1 + fold_steps(&m.msg.fields, table, &mut memo, 0)
                    .min(crc::MAX_FOLD_STEPS as u64 + 1)
            })
            .collect(),
        spent: 0,
    };
    let raw: Vec<Result<u32, String>> = (0..msgs.len())
        .map(|i| steps.crc(i, &msgs[i].msg, api))
        .collect();

    // Enums folded by a matching message are complete.
    let mut clean: BTreeSet<&str> = BTreeSet::new();
    let mut seen = HashSet::new();
    for (i, m) in msgs.iter().enumerate() {
        if raw[i].as_ref().is_ok_and(|c| *c == m.msg.crc) {
            collect_folded_enums(&m.msg.fields, table, &mut seen, &mut clean, 0);
        }
    }
    let failing0: Vec<usize> = (0..msgs.len())
        .filter(|&i| matches!(&raw[i], Ok(c) if *c != msgs[i].msg.crc))
        .collect();
    let folded: HashMap<usize, BTreeSet<&str>> = failing0
        .iter()
        .map(|&i| {
            let mut out = BTreeSet::new();
            collect_folded_enums(&msgs[i].msg.fields, table, &mut HashSet::new(), &mut out, 0);
            (i, out)
        })
        .collect();
    let cands: HashMap<usize, BTreeSet<String>> = failing0
        .iter()
        .map(|&i| {
            let c: BTreeSet<String> = folded[&i]
                .iter()
                .filter(|e| !clean.contains(*e))
                .map(|e| e.to_string())
                .collect();
            (i, c)
        })
        .collect();

    let mut solved: HashMap<String, Vec<usize>> = HashMap::new();
    let mut total_evals = 0usize;
    let mut overlay = Overlay {
        api,
        enums: HashMap::new(),
    };
    let mut failing = failing0.clone();
    let mut gave_up: HashSet<usize> = HashSet::new();
    // Enums solved in the last round: only messages folding one of them can change.
    let mut just_solved: Vec<String> = Vec::new();
    for _round in 0..MAX_ROUNDS {
        failing.retain(|&i| {
            if !just_solved.iter().any(|e| cands[&i].contains(e)) {
                return true;
            }
            steps.crc(i, &msgs[i].msg, &overlay).ok() != Some(msgs[i].msg.crc)
        });
        just_solved.clear();
        let unsolved = |i: usize| -> Vec<String> {
            cands[&i]
                .iter()
                .filter(|e| !solved.contains_key(*e))
                .cloned()
                .collect()
        };
        if total_evals >= MAX_TOTAL_EVALUATIONS || steps.exhausted() {
            break;
        }
        let Some(&pick) = failing
            .iter()
            .filter(|i| !gave_up.contains(i))
            .min_by_key(|&&i| {
                let n = cands[&i]
                    .iter()
                    .filter(|e| !solved.contains_key(*e))
                    .count();
                (n, i)
            })
        else {
            break;
        };
        let set = unsolved(pick);
        if set.is_empty() || set.len() > MAX_JOINT_ENUMS {
            gave_up.insert(pick);
            continue;
        }
        let tests: Vec<usize> = failing
            .iter()
            .copied()
            .filter(|&i| {
                let mut u = cands[&i].iter().filter(|e| !solved.contains_key(*e));
                let mut any = false;
                let inside = u.all(|e| {
                    any = true;
                    set.contains(e)
                });
                any && inside
            })
            .collect();
        let defs: Vec<&EnumDef> = set.iter().filter_map(|e| enum_def(api, e)).collect();
        if defs.len() != set.len() {
            gave_up.insert(pick);
            continue;
        }
        let lists: Vec<Vec<Excl>> = defs.iter().map(|e| candidates(e.members.len())).collect();
        let lens: Vec<usize> = lists.iter().map(Vec::len).collect();
        let max_total: usize = lens.iter().map(|l| l - 1).sum();
        let mut evals = 0usize;
        let mut found: Option<Vec<usize>> = None;
        for total in 0..=max_total {
            let done = tuples_with_sum(&lens, total, &mut Vec::new(), &mut |t| {
                evals += 1;
                total_evals += 1;
                for (k, def) in defs.iter().enumerate() {
                    overlay.enums.insert(
                        crate::crc::c_type_name(&def.name),
                        with_excluded(def, &lists[k][t[k]]),
                    );
                }
                let all = tests
                    .iter()
                    .all(|&i| steps.crc(i, &msgs[i].msg, &overlay).ok() == Some(msgs[i].msg.crc));
                if all {
                    found = Some(t.to_vec());
                }
                all || evals >= MAX_EVALUATIONS
                    || total_evals >= MAX_TOTAL_EVALUATIONS
                    || steps.exhausted()
            });
            if done {
                break;
            }
        }
        match found {
            Some(t) => {
                for (k, def) in defs.iter().enumerate() {
                    let excl = &lists[k][t[k]];
                    overlay
                        .enums
                        .insert(crate::crc::c_type_name(&def.name), with_excluded(def, excl));
                    solved.insert(def.name.clone(), excl.indexes(def.members.len()));
                    just_solved.push(def.name.clone());
                }
            }
            None => {
                for def in &defs {
                    overlay.enums.remove(&crate::crc::c_type_name(&def.name));
                }
                gave_up.extend(tests);
                gave_up.insert(pick);
            }
        }
    }

    let mut messages = Vec::with_capacity(msgs.len());
    for (i, m) in msgs.iter().enumerate() {
        let computed = if failing0.contains(&i) {
            steps.crc(i, &m.msg, &overlay)
        } else {
            raw[i].clone()
        };
        messages.push(MessageCrc {
            name: m.msg.name.clone(),
            file: m.file,
            stated: m.msg.crc,
            computed,
            computed_raw: raw[i].clone(),
        });
    }
    let mut inferred_list = Vec::new();
    let mut names: Vec<&String> = solved.keys().collect();
    names.sort();
    for name in names {
        let excl = &solved[name];
        if excl.is_empty() {
            continue;
        }
        let Some(def) = enum_def(api, name) else {
            continue;
        };
        let members: Vec<String> = excl.iter().map(|&i| def.members[i].name.clone()).collect();
        let fixed: Vec<String> = failing0
            .iter()
            .filter(|&&i| folded[&i].contains(name.as_str()) && messages[i].ok())
            .map(|&i| msgs[i].msg.name.clone())
            .collect();
        inferred_list.push(InferredBc {
            enum_name: name.clone(),
            members,
            messages: fixed,
        });
    }
    let inferred: Vec<(String, Vec<String>)> = inferred_list
        .iter()
        .map(|b| (b.enum_name.clone(), b.members.clone()))
        .collect();
    (
        CrcReport {
            messages,
            inferred: inferred_list,
        },
        inferred,
    )
}
