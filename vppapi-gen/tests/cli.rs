//! The `vppapi-gen` CLI: snapshots of what a user sees on the fixture tree (always), checks on
//! the real VPP trees (when `../shared/vpp-api` exists), and exit codes of the real binary.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command as Process;

use clap::Parser;
use vppapi_gen::cli::{run, Cli, Output};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn fixture_tree() -> PathBuf {
    repo().join("api-json/tests/fixtures/tree")
}

fn real_root() -> Option<PathBuf> {
    let p = std::env::var_os("VPP_API_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared/vpp-api"));
    if p.join("26.06").is_dir() {
        Some(p)
    } else {
        eprintln!(
            "note: {} not found, real-tree CLI checks skipped",
            p.display()
        );
        None
    }
}

/// Runs the CLI in-process with paths shown relative to the repo (stable snapshots).
fn cli(args: &[&str]) -> Output {
    let argv = std::iter::once("vppapi-gen").chain(args.iter().copied());
    let out = run(&Cli::try_parse_from(argv).expect("valid arguments"));
    let root = repo().canonicalize().unwrap();
    let clean = |s: String| {
        s.replace(&format!("{}/", root.display()), "")
            .replace(&format!("{}/", repo().display()), "")
    };
    Output {
        stdout: clean(out.stdout),
        stderr: clean(out.stderr),
        code: out.code,
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn ls_fixture_tree() {
    let t = fixture_tree();
    let out = cli(&["ls", s(&t)]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    insta::assert_snapshot!("ls_fixture", out.stdout);
    let out = cli(&["ls", s(&t), "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    insta::assert_json_snapshot!("ls_fixture_json", v);
    // The per-file counts add up to the total, and every file of the tree is listed.
    let files = v["files"].as_array().unwrap();
    let on_disk = ["core", "plugins"]
        .iter()
        .map(|d| std::fs::read_dir(t.join(d)).unwrap().count())
        .sum::<usize>();
    assert_eq!(files.len(), on_disk);
    let sum: u64 = files.iter().map(|f| f["messages"].as_u64().unwrap()).sum();
    assert_eq!(sum, v["total_messages"].as_u64().unwrap());
}

#[test]
fn ls_versions_fixture_tree() {
    let out = cli(&["ls", "--versions", s(&fixture_tree())]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    insta::assert_snapshot!("ls_versions_fixture", out.stdout);
    // A file without imports: its runtime version is its vl_api_version.
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("core/memclnt.api.json"))
        .unwrap();
    let crc = line
        .split_whitespace()
        .nth(4)
        .unwrap()
        .trim_start_matches("0x");
    assert!(line.ends_with(&format!("memclnt_{crc:0>8}")), "{line}");
}

#[test]
fn show_fixture_message_and_types() {
    let t = fixture_tree();
    for name in [
        "sw_interface_details",
        "address",
        "tap_flags",
        "mac_address",
    ] {
        let out = cli(&["show", s(&t), name]);
        assert_eq!(out.code, 0, "{name}: {}", out.stderr);
        insta::assert_snapshot!(format!("show_fixture_{name}"), out.stdout);
    }
    let out = cli(&["show", s(&t), "sw_interface_details", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    insta::assert_json_snapshot!("show_fixture_sw_interface_details_json", v);
    // by name_crc too
    let by_crc = cli(&["show", s(&t), v["name_crc"].as_str().unwrap()]);
    assert_eq!(by_crc.code, 0);
}

#[test]
fn show_unknown_name_is_an_error() {
    let out = cli(&["show", s(&fixture_tree()), "no_such_message"]);
    assert_eq!(out.code, 2);
    assert!(out.stdout.is_empty());
    assert!(
        out.stderr
            .contains("no message or type named 'no_such_message'"),
        "{}",
        out.stderr
    );
}

#[test]
fn crc_fixture_tree() {
    let out = cli(&["crc", s(&fixture_tree())]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    insta::assert_snapshot!("crc_fixture", out.stdout);
}

/// Copies the fixture tree into a temp dir, applying `edit` to each parsed file.
fn edited_copy(tag: &str, edit: impl Fn(&str, &mut serde_json::Value)) -> PathBuf {
    let dst = std::env::temp_dir().join(format!("vppapi-gen-cli-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dst);
    for sub in ["core", "plugins"] {
        std::fs::create_dir_all(dst.join(sub)).unwrap();
        for e in std::fs::read_dir(fixture_tree().join(sub)).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_str().unwrap().to_string();
            let mut v: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
            edit(&name, &mut v);
            std::fs::write(dst.join(sub).join(&name), v.to_string()).unwrap();
        }
    }
    dst
}

#[test]
fn diff_fixture_tree_against_an_edited_copy() {
    // Remove one message, change another's CRC, add a third (the file CRCs in the copy are then
    // stale on purpose: diff compares stated name+CRC pairs).
    let copy = edited_copy("diff", |name, v| {
        if name == "interface.api.json" {
            let msgs = v["messages"].as_array_mut().unwrap();
            msgs.retain(|m| m[0] != "sw_interface_event");
            let m = msgs
                .iter_mut()
                .find(|m| m[0] == "sw_interface_dump")
                .unwrap();
            let trailer = m.as_array_mut().unwrap().last_mut().unwrap();
            trailer["crc"] = "0x12345678".into();
            v["services"]
                .as_object_mut()
                .unwrap()
                .retain(|_, s| s["events"].is_null());
        }
        if name == "demo.api.json" {
            let msgs = v["messages"].as_array_mut().unwrap();
            let mut extra = msgs[0].clone();
            extra[0] = "demo_brand_new".into();
            msgs.push(extra);
        }
    });
    let out = cli(&["diff", s(&fixture_tree()), s(&copy), "--json"]);
    assert_eq!(out.code, 0, "without --check diff always succeeds");
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["added"], serde_json::json!(["demo_brand_new"]));
    assert_eq!(v["removed"], serde_json::json!(["sw_interface_event"]));
    assert_eq!(v["changed"][0]["name"], "sw_interface_dump");
    assert_eq!(v["changed"][0]["new_crc"], "0x12345678");
    assert_eq!(v["changed"].as_array().unwrap().len(), 1);

    let out = cli(&["diff", s(&fixture_tree()), s(&copy), "--check"]);
    assert_eq!(out.code, 1);
    insta::assert_snapshot!("diff_fixture_text", out.stdout.replace(s(&copy), "COPY"));
    // Same tree: nothing to report, --check passes.
    let same = cli(&["diff", s(&fixture_tree()), s(&fixture_tree()), "--check"]);
    assert_eq!(same.code, 0);
    assert_eq!(same.stdout, "0 added, 0 removed, 0 changed\n");
    let _ = std::fs::remove_dir_all(copy);
}

#[test]
fn crc_detects_a_wrong_stated_crc() {
    let copy = edited_copy("crc", |name, v| {
        if name == "l2.api.json" {
            let m = &mut v["messages"][0];
            let trailer = m.as_array_mut().unwrap().last_mut().unwrap();
            trailer["crc"] = "0xdeadbeef".into();
        }
    });
    let out = cli(&["crc", s(&copy), "--json"]);
    assert_eq!(out.code, 1);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let mism = v["mismatches"].as_array().unwrap();
    assert_eq!(mism.len(), 1, "{v}");
    assert_eq!(mism[0]["stated"], "0xdeadbeef");
    assert_eq!(mism[0]["file"], "core/l2.api.json");
    let _ = std::fs::remove_dir_all(copy);
}

#[test]
fn json_of_idl_fixture() {
    let dir = repo().join("api-json/tests/fixtures/idl");
    let file = dir.join("demo/demo.api");
    let out = cli(&["json", s(&file), "--include", s(&dir)]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["options"]["version"], "2.1.0");
    insta::assert_snapshot!("json_idl_demo", out.stdout);
    // Without the include dir the import cannot be found: a clear error naming the import.
    let out = cli(&["json", s(&file), "--include", "/nonexistent-include-dir"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("demo/demo_types.api"), "{}", out.stderr);
}

/// `name -> set of CRCs` of a release, read straight from the JSON (independent of api-json).
fn name_crcs(tree: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for sub in ["core", "plugins"] {
        for e in std::fs::read_dir(tree.join(sub)).unwrap() {
            let p = e.unwrap().path();
            let v: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
            for m in v["messages"].as_array().unwrap() {
                let m = m.as_array().unwrap();
                let crc = m.last().unwrap()["crc"].as_str().unwrap().to_string();
                out.entry(m[0].as_str().unwrap().to_string())
                    .or_default()
                    .insert(crc);
            }
        }
    }
    out
}

#[test]
fn diff_25_06_to_26_06_matches_independent_truth() {
    let Some(root) = real_root() else { return };
    let (a, b) = (root.join("25.06"), root.join("26.06"));
    let (old, new) = (name_crcs(&a), name_crcs(&b));
    let added: Vec<&String> = new.keys().filter(|k| !old.contains_key(*k)).collect();
    let removed: Vec<&String> = old.keys().filter(|k| !new.contains_key(*k)).collect();
    let changed: Vec<&String> = new
        .iter()
        .filter(|(k, v)| old.get(*k).is_some_and(|o| o != *v))
        .map(|(k, _)| k)
        .collect();

    let out = cli(&["diff", s(&a), s(&b), "--json"]);
    assert_eq!(out.code, 0);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let names = |k: &str| -> Vec<String> {
        v[k].as_array()
            .unwrap()
            .iter()
            .map(|x| {
                x.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| x["name"].as_str().unwrap().to_string())
            })
            .collect()
    };
    assert_eq!(
        names("added"),
        added.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    );
    assert_eq!(
        names("removed"),
        removed.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    );
    assert_eq!(
        names("changed"),
        changed.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    );
    for c in v["changed"].as_array().unwrap() {
        let n = c["name"].as_str().unwrap();
        assert_eq!(
            c["old_crc"].as_str().unwrap(),
            old[n].iter().cloned().collect::<Vec<_>>().join(",")
        );
        assert_eq!(
            c["new_crc"].as_str().unwrap(),
            new[n].iter().cloned().collect::<Vec<_>>().join(",")
        );
    }
    // The doc (section 8) names the four CRC changes of 25.06 -> 26.06.
    let mut expect = vec![
        "cnat_session_details",
        "cnat_set_snat_policy",
        "ikev2_profile_details",
        "ikev2_set_ike_transforms",
    ];
    expect.sort();
    assert_eq!(names("changed"), expect);
    assert!(!added.is_empty() && !removed.is_empty());

    let check = cli(&["diff", s(&a), s(&b), "--check"]);
    assert_eq!(check.code, 1, "removals and changes fail --check");
}

#[test]
fn real_trees_crc_and_show() {
    let Some(root) = real_root() else { return };
    for rel in ["24.10", "25.06", "26.06"] {
        let out = cli(&["crc", s(&root.join(rel)), "--json"]);
        assert_eq!(out.code, 0, "{rel}: {}", out.stdout);
        let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        let total: usize = name_crcs(&root.join(rel)).len();
        assert_eq!(v["messages"].as_u64().unwrap() as usize, total, "{rel}");
        assert_eq!(v["ok"], v["messages"], "{rel}");
    }
    let t = root.join("26.06");
    let out = cli(&["show", s(&t), "sw_interface_details"]);
    insta::assert_snapshot!("show_26_06_sw_interface_details", out.stdout);
    let out = cli(&["show", s(&t), "lb_add_del_as", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    // wire doc 7.6: lb_add_del_as 0x35d72500 len=50, as_address @31, is_flush @49.
    assert_eq!(v["crc"], "0x35d72500");
    assert_eq!(v["layout"]["fixed_size"], 50);
    let field = |n: &str| {
        v["layout"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == n)
            .unwrap()
            .clone()
    };
    assert_eq!(field("as_address")["offset"], 31);
    assert_eq!(field("is_flush")["offset"], 49);
    assert_eq!(v["kind"], "request");
    // Runtime versions: the four the wire doc (3.6) states, derived from JSON alone.
    let out = cli(&["ls", "--versions", "--json", s(&t)]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let runtime = |m: &str| {
        v["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["module"] == m)
            .unwrap()["runtime_version"]
            .clone()
    };
    assert_eq!(runtime("interface"), "interface_85f62a36");
    assert_eq!(runtime("vpe"), "vpe_33b45969");
    assert_eq!(runtime("lb"), "lb_31818767");
    assert_eq!(runtime("memclnt"), "memclnt_b197c551");
    let out = cli(&["ls", s(&t)]);
    // 144 files and 2030 messages: the counts vpp-api/README.md and the wire doc state.
    assert!(
        out.stdout.contains("\n144 files, 2030 messages, "),
        "{}",
        out.stdout
    );
}

#[test]
fn binary_exit_codes_and_streams() {
    let bin = env!("CARGO_BIN_EXE_vppapi-gen");
    let out = Process::new(bin)
        .args(["ls", s(&fixture_tree())])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("plugins/lb.api.json"));

    let out = Process::new(bin)
        .args(["ls", "/nonexistent/vpp/api"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/vpp/api"), "{err}");

    let bad = repo().join("api-json/tests/fixtures/bad/unknown_type.api.json");
    let out = Process::new(bin).args(["crc", s(&bad)]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown_type.api.json"), "{err}");

    // clap rejects bad usage with its own status 2 and a usage message.
    let out = Process::new(bin)
        .args(["diff", "only-one"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Usage"));
}
