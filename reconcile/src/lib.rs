//! A declarative reconcile engine in the style of Ligato vpp-agent's KV scheduler, with
//! vppcfg's read-once / plan / apply / verify flow. It knows nothing about VPP: each kind of
//! value is a [`Descriptor`] (create, update, delete, retrieve, dependencies, derived values),
//! and the engine is unit-testable against any context `C`.
//!
//! # Why
//!
//! Imperative configuration code has to know, for every change, what to delete first, what to
//! create after, and what to do when something it needs is missing. Stating the *desired* state
//! and letting one engine compute the difference to the *actual* state (read once, planned in
//! memory) makes dry runs exact and free, makes the order a property of the dependency graph
//! rather than of each command, and makes a re-run a no-op (idempotence).
//!
//! A complete example (interfaces, a bridge domain with derived members, an l2fib entry that
//! stays PENDING until its interface appears) is in `tests/ligato.rs`; `tests/common/mod.rs`
//! has an in-memory context whose operations check every dependency rule.
//!
//! # Flow
//!
//! [`Engine::retrieve`] reads the actual state once; [`Engine::plan`] (pure) diffs and orders;
//! [`format_plan`] prints it (dry run); [`Engine::apply`] runs it (optionally rolling back on
//! failure); [`Engine::verify`] plans again against a fresh read: what is left is a difference.
//! A long-running user keeps PENDING values between runs with a [`Scheduler`].
//!
//! # Semantics
//!
//! **Expansion.** Desired and actual are both expanded with derived values ([`Descriptor::derived`]),
//! recursively. Each derived key gets the first registered descriptor whose `handles` accepts it
//! (none: [`PlanError::NoDescriptor`]), implicitly depends on its parent, and in the actual state
//! inherits the parent's `owned`. A derived key that is also an explicit key (or derived by
//! another parent) must carry an equal value ([`PlanError::DerivedConflict`] otherwise); it then
//! counts as derived from its (first) parent. `owned` of desired entries is ignored.
//!
//! **Diff, per key.**
//! - desired, not actual: Create ("missing").
//! - actual, not desired: Delete ("not desired") only if *prunable*: inside the scope
//!   (segment-aware prefixes of [`PlanOptions::scope`], judged on the key of the value's root
//!   parent, so derived values follow their parent) and owned, or `prune_unowned`. A derived
//!   value whose parent (or an ancestor) is desired is judged by that parent instead of the scope:
//!   the desired parent is authoritative for its derived values, so a BD member that is no longer
//!   listed is deleted, if owned (or `prune_unowned`, or `adopt_unowned`). Otherwise the value is
//!   left alone, silently.
//! - both, and not [`Descriptor::equivalent`]: if the actual value is not owned and not
//!   `adopt_unowned`: [`Blocked`], no op. Else per [`Descriptor::change_kind`]: Update in place,
//!   or Recreate (Delete then Create, both `recreate = true`), the reason from
//!   [`Descriptor::describe_change`].
//!
//! **Dependencies and PENDING.** A dependency `Key(k)` is satisfied by `k`; `AnyOf(ks)` by any of
//! `ks` (an empty `AnyOf` never). For a desired value, a key satisfies it if it is desired and not
//! itself pending, or actual and not being deleted. A desired value with an unsatisfied dependency
//! is PENDING: not an error, listed in [`Plan::pending`] with the missing dependencies, and its
//! dependents are pending too. A pending value that exists (with an old value) is deleted
//! ("new value pending"), as Ligato does, unless it must be kept (below; then it is also
//! reported [`Blocked`] and its old value keeps satisfying its dependents).
//!
//! **Deleting and recreating.** Deleting or recreating a value first deletes every existing value
//! that depends on it (transitively, through the *actual* values' dependencies; an `AnyOf` only
//! when none of its keys remains). Dependents that are still desired (and not pending) are created
//! again after the parent (`recreate = true`, reason "dependency X recreated"). A value is never
//! deleted while an existing value still depends on it.
//!
//! **Kept values.** Some actual values must survive: those not desired and not prunable (out of
//! scope, or unowned without `prune_unowned`), and unowned desired values without
//! `adopt_unowned`; so must everything they depend on (for an `AnyOf`, every existing option).
//! A delete or recreate that would remove a kept value is not planned: the key is reported
//! [`Blocked`] ("... but X depends on it and must be kept") and keeps its actual value.
//!
//! **Order.** All deletes first, a value after every deleted value that depends on it (children
//! before parents); then creates and updates, a value after every created/updated value it
//! depends on (parents first; for an `AnyOf`, after all of its created options). Ties (and so
//! the whole order) follow [`key_cmp`]; the plan is a pure function of its inputs.
//! A cycle among desired values (counting every desired `AnyOf` option) is
//! [`PlanError::Cycle`], even when it runs through pending values.
//!
//! **Idempotence.** After a successful apply, planning again with the resulting actual state has
//! no ops: every desired, non-pending, non-blocked value exists and is equivalent; pending values
//! stay pending; blocked values stay blocked. One exception, inherent in running every delete
//! before any update: when a value that must be kept (see above) is updated to a value that no
//! longer depends on something that needs a delete or recreate, that delete or recreate is
//! Blocked in this run (the old value still depends on it when deletes run) and planned in the
//! next one, which then converges.
//!
//! **Apply.** Ops run in order; the first error stops the run. With [`ApplyOptions::rollback`]
//! the inverse of each applied op is sent in reverse order (Create->Delete, Delete->Create(old),
//! Update->Update(new->old)); the failed op itself is not reverted, and the rollback stops at its
//! own first error.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod descriptor;
mod engine;
mod key;
mod log;
mod plan;
mod scheduler;
mod state;

pub use descriptor::{BoxFuture, ChangeKind, Dependency, Descriptor, OpError, Retrieved};
pub use engine::{inverse, ApplyOptions, ApplyReport, Engine};
pub use key::{in_scope, key_cmp};
pub use log::{format_plan, format_report};
pub use plan::{Blocked, Op, OpKind, Pending, Plan, PlanError, PlanOptions};
pub use scheduler::Scheduler;
pub use state::{Entry, State};
