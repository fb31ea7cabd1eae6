//! Read, plan, dry-run or apply, verify (operator-tools.md §5.4): the one path every mutating
//! command takes, so a dry run is exact and a second run plans nothing.

use std::time::Instant;

use reconcile::{ApplyOptions, Engine, OpKind, Plan, PlanOptions, State};
use serde_json::Value as Json;

use crate::descriptors;
use crate::model::{key, Item};
use crate::output::{BlockedOut, OpOut, PendingOut, Step};
use crate::vpp::Vpp;

/// How a reconcile runs.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub plan: PlanOptions,
    /// Send the inverse of every applied operation when one fails.
    pub rollback: bool,
}

/// The state read from VPP (one dump round).
pub async fn read<V>(engine: &Engine<V, Vpp>, vpp: &mut Vpp) -> Result<State<V>, String>
where
    V: Clone + PartialEq + std::fmt::Debug,
{
    vpp.invalidate();
    engine.retrieve(vpp).await.map_err(|e| e.to_string())
}

fn op_name(k: OpKind) -> &'static str {
    match k {
        OpKind::Create => "CREATE",
        OpKind::Update => "UPDATE",
        OpKind::Delete => "DELETE",
    }
}

/// Plans `desired` against `actual` and, unless `vpp` is in dry-run mode, applies and verifies.
/// Messages are attributed to the operations that sent them.
pub async fn reconcile<V>(
    name: &str,
    vpp: &mut Vpp,
    engine: &Engine<V, Vpp>,
    desired: &State<V>,
    actual: &State<V>,
    opts: &RunOptions,
) -> Step
where
    V: Clone + PartialEq + std::fmt::Debug + serde::Serialize,
{
    let mut step = Step {
        name: name.into(),
        dry_run: vpp.opts.dry_run,
        ..Default::default()
    };
    let t = Instant::now();
    let plan = match engine.plan(desired, actual, &opts.plan) {
        Ok(p) => p,
        Err(e) => {
            step.error = Some(format!("planning failed: {e}"));
            return step;
        }
    };
    step.timings_ms.plan = ms(t);
    describe_plan(&mut step, &plan);
    if !plan.blocked.is_empty() && plan.ops.is_empty() {
        return step;
    }
    // Interfaces this plan deletes: what hangs off them goes with them.
    vpp.doomed = plan
        .ops
        .iter()
        .filter(|o| o.kind == OpKind::Delete && o.key.split('/').count() == 2)
        .filter_map(|o| key::iface_of(&o.key).map(str::to_string))
        .collect();
    let first_msg = vpp.sent.len();
    let t = Instant::now();
    let report = engine
        .apply(
            &plan,
            vpp,
            &ApplyOptions {
                rollback: opts.rollback,
            },
        )
        .await;
    step.timings_ms.apply = ms(t);
    vpp.current_key = None;
    vpp.doomed.clear();
    // Attribute the messages: each carries the key of the op that sent it, in order.
    let mut msgs = vpp.sent[first_msg..].iter().cloned().peekable();
    let n_applied = report.applied.len();
    for (i, o) in step.ops.iter_mut().enumerate() {
        o.state = if i < n_applied {
            if vpp.opts.dry_run { "planned" } else { "done" }.into()
        } else if report.failed.is_some() && i == n_applied {
            "failed".into()
        } else {
            "not-run".into()
        };
        if i <= n_applied {
            while let Some(m) = msgs.next_if(|m| m.key.as_deref() == Some(o.key.as_str())) {
                o.messages.push(m);
            }
        }
    }
    if let Some((op, err)) = &report.failed {
        step.error = Some(format!("{} {}: {err}", op_name(op.kind), op.key));
    }
    for r in &report.rolled_back {
        step.rolled_back
            .push(format!("{} {}", op_name(r.kind), r.key));
    }
    if let Some((op, err)) = &report.rollback_failed {
        step.error = Some(format!(
            "{}; rollback failed at {} {}: {err}",
            step.error.clone().unwrap_or_default(),
            op_name(op.kind),
            op.key
        ));
    }
    // Nothing applied: the state just read is the read-back.
    if vpp.opts.dry_run || report.failed.is_some() || plan.ops.is_empty() {
        return step;
    }
    let t = Instant::now();
    match read(engine, vpp).await {
        Ok(after) => match engine.verify(desired, &after, &opts.plan) {
            Ok(diffs) => {
                step.differences = diffs
                    .iter()
                    .map(|o| format!("{} {} ({})", op_name(o.kind), o.key, o.reason))
                    .collect()
            }
            Err(e) => step.error = Some(format!("verification failed: {e}")),
        },
        Err(e) => step.error = Some(format!("read-back failed: {e}")),
    }
    step.timings_ms.verify = ms(t);
    step
}

fn describe_plan<V: serde::Serialize>(step: &mut Step, plan: &Plan<V>) {
    step.ops = plan
        .ops
        .iter()
        .map(|o| OpOut {
            key: o.key.clone(),
            op: op_name(o.kind).into(),
            recreate: o.recreate,
            was_pending: o.was_pending,
            reason: o.reason.clone(),
            state: "planned".into(),
            value: o
                .value
                .as_ref()
                .or(o.old.as_ref())
                .and_then(|v| serde_json::to_value(v).ok())
                .unwrap_or(Json::Null),
            messages: Vec::new(),
        })
        .collect();
    step.pending = plan
        .pending
        .iter()
        .map(|p| PendingOut {
            key: p.key.clone(),
            missing: p
                .missing
                .iter()
                .map(|d| match d {
                    reconcile::Dependency::Key(k) => k.clone(),
                    reconcile::Dependency::AnyOf(ks) => format!("any of {}", ks.join(", ")),
                })
                .collect(),
        })
        .collect();
    step.blocked = plan
        .blocked
        .iter()
        .map(|b| BlockedOut {
            key: b.key.clone(),
            reason: b.reason.clone(),
        })
        .collect();
}

fn ms(t: Instant) -> f64 {
    (t.elapsed().as_secs_f64() * 1e6).round() / 1e3
}

/// The engine with the eVPN descriptors.
pub fn engine() -> Engine<Item, Vpp> {
    descriptors::engine()
}
