//! What a command prints: one JSON document with `--json`, else a table; and its exit code
//! (operator-tools.md §6.3).

use std::time::SystemTime;

use serde::Serialize;
use serde_json::Value as Json;

use crate::vpp::Sent;

/// Exit codes.
pub mod exit {
    /// Converged: the read-back equals the desired state.
    pub const CONVERGED: i32 = 0;
    /// An error: a VPP retval, the transport, a missing capability, a failed verification.
    pub const ERROR: i32 = 1;
    /// Bad input: flags, a YAML or TOML file, a refused value.
    pub const BAD_INPUT: i32 = 2;
    /// Converged, but a person is needed: an unowned object in the way, PENDING values under
    /// `--strict`, a move in which both BVIs held the vMAC.
    pub const NEEDS_PERSON: i32 = 3;
}

/// One operation of a plan, as printed.
#[derive(Debug, Clone, Serialize)]
pub struct OpOut {
    pub key: String,
    /// CREATE, UPDATE or DELETE.
    pub op: String,
    pub recreate: bool,
    pub was_pending: bool,
    pub reason: String,
    /// planned (dry run), done, failed, not-run, rolled-back.
    pub state: String,
    pub value: Json,
    pub messages: Vec<Sent>,
}

/// A value waiting for a dependency.
#[derive(Debug, Clone, Serialize)]
pub struct PendingOut {
    pub key: String,
    pub missing: Vec<String>,
}

/// A value in the way that the tool does not own.
#[derive(Debug, Clone, Serialize)]
pub struct BlockedOut {
    pub key: String,
    pub reason: String,
}

/// The result of one reconcile (a command may run several: `bvi move` runs two).
#[derive(Debug, Clone, Serialize, Default)]
pub struct Step {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpp: Option<String>,
    pub dry_run: bool,
    pub ops: Vec<OpOut>,
    pub pending: Vec<PendingOut>,
    pub blocked: Vec<BlockedOut>,
    /// Mutating messages sent outside the plan (GARP, flush).
    pub extra_messages: Vec<Sent>,
    /// What the read-back still found different (empty = converged).
    pub differences: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rolled_back: Vec<String>,
    /// Timings in milliseconds: read, plan, apply, verify.
    pub timings_ms: Timings,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Timings {
    pub read: f64,
    pub plan: f64,
    pub apply: f64,
    pub verify: f64,
}

impl Step {
    /// Messages that changed (or would change) VPP.
    pub fn mutating_messages(&self) -> usize {
        self.ops.iter().map(|o| o.messages.len()).sum::<usize>() + self.extra_messages.len()
    }
}

/// A whole command's report.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Report {
    pub command: String,
    pub steps: Vec<Step>,
    /// converged, error, needs-person.
    pub result: String,
    pub exit_code: i32,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// What converged but needs a person (exit 3), e.g. both BVIs holding the vMAC.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub needs_person: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Report {
    pub fn new(command: &str) -> Self {
        Report {
            command: command.into(),
            ..Default::default()
        }
    }

    /// Sets the exit code from the steps: an error anywhere is 1; blocked values (or pending
    /// ones under `strict`) are 3.
    pub fn finish(&mut self, strict: bool) {
        let failed = self.error.is_some()
            || self
                .steps
                .iter()
                .any(|s| s.error.is_some() || !s.differences.is_empty());
        let person = !self.needs_person.is_empty()
            || self.steps.iter().any(|s| !s.blocked.is_empty())
            || (strict && self.steps.iter().any(|s| !s.pending.is_empty()));
        self.exit_code = if failed {
            exit::ERROR
        } else if person {
            exit::NEEDS_PERSON
        } else {
            exit::CONVERGED
        };
        self.result = match self.exit_code {
            exit::CONVERGED => "converged",
            exit::NEEDS_PERSON => "needs-person",
            _ => "error",
        }
        .into();
    }

    /// The text for a human.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for s in &self.steps {
            let n = s.ops.len();
            let head = match &s.vpp {
                Some(v) => format!("{} ({v})", s.name),
                None => s.name.clone(),
            };
            out.push_str(&format!(
                "{head}: {n} operation{}{}\n",
                if n == 1 { "" } else { "s" },
                if s.dry_run {
                    " (dry run: nothing sent)"
                } else {
                    ""
                }
            ));
            for (i, o) in s.ops.iter().enumerate() {
                let mut tags = String::new();
                if o.recreate {
                    tags.push_str(" [RECREATE]");
                }
                if o.was_pending {
                    tags.push_str(" [WAS-PENDING]");
                }
                out.push_str(&format!(
                    "  {:>3}. {}{tags} {}  ({}; {})\n",
                    i + 1,
                    o.op,
                    o.key,
                    o.reason,
                    o.state
                ));
                for m in &o.messages {
                    out.push_str(&format!("         -> {} {}\n", m.message, m.args));
                }
            }
            for m in &s.extra_messages {
                out.push_str(&format!("       -> {} {}\n", m.message, m.args));
            }
            for p in &s.pending {
                out.push_str(&format!(
                    "  [PENDING] {} (waiting for {})\n",
                    p.key,
                    p.missing.join(", ")
                ));
            }
            for b in &s.blocked {
                out.push_str(&format!("  [BLOCKED] {}: {}\n", b.key, b.reason));
            }
            for d in &s.differences {
                out.push_str(&format!("  [DIFFERS AFTER APPLY] {d}\n"));
            }
            for r in &s.rolled_back {
                out.push_str(&format!("  [ROLLED BACK] {r}\n"));
            }
            if let Some(e) = &s.error {
                out.push_str(&format!("  error: {e}\n"));
            }
        }
        for w in &self.warnings {
            out.push_str(&format!("warning: {w}\n"));
        }
        for p in &self.needs_person {
            out.push_str(&format!("needs a person: {p}\n"));
        }
        if let Some(e) = &self.error {
            out.push_str(&format!("error: {e}\n"));
        }
        out.push_str(&format!(
            "result: {} (exit {})\n",
            self.result, self.exit_code
        ));
        out
    }
}

/// RFC 3339 time stamp in UTC with microseconds.
pub fn rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_micros()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn rfc3339_dates() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_798_761_600);
        assert_eq!(rfc3339(t), "2027-01-01T00:00:00.000000Z");
        let t = SystemTime::UNIX_EPOCH + Duration::from_micros(951_782_400_000_001);
        assert_eq!(rfc3339(t), "2000-02-29T00:00:00.000001Z");
    }

    #[test]
    fn exit_codes() {
        let mut r = Report::new("x");
        r.steps.push(Step::default());
        r.finish(false);
        assert_eq!((r.exit_code, r.result.as_str()), (0, "converged"));
        r.steps[0].pending.push(PendingOut {
            key: "a".into(),
            missing: vec![],
        });
        r.finish(false);
        assert_eq!(r.exit_code, 0);
        r.finish(true);
        assert_eq!(r.exit_code, 3);
        r.steps[0].differences.push("a".into());
        r.finish(true);
        assert_eq!(r.exit_code, 1);
    }
}
