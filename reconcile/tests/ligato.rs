//! Ligato's L2 walk-through (operator-tools.md §5.4) and the transaction-log format.

mod common;

use common::block_on;
use reconcile::{
    format_plan, format_report, ApplyOptions, BoxFuture, Dependency, Descriptor, Engine, OpError,
    OpKind, PlanOptions, Retrieved, Scheduler, State,
};

#[derive(Debug, Clone, PartialEq)]
enum L2 {
    Iface,
    Bd { learn: bool, members: Vec<String> },
    Member,
    Fib { iface: String },
}

/// One descriptor type for the four kinds, told apart by `kind`; create/update/delete only
/// record what they were asked to do.
struct Kind {
    kind: &'static str,
}

fn bd_of(key: &str) -> &str {
    key.split('/').nth(1).unwrap()
}

impl Descriptor<L2, Vec<String>> for Kind {
    fn name(&self) -> &'static str {
        self.kind
    }
    fn handles(&self, key: &str) -> bool {
        let segs: Vec<&str> = key.split('/').collect();
        match self.kind {
            "interface" => segs[0] == "interface",
            "bd" => segs[0] == "bd" && segs.len() == 2,
            "bd-member" => segs[0] == "bd" && segs.len() == 4 && segs[2] == "member",
            "l2fib" => segs[0] == "l2fib",
            _ => false,
        }
    }
    fn dependencies(&self, key: &str, value: &L2) -> Vec<Dependency> {
        match value {
            L2::Member => vec![Dependency::Key(format!(
                "interface/{}",
                key.rsplit('/').next().unwrap()
            ))],
            L2::Fib { iface } => vec![Dependency::Key(format!("bd/{}/member/{iface}", bd_of(key)))],
            _ => Vec::new(),
        }
    }
    fn derived(&self, key: &str, value: &L2) -> Vec<(String, L2)> {
        match value {
            L2::Bd { members, .. } => members
                .iter()
                .map(|m| (format!("{key}/member/{m}"), L2::Member))
                .collect(),
            _ => Vec::new(),
        }
    }
    fn equivalent(&self, _key: &str, desired: &L2, actual: &L2) -> bool {
        match (desired, actual) {
            // Members are derived values, compared on their own.
            (L2::Bd { learn: a, .. }, L2::Bd { learn: b, .. }) => a == b,
            _ => desired == actual,
        }
    }
    fn create<'a>(
        &'a self,
        ctx: &'a mut Vec<String>,
        key: &'a str,
        _v: &'a L2,
    ) -> BoxFuture<'a, Result<(), OpError>> {
        Box::pin(async move {
            ctx.push(format!("create {key}"));
            Ok(())
        })
    }
    fn update<'a>(
        &'a self,
        ctx: &'a mut Vec<String>,
        key: &'a str,
        _old: &'a L2,
        _new: &'a L2,
    ) -> BoxFuture<'a, Result<(), OpError>> {
        Box::pin(async move {
            ctx.push(format!("update {key}"));
            Ok(())
        })
    }
    fn delete<'a>(
        &'a self,
        ctx: &'a mut Vec<String>,
        key: &'a str,
        _v: &'a L2,
    ) -> BoxFuture<'a, Result<(), OpError>> {
        Box::pin(async move {
            ctx.push(format!("delete {key}"));
            Ok(())
        })
    }
    fn retrieve<'a>(
        &'a self,
        _ctx: &'a mut Vec<String>,
    ) -> BoxFuture<'a, Result<Vec<Retrieved<L2>>, OpError>> {
        Box::pin(async move { Ok(Vec::new()) })
    }
}

fn engine() -> Engine<L2, Vec<String>> {
    let mut e = Engine::new();
    for kind in ["interface", "bd", "bd-member", "l2fib"] {
        e.register(Kind { kind });
    }
    e
}

const FIB: &str = "l2fib/1/62:89:0a:00:00:01";

fn desired() -> State<L2> {
    let mut s = State::new();
    s.insert(
        "bd/1",
        L2::Bd {
            learn: true,
            members: vec!["if1".into()],
        },
    );
    s.insert(
        FIB,
        L2::Fib {
            iface: "if1".into(),
        },
    );
    s
}

#[test]
fn l2_walkthrough_pending_then_was_pending() {
    let mut sched = Scheduler::new(engine());
    let opts = PlanOptions::default();

    // Run 1: interface if1 (a PHY we cannot create) does not exist.
    let plan = sched.plan(&desired(), &State::new(), &opts).unwrap();
    assert_eq!(plan.ops.len(), 1);
    assert_eq!(plan.ops[0].key, "bd/1");
    assert_eq!(plan.ops[0].kind, OpKind::Create);
    assert!(!plan.ops[0].was_pending);
    let pending: Vec<(&str, Vec<Dependency>)> = plan
        .pending
        .iter()
        .map(|p| (p.key.as_str(), p.missing.clone()))
        .collect();
    assert_eq!(
        pending,
        vec![
            (
                "bd/1/member/if1",
                vec![Dependency::Key("interface/if1".into())]
            ),
            (FIB, vec![Dependency::Key("bd/1/member/if1".into())]),
        ]
    );
    assert_eq!(
        sched.pending_keys().iter().cloned().collect::<Vec<_>>(),
        vec!["bd/1/member/if1".to_string(), FIB.to_string()]
    );
    let mut sent = Vec::new();
    let report = block_on(
        sched
            .engine()
            .apply(&plan, &mut sent, &ApplyOptions::default()),
    );
    assert!(report.ok());
    assert_eq!(sent, vec!["create bd/1"]);

    // Run 2: the interface appeared (not ours); the BD exists without members.
    let mut actual = State::new();
    actual.insert_entry("interface/if1", L2::Iface, false);
    actual.insert(
        "bd/1",
        L2::Bd {
            learn: true,
            members: vec![],
        },
    );
    let plan = sched.plan(&desired(), &actual, &opts).unwrap();
    let labels: Vec<(String, &str)> = plan
        .ops
        .iter()
        .map(|o| (o.label(), o.key.as_str()))
        .collect();
    assert_eq!(
        labels,
        vec![
            ("CREATE [WAS-PENDING]".to_string(), "bd/1/member/if1"),
            ("CREATE [WAS-PENDING]".to_string(), FIB),
        ]
    );
    assert_eq!(plan.ops[0].derived_from.as_deref(), Some("bd/1"));
    assert!(plan.pending.is_empty());
    assert!(sched.pending_keys().is_empty());

    // Run 3: everything in place -> nothing to do.
    actual.insert(
        "bd/1",
        L2::Bd {
            learn: true,
            members: vec!["if1".into()],
        },
    );
    actual.insert(
        FIB,
        L2::Fib {
            iface: "if1".into(),
        },
    );
    let plan = sched.plan(&desired(), &actual, &opts).unwrap();
    assert!(plan.is_empty(), "{plan:?}");
    assert!(plan.pending.is_empty());
}

#[test]
fn plan_log_format() {
    let plan = engine()
        .plan(&desired(), &State::new(), &PlanOptions::default())
        .unwrap();
    let text = format_plan(&plan, "dry run");
    let expected = r#"+==============================================================================+
| dry run
+==============================================================================+
  * planned operations:
    1. CREATE:
        - key: bd/1
        - descriptor: bd
        - reason: missing
        - value: Bd { learn: true, members: ["if1"] }
  * pending values:
    1. [PENDING] bd/1/member/if1:
        - value: Member
        - missing: interface/if1
    2. [PENDING] l2fib/1/62:89:0a:00:00:01:
        - value: Fib { iface: "if1" }
        - missing: bd/1/member/if1
"#;
    assert_eq!(text, expected);
}

#[test]
fn update_log_format() {
    // The BD's learn flag changes (default change_kind: update in place); the member stays.
    let mut actual = State::new();
    actual.insert("interface/if1", L2::Iface);
    actual.insert(
        "bd/1",
        L2::Bd {
            learn: false,
            members: vec!["if1".into()],
        },
    );
    let mut want = State::new();
    want.insert("interface/if1", L2::Iface);
    want.insert(
        "bd/1",
        L2::Bd {
            learn: true,
            members: vec!["if1".into()],
        },
    );
    let plan = engine()
        .plan(&want, &actual, &PlanOptions::default())
        .unwrap();
    let text = format_plan(&plan, "update");
    let expected = r#"+==============================================================================+
| update
+==============================================================================+
  * planned operations:
    1. UPDATE:
        - key: bd/1
        - descriptor: bd
        - reason: value differs
        - prev-value: Bd { learn: false, members: ["if1"] }
        - new-value: Bd { learn: true, members: ["if1"] }
"#;
    assert_eq!(text, expected);

    let mut sent = Vec::new();
    let report = block_on(engine().apply(&plan, &mut sent, &ApplyOptions { rollback: true }));
    let text = format_report(&report, "applied");
    assert!(
        text.contains("    1. UPDATE:\n        - key: bd/1\n"),
        "{text}"
    );
    assert!(text.ends_with("  * result: OK (1 operations)\n"), "{text}");
}

#[test]
fn report_log_format_with_failure_and_revert() {
    struct Failing;
    impl Descriptor<L2, Vec<String>> for Failing {
        fn name(&self) -> &'static str {
            "l2fib"
        }
        fn handles(&self, key: &str) -> bool {
            key.starts_with("l2fib/")
        }
        fn create<'a>(
            &'a self,
            _: &'a mut Vec<String>,
            _: &'a str,
            _: &'a L2,
        ) -> BoxFuture<'a, Result<(), OpError>> {
            Box::pin(async { Err("table full".into()) })
        }
        fn update<'a>(
            &'a self,
            _: &'a mut Vec<String>,
            _: &'a str,
            _: &'a L2,
            _: &'a L2,
        ) -> BoxFuture<'a, Result<(), OpError>> {
            Box::pin(async { Ok(()) })
        }
        fn delete<'a>(
            &'a self,
            _: &'a mut Vec<String>,
            _: &'a str,
            _: &'a L2,
        ) -> BoxFuture<'a, Result<(), OpError>> {
            Box::pin(async { Ok(()) })
        }
        fn retrieve<'a>(
            &'a self,
            _: &'a mut Vec<String>,
        ) -> BoxFuture<'a, Result<Vec<Retrieved<L2>>, OpError>> {
            Box::pin(async { Ok(Vec::new()) })
        }
    }
    let mut e = Engine::new();
    e.register(Failing);
    for kind in ["interface", "bd", "bd-member"] {
        e.register(Kind { kind });
    }
    let mut actual = State::new();
    actual.insert_entry("interface/if1", L2::Iface, false);
    let plan = e
        .plan(&desired(), &actual, &PlanOptions::default())
        .unwrap();
    let mut sent = Vec::new();
    let report = block_on(e.apply(&plan, &mut sent, &ApplyOptions { rollback: true }));
    assert!(!report.ok());
    assert_eq!(
        sent,
        vec![
            "create bd/1",
            "create bd/1/member/if1",
            "delete bd/1/member/if1",
            "delete bd/1"
        ]
    );
    let text = format_report(&report, "apply");
    let expected = r#"+==============================================================================+
| apply
+==============================================================================+
  * executed operations:
    1. CREATE:
        - key: bd/1
        - descriptor: bd
        - reason: missing
        - value: Bd { learn: true, members: ["if1"] }
    2. CREATE:
        - key: bd/1/member/if1
        - descriptor: bd-member
        - derived-from: bd/1
        - reason: missing
        - value: Member
    3. CREATE [FAILED]:
        - key: l2fib/1/62:89:0a:00:00:01
        - descriptor: l2fib
        - reason: missing
        - value: Fib { iface: "if1" }
        - error: table full
  * reverted operations:
    1. DELETE [REVERT]:
        - key: bd/1/member/if1
        - descriptor: bd-member
        - derived-from: bd/1
        - reason: revert CREATE
        - value: Member
    2. DELETE [REVERT]:
        - key: bd/1
        - descriptor: bd
        - reason: revert CREATE
        - value: Bd { learn: true, members: ["if1"] }
  * result: FAILED after 2 operations; 2 reverted
"#;
    assert_eq!(text, expected);
}
