//! Plans: the diff of desired and actual state, ordered by the dependency graph.

use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, VecDeque};
use std::fmt::Debug;

use crate::descriptor::{ChangeKind, Dependency, Descriptor};
use crate::key::{in_scope, sort_key};
use crate::state::State;

/// The kind of a planned operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum OpKind {
    /// Create a missing value.
    Create,
    /// Change an existing value in place.
    Update,
    /// Delete an existing value.
    Delete,
}

/// One planned operation. A recreate appears as a Delete (in the delete phase) and a Create
/// (in the create phase) of the same key, both with `recreate = true`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Op<V> {
    /// The value's key.
    pub key: String,
    /// Create, update or delete.
    pub kind: OpKind,
    /// Name of the descriptor that handles the key.
    pub descriptor: &'static str,
    /// The new value (Create/Update).
    pub value: Option<V>,
    /// The old value (Update/Delete).
    pub old: Option<V>,
    /// Part of a delete + create pair of the same key.
    pub recreate: bool,
    /// Create of a key that was PENDING in the previous plan (see [`crate::Scheduler`]).
    pub was_pending: bool,
    /// Parent key if this is a derived value.
    pub derived_from: Option<String>,
    /// Human text: "missing", "value differs", "dependency bd/1 recreated", "not desired", ...
    pub reason: String,
}

impl<V> Op<V> {
    /// The transaction-log label: `CREATE`, `DELETE [RECREATE]`, `CREATE [WAS-PENDING]`, ...
    pub fn label(&self) -> String {
        let mut s = match self.kind {
            OpKind::Create => "CREATE",
            OpKind::Update => "UPDATE",
            OpKind::Delete => "DELETE",
        }
        .to_string();
        if self.recreate {
            s.push_str(" [RECREATE]");
        }
        if self.was_pending {
            s.push_str(" [WAS-PENDING]");
        }
        s
    }
}

/// A desired value that cannot be created yet: some dependencies are missing.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Pending<V> {
    /// The value's key.
    pub key: String,
    /// The desired value.
    pub value: V,
    /// The dependencies (as declared) that are not satisfied.
    pub missing: Vec<Dependency>,
}

/// A difference the plan may not resolve: a desired value that differs from an actual value the
/// tool does not own (and may not touch), or a delete/recreate that would have to delete a value
/// that must be kept.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Blocked {
    /// The key that keeps its actual value.
    pub key: String,
    /// Why.
    pub reason: String,
}

/// The ordered operations of a reconcile, plus what it could not do.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Plan<V> {
    /// Deletes (children first), then creates and updates (parents first).
    pub ops: Vec<Op<V>>,
    /// Desired values with missing dependencies, in key order.
    pub pending: Vec<Pending<V>>,
    /// Differences left alone, in key order.
    pub blocked: Vec<Blocked>,
}

impl<V> Plan<V> {
    /// No operations (there may still be pending or blocked values).
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

/// Options of [`crate::Engine::plan`].
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// Key prefixes the desired state is authoritative for: an actual key inside the scope that is
    /// not desired is deleted (if owned, or if prune_unowned). Keys outside the scope are never
    /// deleted. Empty = nothing is deleted except as needed for recreates.
    /// Prefixes are segment-aware (`bd/1` covers `bd/1/...` but not `bd/10`).
    pub scope: Vec<String>,
    /// Delete undesired values in scope even if this tool does not own them.
    pub prune_unowned: bool,
    /// Let desired values replace/update unowned actual values instead of reporting them Blocked.
    pub adopt_unowned: bool,
    /// Keys that were PENDING in a previous plan (Create ops of them get was_pending = true).
    pub previously_pending: BTreeSet<String>,
}

/// Why a plan could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// A key (explicit or derived) that no registered descriptor handles.
    #[error("no descriptor handles key {0:?}")]
    NoDescriptor(String),
    /// A dependency cycle among desired values (or among actual values being deleted).
    #[error("dependency cycle through {0:?}")]
    Cycle(Vec<String>),
    /// A derived value clashes with a different value of the same key (explicit or derived
    /// from another parent).
    #[error("derived value {key:?} of {parent:?} differs from another value with the same key")]
    DerivedConflict {
        /// The derived key.
        key: String,
        /// The parent that derived the clashing value.
        parent: String,
    },
}

/// FxHash (as in rustc): keys are trusted, speed matters, iteration order is never used.
#[derive(Default, Clone, Copy)]
struct FxHasher(u64);

impl std::hash::Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes(c.try_into().expect("8 bytes"));
            self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.write(&[i]);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type FxMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<FxHasher>>;

/// A value after expansion of derived values.
struct Node<'a, V: Clone> {
    value: Cow<'a, V>,
    owned: bool,
    parent: Option<String>,
    desc: usize,
}

pub(crate) fn descriptor_index<V, C>(
    descs: &[Box<dyn Descriptor<V, C>>],
    key: &str,
) -> Option<usize> {
    descs.iter().position(|d| d.handles(key))
}

/// Adds derived values (recursively) to the explicit ones.
fn expand<'a, V: Clone + PartialEq, C>(
    descs: &[Box<dyn Descriptor<V, C>>],
    state: &'a State<V>,
) -> Result<FxMap<String, Node<'a, V>>, PlanError> {
    let mut out: FxMap<String, Node<'a, V>> = FxMap::default();
    out.reserve(state.len());
    for (k, e) in state.iter() {
        let desc =
            descriptor_index(descs, k).ok_or_else(|| PlanError::NoDescriptor(k.to_string()))?;
        out.insert(
            k.to_string(),
            Node {
                value: Cow::Borrowed(&e.value),
                owned: e.owned,
                parent: None,
                desc,
            },
        );
    }
    for root in state.keys() {
        let mut stack = vec![root.to_string()];
        while let Some(k) = stack.pop() {
            let node = &out[&k];
            let owned = node.owned;
            let derived = descs[node.desc].derived(&k, &node.value);
            for (dk, dv) in derived {
                match out.get_mut(&dk) {
                    None => {
                        let desc = descriptor_index(descs, &dk)
                            .ok_or_else(|| PlanError::NoDescriptor(dk.clone()))?;
                        out.insert(
                            dk.clone(),
                            Node {
                                value: Cow::Owned(dv),
                                owned,
                                parent: Some(k.clone()),
                                desc,
                            },
                        );
                        stack.push(dk);
                    }
                    Some(existing) => {
                        if *existing.value != dv || dk == k {
                            return Err(PlanError::DerivedConflict { key: dk, parent: k });
                        }
                        // An explicit value that is also derived: it is the derived one.
                        if existing.parent.is_none() && state.contains(&dk) {
                            existing.parent = Some(k.clone());
                        }
                    }
                }
            }
        }
    }
    Ok(out)
}

/// A dependency resolved to indices of the key universe.
enum Dep {
    One(usize),
    Any(Vec<usize>),
    Never,
}

impl Dep {
    fn mentions(&self, j: usize) -> bool {
        match self {
            Dep::One(i) => *i == j,
            Dep::Any(v) => v.contains(&j),
            Dep::Never => false,
        }
    }
    fn satisfied(&self, f: impl Fn(usize) -> bool) -> bool {
        match self {
            Dep::One(i) => f(*i),
            Dep::Any(v) => v.iter().any(|&i| f(i)),
            Dep::Never => false,
        }
    }
    fn targets(&self) -> &[usize] {
        match self {
            Dep::One(i) => std::slice::from_ref(i),
            Dep::Any(v) => v,
            Dep::Never => &[],
        }
    }
}

/// Why an actual value is deleted.
enum Cause {
    NotDesired,
    Changed(String),
    Dep(usize),
    Pending,
}

/// Kahn's algorithm over `members`: a node waits for the nodes in `wait[node]` (that are members),
/// `release[j]` lists the nodes that wait for `j`. Ties: lowest index (= natural key order) first.
/// Err = the nodes on one cycle.
fn toposort(
    members: &[bool],
    wait: &[Vec<usize>],
    release: &[Vec<usize>],
) -> Result<Vec<usize>, Vec<usize>> {
    let n = members.len();
    let mut indeg = vec![0usize; n];
    let mut heap = BinaryHeap::new();
    let mut total = 0;
    for i in 0..n {
        if !members[i] {
            continue;
        }
        total += 1;
        indeg[i] = wait[i].iter().filter(|&&j| members[j]).count();
        if indeg[i] == 0 {
            heap.push(Reverse(i));
        }
    }
    let mut order = Vec::with_capacity(total);
    while let Some(Reverse(j)) = heap.pop() {
        order.push(j);
        for &k in &release[j] {
            if members[k] {
                indeg[k] -= 1;
                if indeg[k] == 0 {
                    heap.push(Reverse(k));
                }
            }
        }
    }
    if order.len() == total {
        return Ok(order);
    }
    // Every node left over waits for another left-over node: walk until a node repeats.
    let left = |i: usize| members[i] && indeg[i] > 0;
    let start = (0..n).find(|&i| left(i)).expect("a node is left over");
    let mut path = vec![start];
    let mut seen = HashMap::from([(start, 0usize)]);
    let mut cur = start;
    loop {
        let next = wait[cur]
            .iter()
            .copied()
            .filter(|&j| left(j))
            .min()
            .expect("a left-over node waits for a left-over node");
        if let Some(&pos) = seen.get(&next) {
            return Err(path.split_off(pos));
        }
        seen.insert(next, path.len());
        path.push(next);
        cur = next;
    }
}

/// Dependency indices of node `k` restricted to `present` nodes, deduplicated, plus the reverse
/// lists.
fn edges(deps: &[Vec<Dep>], present: &[bool]) -> (Vec<Vec<usize>>, Vec<Vec<usize>>) {
    let n = deps.len();
    let mut wait = vec![Vec::new(); n];
    let mut release = vec![Vec::new(); n];
    for k in 0..n {
        let mut w: Vec<usize> = deps[k]
            .iter()
            .flat_map(|d| d.targets().iter().copied())
            .filter(|&j| present[j])
            .collect();
        w.sort_unstable();
        w.dedup();
        for &j in &w {
            release[j].push(k);
        }
        wait[k] = w;
    }
    (wait, release)
}

pub(crate) fn plan<V: Clone + PartialEq + Debug, C>(
    descs: &[Box<dyn Descriptor<V, C>>],
    desired: &State<V>,
    actual: &State<V>,
    opts: &PlanOptions,
) -> Result<Plan<V>, PlanError> {
    let dmap = expand(descs, desired)?;
    let amap = expand(descs, actual)?;

    // The key universe, in natural order: index order is key order.
    let mut keys: Vec<&str> = dmap.keys().map(String::as_str).collect();
    keys.extend(
        amap.keys()
            .map(String::as_str)
            .filter(|k| !dmap.contains_key(*k)),
    );
    {
        let mut with_sk: Vec<_> = keys.iter().map(|k| (sort_key(k), *k)).collect();
        with_sk.sort_unstable();
        keys = with_sk.into_iter().map(|(_, k)| k).collect();
    }
    let n = keys.len();
    let index: FxMap<&str, usize> = keys.iter().enumerate().map(|(i, k)| (*k, i)).collect();
    let mut dn: Vec<Option<&Node<V>>> = vec![None; n];
    let mut an: Vec<Option<&Node<V>>> = vec![None; n];
    for (k, node) in &dmap {
        dn[index[k.as_str()]] = Some(node);
    }
    for (k, node) in &amap {
        an[index[k.as_str()]] = Some(node);
    }
    let is_d: Vec<bool> = dn.iter().map(Option::is_some).collect();
    let is_a: Vec<bool> = an.iter().map(Option::is_some).collect();

    let resolve = |d: &Dependency| match d {
        Dependency::Key(k) => index.get(k.as_str()).map_or(Dep::Never, |&i| Dep::One(i)),
        Dependency::AnyOf(ks) => {
            let v: Vec<usize> = ks
                .iter()
                .filter_map(|k| index.get(k.as_str()).copied())
                .collect();
            if v.is_empty() {
                Dep::Never
            } else {
                Dep::Any(v)
            }
        }
    };
    let declared = |i: usize, node: &Node<V>| -> Vec<Dependency> {
        let mut deps = descs[node.desc].dependencies(keys[i], &node.value);
        if let Some(p) = &node.parent {
            deps.push(Dependency::Key(p.clone()));
        }
        deps
    };
    let mut d_raw: Vec<Vec<Dependency>> = vec![Vec::new(); n];
    let mut d_deps: Vec<Vec<Dep>> = Vec::with_capacity(n);
    let mut a_deps: Vec<Vec<Dep>> = Vec::with_capacity(n);
    for i in 0..n {
        match dn[i] {
            Some(node) => {
                d_raw[i] = declared(i, node);
                d_deps.push(d_raw[i].iter().map(resolve).collect());
            }
            None => d_deps.push(Vec::new()),
        }
        match an[i] {
            Some(node) => a_deps.push(declared(i, node).iter().map(resolve).collect()),
            None => a_deps.push(Vec::new()),
        }
    }
    // Desired edges go to every key of the universe (a desired value may wait for an actual one
    // being deleted); the topological sorts only count members.
    let (d_wait, d_release) = edges(&d_deps, &vec![true; n]);
    let (a_wait, a_release) = edges(&a_deps, &is_a);

    // Cycles among desired values are errors; the order is reused for the pending pass.
    let d_topo = toposort(&is_d, &d_wait, &d_release)
        .map_err(|c| PlanError::Cycle(c.into_iter().map(|i| keys[i].to_string()).collect()))?;

    // Classification of the actual values.
    let scoped = |k: &str| opts.scope.iter().any(|p| in_scope(p, k));
    let mut equivalent = vec![true; n];
    let mut change = vec![ChangeKind::Update; n];
    let mut may_touch = vec![false; n];
    let mut prunable = vec![false; n];
    let mut candidate: Vec<Option<Cause>> = (0..n).map(|_| None).collect();
    let mut blocked: BTreeMap<usize, String> = BTreeMap::new();
    for i in 0..n {
        let Some(a) = an[i] else { continue };
        let desc = &descs[a.desc];
        match dn[i] {
            Some(d) => {
                may_touch[i] = a.owned || opts.adopt_unowned;
                equivalent[i] = desc.equivalent(keys[i], &d.value, &a.value);
                if !equivalent[i] {
                    let why = desc.describe_change(keys[i], &a.value, &d.value);
                    change[i] = desc.change_kind(keys[i], &a.value, &d.value);
                    if !may_touch[i] {
                        blocked.insert(
                            i,
                            format!("differs from an actual value this tool does not own ({why})"),
                        );
                    } else if change[i] == ChangeKind::Recreate {
                        candidate[i] = Some(Cause::Changed(why));
                    }
                }
            }
            None => {
                // The root of the derivation chain decides the scope; a desired ancestor is
                // authoritative for its derived values (and adopting it adopts them).
                let mut root = i;
                let mut desired_ancestor = false;
                let mut steps = 0;
                while let Some(p) = an[root].and_then(|x| x.parent.as_deref()) {
                    root = index[p];
                    desired_ancestor |= is_d[root];
                    steps += 1;
                    if steps > n {
                        break;
                    }
                }
                prunable[i] = if desired_ancestor {
                    a.owned || opts.prune_unowned || opts.adopt_unowned
                } else {
                    scoped(keys[root]) && (a.owned || opts.prune_unowned)
                };
                if prunable[i] {
                    candidate[i] = Some(Cause::NotDesired);
                }
            }
        }
    }

    // Values that must survive, and (transitively) every existing value they depend on.
    // `kept_by[i]` = the value that needs `i` (itself for the roots).
    let mut kept_by: Vec<Option<usize>> = vec![None; n];
    let mut work = Vec::new();
    for i in 0..n {
        if is_a[i] && ((!is_d[i] && !prunable[i]) || (is_d[i] && !may_touch[i])) {
            kept_by[i] = Some(i);
            work.push(i);
        }
    }
    while let Some(k) = work.pop() {
        for &j in &a_wait[k] {
            if kept_by[j].is_none() {
                kept_by[j] = Some(k);
                work.push(j);
            }
        }
    }

    // Least fixpoint of `del` (actual values deleted) and `pending` (desired values that cannot
    // be created): both only grow, each change re-checks the values that depend on it.
    let mut del = vec![false; n];
    let mut cause: Vec<Option<Cause>> = (0..n).map(|_| None).collect();
    let mut pending = vec![false; n];
    let mut queue = VecDeque::new();
    for i in 0..n {
        if let Some(c) = candidate[i].take() {
            match kept_by[i] {
                Some(by) => {
                    let why = match c {
                        Cause::Changed(why) => format!("needs recreate ({why})"),
                        _ => "not desired".to_string(),
                    };
                    blocked.insert(
                        i,
                        format!("{why}, but {} depends on it and must be kept", keys[by]),
                    );
                }
                None => {
                    del[i] = true;
                    cause[i] = Some(c);
                    queue.push_back(i);
                }
            }
        }
    }
    let d_ok = |k: usize, pending: &[bool], del: &[bool]| {
        d_deps[k]
            .iter()
            .all(|d| d.satisfied(|j| (is_d[j] && !pending[j]) || (is_a[j] && !del[j])))
    };
    for &i in &d_topo {
        if !d_ok(i, &pending, &del) {
            pending[i] = true;
            queue.push_back(i);
        }
    }
    while let Some(j) = queue.pop_front() {
        if pending[j] && is_a[j] && !del[j] {
            match kept_by[j] {
                None => {
                    del[j] = true;
                    cause[j] = Some(Cause::Pending);
                    queue.push_back(j);
                }
                Some(by) if by == j => {
                    blocked.entry(j).or_insert_with(|| {
                        "new value pending; the actual value is not owned by this tool".to_string()
                    });
                }
                Some(by) => {
                    blocked.entry(j).or_insert_with(|| {
                        format!(
                            "new value pending, but {} depends on it and must be kept",
                            keys[by]
                        )
                    });
                }
            }
        }
        if del[j] {
            for &k in &a_release[j] {
                if !del[k]
                    && a_deps[k]
                        .iter()
                        .any(|d| d.mentions(j) && !d.satisfied(|x| is_a[x] && !del[x]))
                {
                    // kept_by[k] is None here: the dependencies of kept values are kept.
                    del[k] = true;
                    cause[k] = Some(Cause::Dep(j));
                    queue.push_back(k);
                }
            }
        }
        for &k in &d_release[j] {
            if !pending[k] && !d_ok(k, &pending, &del) {
                pending[k] = true;
                queue.push_back(k);
            }
        }
    }

    let recreated = |i: usize| is_d[i] && !pending[i] && del[i];
    let reason_of = |i: usize| match cause[i].as_ref().expect("deleted values have a cause") {
        Cause::NotDesired => "not desired".to_string(),
        Cause::Changed(why) => why.clone(),
        Cause::Dep(j) if recreated(*j) => format!("dependency {} recreated", keys[*j]),
        Cause::Dep(j) => format!("dependency {} deleted", keys[*j]),
        Cause::Pending => {
            let missing: Vec<String> = d_raw[i]
                .iter()
                .zip(&d_deps[i])
                .filter(|(_, d)| !d.satisfied(|j| (is_d[j] && !pending[j]) || (is_a[j] && !del[j])))
                .map(|(raw, _)| raw.to_string())
                .collect();
            format!("new value pending (missing {})", missing.join(", "))
        }
    };

    let mut ops = Vec::new();

    // Delete phase: a value waits for the deleted values that depend on it.
    let del_order = toposort(&del, &a_release, &a_wait)
        .map_err(|c| PlanError::Cycle(c.into_iter().map(|i| keys[i].to_string()).collect()))?;
    for i in del_order {
        let a = an[i].expect("deleted values exist");
        ops.push(Op {
            key: keys[i].to_string(),
            kind: OpKind::Delete,
            descriptor: descs[a.desc].name(),
            value: None,
            old: Some(V::clone(&a.value)),
            recreate: recreated(i),
            was_pending: false,
            derived_from: a.parent.clone(),
            reason: reason_of(i),
        });
    }

    // Create/update phase: a value waits for the created/updated values it depends on.
    let mut kinds: Vec<Option<OpKind>> = vec![None; n];
    for i in 0..n {
        if !is_d[i] || pending[i] {
            continue;
        }
        if !is_a[i] || del[i] {
            kinds[i] = Some(OpKind::Create);
        } else if !equivalent[i] && may_touch[i] && change[i] == ChangeKind::Update {
            kinds[i] = Some(OpKind::Update);
        }
    }
    let member: Vec<bool> = kinds.iter().map(Option::is_some).collect();
    let order = toposort(&member, &d_wait, &d_release)
        .map_err(|c| PlanError::Cycle(c.into_iter().map(|i| keys[i].to_string()).collect()))?;
    for i in order {
        let d = dn[i].expect("created values are desired");
        let kind = kinds[i].expect("member");
        let (old, reason, recreate, was_pending) = match kind {
            OpKind::Create if del[i] => (None, reason_of(i), true, false),
            OpKind::Create => (
                None,
                "missing".to_string(),
                false,
                opts.previously_pending.contains(keys[i]),
            ),
            _ => {
                let a = an[i].expect("updated values exist");
                let why = descs[d.desc].describe_change(keys[i], &a.value, &d.value);
                (Some(V::clone(&a.value)), why, false, false)
            }
        };
        ops.push(Op {
            key: keys[i].to_string(),
            kind,
            descriptor: descs[d.desc].name(),
            value: Some(V::clone(&d.value)),
            old,
            recreate,
            was_pending,
            derived_from: d.parent.clone(),
            reason,
        });
    }

    let pending_list = (0..n)
        .filter(|&i| pending[i])
        .map(|i| Pending {
            key: keys[i].to_string(),
            value: dn[i]
                .expect("pending values are desired")
                .value
                .as_ref()
                .clone(),
            missing: d_raw[i]
                .iter()
                .zip(&d_deps[i])
                .filter(|(_, d)| !d.satisfied(|j| (is_d[j] && !pending[j]) || (is_a[j] && !del[j])))
                .map(|(raw, _)| raw.clone())
                .collect(),
        })
        .collect();
    let blocked = blocked
        .into_iter()
        .map(|(i, reason)| Blocked {
            key: keys[i].to_string(),
            reason,
        })
        .collect();
    Ok(Plan {
        ops,
        pending: pending_list,
        blocked,
    })
}
