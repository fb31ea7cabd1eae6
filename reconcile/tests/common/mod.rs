//! Test support: a minimal executor and an in-memory model store whose operations check the
//! dependency rules (a create needs its dependencies; a delete needs no remaining dependents).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use reconcile::{
    BoxFuture, ChangeKind, Dependency, Descriptor, Engine, OpError, PlanOptions, Retrieved, State,
};

/// Polls a future that never pends (every future here is ready at once).
pub fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

/// A node value: `v` is mutable, `imm` immutable (a change means recreate), `kids` are derived
/// values `n<i>/c<j>` (kid id -> kid `v`).
#[derive(Debug, Clone, PartialEq)]
pub struct Tv {
    pub v: u8,
    pub imm: u8,
    pub kids: BTreeMap<u8, u8>,
}

impl Tv {
    pub fn new(v: u8, imm: u8) -> Self {
        Tv {
            v,
            imm,
            kids: BTreeMap::new(),
        }
    }
    pub fn with_kids(mut self, kids: &[(u8, u8)]) -> Self {
        self.kids = kids.iter().copied().collect();
        self
    }
}

pub fn top(i: usize) -> String {
    format!("n{i}")
}
pub fn kid(i: usize, j: u8) -> String {
    format!("n{i}/c{j}")
}

/// The dependencies of each top-level key `n<i>` (kids depend on their parent only); a value
/// with `v == 2` also depends on `extra[i]` (dependencies that change with the value).
#[derive(Debug, Clone, Default)]
pub struct Graph {
    pub deps: Vec<Vec<Dependency>>,
    pub extra: Vec<Option<Dependency>>,
}

impl Graph {
    /// Parses `n3` -> (3, None), `n3/c1` -> (3, Some(1)).
    pub fn parse(key: &str) -> (usize, Option<u8>) {
        let rest = key.strip_prefix('n').expect("node key");
        match rest.split_once("/c") {
            Some((i, j)) => (i.parse().unwrap(), Some(j.parse().unwrap())),
            None => (rest.parse().unwrap(), None),
        }
    }
    /// Dependencies as the model sees them (kids: their parent).
    pub fn deps_of(&self, key: &str, value: &Tv) -> Vec<Dependency> {
        match Graph::parse(key) {
            (i, None) => {
                let mut d = self.deps.get(i).cloned().unwrap_or_default();
                if value.v == 2 {
                    d.extend(self.extra.get(i).cloned().flatten());
                }
                d
            }
            (i, Some(_)) => vec![Dependency::Key(top(i))],
        }
    }
}

/// The model store: every key (kids included) with its value and ownership.
#[derive(Debug, Clone)]
pub struct Store {
    pub map: BTreeMap<String, (Tv, bool)>,
    pub graph: Arc<Graph>,
    /// Ops run so far (including failed ones).
    pub ops: usize,
    /// The ops (0-based counts over every op run, rollback included) that fail.
    pub fail_at: Vec<usize>,
    /// "CREATE n1", "DELETE n2/c0", ... for every successful op.
    pub log: Vec<String>,
}

impl Store {
    /// A store holding `actual` (top-level values; kids inherit their parent's ownership).
    pub fn new(graph: Arc<Graph>, actual: &State<Tv>) -> Self {
        let mut map = BTreeMap::new();
        for (k, e) in actual.iter() {
            for (&j, &kv) in &e.value.kids {
                map.insert(kid(Graph::parse(k).0, j), (Tv::new(kv, 0), e.owned));
            }
            map.insert(k.to_string(), (e.value.clone(), e.owned));
        }
        Store {
            map,
            graph,
            ops: 0,
            fail_at: Vec::new(),
            log: Vec::new(),
        }
    }

    fn satisfied(&self, d: &Dependency) -> bool {
        match d {
            Dependency::Key(k) => self.map.contains_key(k),
            Dependency::AnyOf(ks) => ks.iter().any(|k| self.map.contains_key(k)),
        }
    }

    fn tick(&mut self) -> Result<(), OpError> {
        let n = self.ops;
        self.ops += 1;
        if self.fail_at.contains(&n) {
            return Err(format!("injected failure at op {n}").into());
        }
        Ok(())
    }

    fn check_deps(&self, key: &str, value: &Tv) -> Result<(), OpError> {
        for d in self.graph.deps_of(key, value) {
            if !self.satisfied(&d) {
                return Err(format!("{key}: dependency {d} missing").into());
            }
        }
        Ok(())
    }

    pub fn create(&mut self, key: &str, value: &Tv) -> Result<(), OpError> {
        self.tick()?;
        if self.map.contains_key(key) {
            return Err(format!("create {key}: exists").into());
        }
        self.check_deps(key, value)?;
        match Graph::parse(key) {
            (_, None) => {
                let v = Tv::new(value.v, value.imm);
                self.map.insert(key.to_string(), (v, true));
            }
            (i, Some(j)) => {
                self.map.get_mut(&top(i)).unwrap().0.kids.insert(j, value.v);
                self.map
                    .insert(key.to_string(), (Tv::new(value.v, 0), true));
            }
        }
        self.log.push(format!("CREATE {key}"));
        Ok(())
    }

    pub fn delete(&mut self, key: &str, value: &Tv) -> Result<(), OpError> {
        self.tick()?;
        let Some((cur, _)) = self.map.get(key) else {
            return Err(format!("delete {key}: missing").into());
        };
        if cur.v != value.v || cur.imm != value.imm {
            return Err(format!("delete {key}: stale value {value:?}, have {cur:?}").into());
        }
        for (other, (ov, _)) in &self.map {
            for d in self.graph.deps_of(other, ov) {
                let broken = match &d {
                    Dependency::Key(k) => k == key,
                    Dependency::AnyOf(ks) => {
                        ks.iter().any(|k| k == key)
                            && !ks.iter().any(|k| k != key && self.map.contains_key(k))
                    }
                };
                if broken {
                    return Err(format!("delete {key}: {other} depends on it").into());
                }
            }
        }
        self.map.remove(key);
        if let (i, Some(j)) = Graph::parse(key) {
            self.map.get_mut(&top(i)).unwrap().0.kids.remove(&j);
        }
        self.log.push(format!("DELETE {key}"));
        Ok(())
    }

    pub fn update(&mut self, key: &str, old: &Tv, new: &Tv) -> Result<(), OpError> {
        self.tick()?;
        let Some((cur, _)) = self.map.get(key) else {
            return Err(format!("update {key}: missing").into());
        };
        if cur.v != old.v || cur.imm != old.imm {
            return Err(format!("update {key}: stale value {old:?}, have {cur:?}").into());
        }
        if new.imm != cur.imm {
            return Err(format!("update {key}: immutable field changed").into());
        }
        self.check_deps(key, new)?;
        self.map.get_mut(key).unwrap().0.v = new.v;
        if let (i, Some(j)) = Graph::parse(key) {
            self.map.get_mut(&top(i)).unwrap().0.kids.insert(j, new.v);
        }
        self.log.push(format!("UPDATE {key}"));
        Ok(())
    }

    /// Top-level values (kids are derived by the engine), as a descriptor retrieves them.
    pub fn retrieve(&self) -> Vec<Retrieved<Tv>> {
        self.map
            .iter()
            .filter(|(k, _)| !k.contains('/'))
            .map(|(k, (v, owned))| Retrieved {
                key: k.clone(),
                value: v.clone(),
                owned: *owned,
            })
            .collect()
    }

    /// Every key with its (v, imm), kids included, ignoring ownership.
    pub fn contents(&self) -> BTreeMap<String, (u8, u8)> {
        self.map
            .iter()
            .map(|(k, (v, _))| (k.clone(), (v.v, v.imm)))
            .collect()
    }
}

/// The descriptor of every `n...` key.
pub struct NodeDesc {
    pub graph: Arc<Graph>,
}

impl Descriptor<Tv, Store> for NodeDesc {
    fn name(&self) -> &'static str {
        "node"
    }
    fn handles(&self, key: &str) -> bool {
        key.starts_with('n')
    }
    fn dependencies(&self, key: &str, value: &Tv) -> Vec<Dependency> {
        match Graph::parse(key) {
            (_, None) => self.graph.deps_of(key, value),
            (_, Some(_)) => Vec::new(), // the engine adds the parent
        }
    }
    fn derived(&self, key: &str, value: &Tv) -> Vec<(String, Tv)> {
        match Graph::parse(key) {
            (i, None) => value
                .kids
                .iter()
                .map(|(&j, &v)| (kid(i, j), Tv::new(v, 0)))
                .collect(),
            _ => Vec::new(),
        }
    }
    fn equivalent(&self, _key: &str, desired: &Tv, actual: &Tv) -> bool {
        desired.v == actual.v && desired.imm == actual.imm
    }
    fn change_kind(&self, _key: &str, old: &Tv, new: &Tv) -> ChangeKind {
        if old.imm != new.imm {
            ChangeKind::Recreate
        } else {
            ChangeKind::Update
        }
    }
    fn describe_change(&self, _key: &str, old: &Tv, new: &Tv) -> String {
        if old.imm != new.imm {
            "field imm differs".into()
        } else {
            "field v differs".into()
        }
    }
    fn create<'a>(
        &'a self,
        ctx: &'a mut Store,
        key: &'a str,
        value: &'a Tv,
    ) -> BoxFuture<'a, Result<(), OpError>> {
        Box::pin(async move { ctx.create(key, value) })
    }
    fn update<'a>(
        &'a self,
        ctx: &'a mut Store,
        key: &'a str,
        old: &'a Tv,
        new: &'a Tv,
    ) -> BoxFuture<'a, Result<(), OpError>> {
        Box::pin(async move { ctx.update(key, old, new) })
    }
    fn delete<'a>(
        &'a self,
        ctx: &'a mut Store,
        key: &'a str,
        value: &'a Tv,
    ) -> BoxFuture<'a, Result<(), OpError>> {
        Box::pin(async move { ctx.delete(key, value) })
    }
    fn retrieve<'a>(
        &'a self,
        ctx: &'a mut Store,
    ) -> BoxFuture<'a, Result<Vec<Retrieved<Tv>>, OpError>> {
        Box::pin(async move { Ok(ctx.retrieve()) })
    }
}

pub fn node_engine(graph: &Arc<Graph>) -> Engine<Tv, Store> {
    let mut e = Engine::new();
    e.register(NodeDesc {
        graph: graph.clone(),
    });
    e
}

pub fn scope(prefixes: &[&str]) -> PlanOptions {
    PlanOptions {
        scope: prefixes.iter().map(|s| s.to_string()).collect(),
        ..PlanOptions::default()
    }
}

/// (kind label, key) of each op, for compact assertions.
pub fn summary<V>(ops: &[reconcile::Op<V>]) -> Vec<String> {
    ops.iter()
        .map(|o| format!("{} {}", o.label(), o.key))
        .collect()
}
