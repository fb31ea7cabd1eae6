//! Ligato-style transaction log text.

use std::fmt::{Debug, Write};

use crate::engine::ApplyReport;
use crate::plan::{Op, OpKind, Plan};

const RULE: &str =
    "+==============================================================================+";

fn header(out: &mut String, title: &str) {
    out.push_str(RULE);
    out.push('\n');
    let _ = writeln!(out, "| {title}");
    out.push_str(RULE);
    out.push('\n');
}

fn op_lines<V: Debug>(
    out: &mut String,
    n: usize,
    op: &Op<V>,
    extra_label: &str,
    error: Option<&str>,
) {
    let _ = writeln!(out, "    {n}. {}{extra_label}:", op.label());
    let _ = writeln!(out, "        - key: {}", op.key);
    let _ = writeln!(out, "        - descriptor: {}", op.descriptor);
    if let Some(p) = &op.derived_from {
        let _ = writeln!(out, "        - derived-from: {p}");
    }
    let _ = writeln!(out, "        - reason: {}", op.reason);
    match op.kind {
        OpKind::Create | OpKind::Delete => {
            let v = if op.kind == OpKind::Create {
                &op.value
            } else {
                &op.old
            };
            if let Some(v) = v {
                let _ = writeln!(out, "        - value: {v:?}");
            }
        }
        OpKind::Update => {
            if let Some(v) = &op.old {
                let _ = writeln!(out, "        - prev-value: {v:?}");
            }
            if let Some(v) = &op.value {
                let _ = writeln!(out, "        - new-value: {v:?}");
            }
        }
    }
    if let Some(e) = error {
        let _ = writeln!(out, "        - error: {e}");
    }
}

/// Ligato-style transaction log text of a plan (dry run): numbered ops "1. CREATE:",
/// `"2. DELETE [RECREATE]:"`, `"CREATE [WAS-PENDING]"`, pending values listed as `"[PENDING]"`
/// with their missing dependencies, blocked values as `"[BLOCKED]"`, values shown with `{:?}`.
pub fn format_plan<V: Debug>(plan: &Plan<V>, title: &str) -> String {
    let mut out = String::new();
    header(&mut out, title);
    if plan.ops.is_empty() {
        out.push_str("  * planned operations: none\n");
    } else {
        out.push_str("  * planned operations:\n");
        for (i, op) in plan.ops.iter().enumerate() {
            op_lines(&mut out, i + 1, op, "", None);
        }
    }
    if !plan.pending.is_empty() {
        out.push_str("  * pending values:\n");
        for (i, p) in plan.pending.iter().enumerate() {
            let _ = writeln!(out, "    {}. [PENDING] {}:", i + 1, p.key);
            let _ = writeln!(out, "        - value: {:?}", p.value);
            let missing: Vec<String> = p.missing.iter().map(ToString::to_string).collect();
            let _ = writeln!(out, "        - missing: {}", missing.join(", "));
        }
    }
    if !plan.blocked.is_empty() {
        out.push_str("  * blocked values:\n");
        for (i, b) in plan.blocked.iter().enumerate() {
            let _ = writeln!(out, "    {}. [BLOCKED] {}:", i + 1, b.key);
            let _ = writeln!(out, "        - reason: {}", b.reason);
        }
    }
    out
}

/// Ligato-style transaction log text of an apply report: the executed ops, the failed one
/// marked `"[FAILED]"` with its error, the reverted ops marked `"[REVERT]"`, and a result line.
pub fn format_report<V: Debug>(report: &ApplyReport<V>, title: &str) -> String {
    let mut out = String::new();
    header(&mut out, title);
    if report.applied.is_empty() && report.failed.is_none() {
        out.push_str("  * executed operations: none\n");
    } else {
        out.push_str("  * executed operations:\n");
        for (i, op) in report.applied.iter().enumerate() {
            op_lines(&mut out, i + 1, op, "", None);
        }
        if let Some((op, e)) = &report.failed {
            op_lines(&mut out, report.applied.len() + 1, op, " [FAILED]", Some(e));
        }
    }
    if !report.rolled_back.is_empty() || report.rollback_failed.is_some() {
        out.push_str("  * reverted operations:\n");
        for (i, op) in report.rolled_back.iter().enumerate() {
            op_lines(&mut out, i + 1, op, " [REVERT]", None);
        }
        if let Some((op, e)) = &report.rollback_failed {
            let n = report.rolled_back.len() + 1;
            op_lines(&mut out, n, op, " [REVERT] [FAILED]", Some(e));
        }
    }
    let result = match (&report.failed, &report.rollback_failed) {
        (None, _) => format!("OK ({} operations)", report.applied.len()),
        (Some(_), None) if !report.rolled_back.is_empty() || report.applied.is_empty() => format!(
            "FAILED after {} operations; {} reverted",
            report.applied.len(),
            report.rolled_back.len()
        ),
        (Some(_), None) => format!(
            "FAILED after {} operations; not reverted",
            report.applied.len()
        ),
        (Some(_), Some(_)) => format!(
            "FAILED after {} operations; revert FAILED after {} reverted",
            report.applied.len(),
            report.rolled_back.len()
        ),
    };
    let _ = writeln!(out, "  * result: {result}");
    out
}
