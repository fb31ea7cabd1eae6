//! Pending values kept between plans.

use std::collections::BTreeSet;
use std::fmt::Debug;

use crate::engine::Engine;
use crate::plan::{Plan, PlanError, PlanOptions};
use crate::state::State;

/// Keeps the pending set between plans for long-running users (a daemon retries PENDING values
/// on events): [`Scheduler::plan`] fills `previously_pending` from the last plan and remembers the
/// new pending set.
pub struct Scheduler<V, C> {
    engine: Engine<V, C>,
    pending: BTreeSet<String>,
}

impl<V: Clone + PartialEq + Debug, C> Scheduler<V, C> {
    /// A scheduler over `engine`, with nothing pending.
    pub fn new(engine: Engine<V, C>) -> Self {
        Scheduler {
            engine,
            pending: BTreeSet::new(),
        }
    }

    /// The engine (for retrieve, apply, verify).
    pub fn engine(&self) -> &Engine<V, C> {
        &self.engine
    }

    /// The engine, mutably (to register more descriptors).
    pub fn engine_mut(&mut self) -> &mut Engine<V, C> {
        &mut self.engine
    }

    /// Plans with `previously_pending` = the pending keys of the last plan (plus any in `opts`),
    /// then remembers this plan's pending keys. A failed plan changes nothing.
    pub fn plan(
        &mut self,
        desired: &State<V>,
        actual: &State<V>,
        opts: &PlanOptions,
    ) -> Result<Plan<V>, PlanError> {
        let mut opts = opts.clone();
        opts.previously_pending.extend(self.pending.iter().cloned());
        let plan = self.engine.plan(desired, actual, &opts)?;
        self.pending = plan.pending.iter().map(|p| p.key.clone()).collect();
        Ok(plan)
    }

    /// The keys PENDING in the last plan.
    pub fn pending_keys(&self) -> &BTreeSet<String> {
        &self.pending
    }

    /// Forgets the pending set (e.g. after the desired state was replaced).
    pub fn clear_pending(&mut self) {
        self.pending.clear();
    }
}
