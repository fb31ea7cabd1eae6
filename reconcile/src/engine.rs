//! The engine: registered descriptors, plan, retrieve, apply (with rollback), verify.

use std::fmt::Debug;

use crate::descriptor::{Descriptor, OpError};
use crate::plan::{self, descriptor_index, Op, OpKind, Plan, PlanError, PlanOptions};
use crate::state::State;

/// Options of [`Engine::apply`].
#[derive(Debug, Clone, Default)]
pub struct ApplyOptions {
    /// On the first failure, send the inverse of each applied op in reverse order.
    pub rollback: bool,
}

/// What [`Engine::apply`] did.
#[derive(Debug)]
pub struct ApplyReport<V> {
    /// The ops that succeeded, in order.
    pub applied: Vec<Op<V>>,
    /// The op that failed and the error text.
    pub failed: Option<(Op<V>, String)>,
    /// Inverse ops sent (in the order sent).
    pub rolled_back: Vec<Op<V>>,
    /// The inverse op that failed (rollback stops there) and the error text.
    pub rollback_failed: Option<(Op<V>, String)>,
}

impl<V> ApplyReport<V> {
    /// Every op succeeded.
    pub fn ok(&self) -> bool {
        self.failed.is_none() && self.rollback_failed.is_none()
    }
}

/// The inverse of an applied op: Create -> Delete, Delete -> Create(old), Update -> Update(new -> old).
pub fn inverse<V: Clone>(op: &Op<V>) -> Op<V> {
    let kind = match op.kind {
        OpKind::Create => OpKind::Delete,
        OpKind::Delete => OpKind::Create,
        OpKind::Update => OpKind::Update,
    };
    Op {
        key: op.key.clone(),
        kind,
        descriptor: op.descriptor,
        value: op.old.clone(),
        old: op.value.clone(),
        recreate: op.recreate,
        was_pending: false,
        derived_from: op.derived_from.clone(),
        reason: format!("revert {}", op.label()),
    }
}

/// A set of descriptors (one per kind of value) and the operations over them.
pub struct Engine<V, C> {
    descriptors: Vec<Box<dyn Descriptor<V, C>>>,
}

impl<V: Clone + PartialEq + Debug, C> Default for Engine<V, C> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V: Clone + PartialEq + Debug, C> Engine<V, C> {
    /// An engine without descriptors.
    pub fn new() -> Self {
        Engine {
            descriptors: Vec::new(),
        }
    }

    /// Adds a descriptor; for each key the first registered descriptor that handles it is used.
    pub fn register(&mut self, d: impl Descriptor<V, C> + 'static) -> &mut Self {
        self.descriptors.push(Box::new(d));
        self
    }

    /// The descriptor that handles `key`.
    pub fn descriptor_for(&self, key: &str) -> Option<&dyn Descriptor<V, C>> {
        descriptor_index(&self.descriptors, key).map(|i| &*self.descriptors[i])
    }

    /// Expands derived values (recursively), diffs, orders. Pure: sends nothing.
    /// See the crate documentation for the exact semantics.
    pub fn plan(
        &self,
        desired: &State<V>,
        actual: &State<V>,
        opts: &PlanOptions,
    ) -> Result<Plan<V>, PlanError> {
        plan::plan(&self.descriptors, desired, actual, opts)
    }

    /// Calls every descriptor's retrieve (in registration order) into one State.
    /// A key retrieved twice (by two descriptors, or twice by one) is an error.
    pub async fn retrieve(&self, ctx: &mut C) -> Result<State<V>, OpError> {
        let mut state = State::new();
        for d in &self.descriptors {
            for r in d.retrieve(ctx).await? {
                if state.contains(&r.key) {
                    return Err(format!(
                        "key {:?} retrieved twice (descriptor {})",
                        r.key,
                        d.name()
                    )
                    .into());
                }
                state.insert_entry(r.key, r.value, r.owned);
            }
        }
        Ok(state)
    }

    async fn run(&self, op: &Op<V>, ctx: &mut C) -> Result<(), OpError> {
        let d = self
            .descriptor_for(&op.key)
            .ok_or_else(|| format!("no descriptor handles key {:?}", op.key))?;
        let missing = |what: &str| -> OpError {
            format!("{} of {:?} has no {what}", op.label(), op.key).into()
        };
        match op.kind {
            OpKind::Create => {
                let v = op.value.as_ref().ok_or_else(|| missing("value"))?;
                d.create(ctx, &op.key, v).await
            }
            OpKind::Update => {
                let old = op.old.as_ref().ok_or_else(|| missing("old value"))?;
                let new = op.value.as_ref().ok_or_else(|| missing("value"))?;
                d.update(ctx, &op.key, old, new).await
            }
            OpKind::Delete => {
                let old = op.old.as_ref().ok_or_else(|| missing("old value"))?;
                d.delete(ctx, &op.key, old).await
            }
        }
    }

    /// Runs the ops in order; stops at the first error; with opts.rollback sends the inverse of
    /// each applied op in reverse order (Create->Delete, Delete->Create(old),
    /// Update->Update(new->old)). The failed op itself is not reverted (it may have done
    /// nothing, or part of its work). Rollback stops at its first error.
    pub async fn apply(&self, plan: &Plan<V>, ctx: &mut C, opts: &ApplyOptions) -> ApplyReport<V> {
        let mut report = ApplyReport {
            applied: Vec::new(),
            failed: None,
            rolled_back: Vec::new(),
            rollback_failed: None,
        };
        for op in &plan.ops {
            match self.run(op, ctx).await {
                Ok(()) => report.applied.push(op.clone()),
                Err(e) => {
                    report.failed = Some((op.clone(), e.to_string()));
                    break;
                }
            }
        }
        if report.failed.is_some() && opts.rollback {
            for op in report.applied.iter().rev() {
                let inv = inverse(op);
                match self.run(&inv, ctx).await {
                    Ok(()) => report.rolled_back.push(inv),
                    Err(e) => {
                        report.rollback_failed = Some((inv, e.to_string()));
                        break;
                    }
                }
            }
        }
        report
    }

    /// Plans again against a fresh actual state: the remaining ops are the differences.
    pub fn verify(
        &self,
        desired: &State<V>,
        actual: &State<V>,
        opts: &PlanOptions,
    ) -> Result<Vec<Op<V>>, PlanError> {
        Ok(self.plan(desired, actual, opts)?.ops)
    }
}
