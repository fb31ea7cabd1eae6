//! `vpp-fleet-agent put|get|list|delete` on both stores.

mod common;

use common::*;

fn run(args: &[&str]) -> (i32, String, String) {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_vpp-fleet-agent"))
        .args(args)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn exercise(store: &str) {
    let s = ["--label", "gw1", "--store", store];
    let with = |rest: &[&str]| -> (i32, String, String) {
        let mut a: Vec<&str> = rest.to_vec();
        a.extend_from_slice(&s);
        run(&a)
    };
    let (c, _, e) = with(&["put", "evpn/bd/v1/100", r#"{"mac_age": 5}"#]);
    assert_eq!(c, 0, "{e}");
    let (c, _, e) = with(&["put", "evpn/bvi/v1/loop100", r#"{"bd": 100}"#]);
    assert_eq!(c, 0, "{e}");
    // Refused before anything is written: exit 2, the key and the problem named.
    let (c, _, e) = with(&["put", "evpn/bd/v1/101", r#"{"colour": 1}"#]);
    assert_eq!(c, 2);
    assert!(
        e.contains("/vnf-agent/gw1/config/evpn/bd/v1/101") && e.contains("colour"),
        "{e}"
    );
    let (c, _, e) = with(&["put", "evpn/nat/v1/1", "{}"]);
    assert_eq!(c, 2, "{e}");
    let (c, out, e) = with(&["get", "evpn/bd/v1/100"]);
    assert_eq!(c, 0, "{e}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["value"]["mac_age"], 5);
    let (c, out, _) = with(&["list"]);
    assert_eq!(c, 0);
    assert_eq!(out.lines().count(), 2, "{out}");
    let (c, _, _) = with(&["delete", "evpn/bd/v1/100"]);
    assert_eq!(c, 0);
    let (c, _, _) = with(&["get", "evpn/bd/v1/100"]);
    assert_eq!(c, 1, "gone");
    let (_, out, _) = with(&["list", "evpn/bvi/"]);
    assert_eq!(out.lines().count(), 1, "{out}");
}

#[test]
fn put_get_list_delete_on_a_file_store() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("gw1.yaml");
    exercise(&format!("file:{}", f.display()));
    let text = std::fs::read_to_string(&f).unwrap();
    assert!(
        text.contains("/vnf-agent/gw1/config/evpn/bvi/v1/loop100"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_get_list_delete_on_etcd() {
    let dir = tempfile::tempdir().unwrap();
    let Some(etcd) = Etcd::start(dir.path()).await else {
        return;
    };
    let store = etcd.store();
    tokio::task::spawn_blocking(move || exercise(&store))
        .await
        .unwrap();
    let mut c = etcd.client().await.unwrap();
    let v = etcd_prefix(&mut c, "/vnf-agent/gw1/config/").await;
    assert_eq!(
        v.keys().collect::<Vec<_>>(),
        ["/vnf-agent/gw1/config/evpn/bvi/v1/loop100"]
    );
}
