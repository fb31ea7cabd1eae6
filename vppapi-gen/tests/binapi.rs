//! The generator on the fixture tree (always) and on VPP 26.06 (when ../shared is present):
//! `vppapi-binapi/` must be exactly what the generator writes today.

use std::path::{Path, PathBuf};

use api_json::Api;
use vppapi_gen::{binapi_options, crate_files, generate};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn api_root() -> Option<PathBuf> {
    let p = std::env::var_os("VPP_API_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared/vpp-api"));
    p.join("26.06").is_dir().then_some(p)
}

#[test]
fn committed_binapi_is_what_the_generator_writes() {
    let Some(root) = api_root() else {
        eprintln!("NOTICE: ../shared/vpp-api not found: not regenerating vppapi-binapi");
        return;
    };
    let api = Api::load(&[root.join("26.06")]).expect("load 26.06");
    let g = generate(&api, None).expect("generate 26.06");
    assert_eq!(g.modules.len(), 144);
    assert_eq!(
        g.modules.iter().map(|m| m.message_count).sum::<usize>(),
        2030
    );
    let files = crate_files(&g, &binapi_options());
    let dir = repo().join("vppapi-binapi");
    let mut differ = Vec::new();
    for (p, text) in &files {
        match std::fs::read_to_string(dir.join(p)) {
            Ok(old) if old == *text => {}
            Ok(_) => differ.push(format!("{} differs", p.display())),
            Err(e) => differ.push(format!("{}: {e}", p.display())),
        }
    }
    // No stale module files.
    for e in std::fs::read_dir(dir.join("src")).expect("vppapi-binapi/src") {
        let p = PathBuf::from("src").join(e.expect("entry").file_name());
        if !files.contains_key(&p) {
            differ.push(format!("{} is not generated", p.display()));
        }
    }
    assert!(
        differ.is_empty(),
        "vppapi-binapi is out of date; run `cargo run -p vppapi-gen -- generate \
         ../shared/vpp-api/26.06 --out vppapi-binapi --crate vppapi-binapi`:\n{}",
        differ.join("\n")
    );
}

fn fixture() -> Api {
    Api::load(&[repo().join("api-json/tests/fixtures/tree")]).expect("fixture tree")
}

#[test]
fn fixture_modules_share_types_and_map_runtime_types() {
    let g = generate(&fixture(), None).expect("generate");
    let m = |n: &str| g.modules.iter().find(|m| m.name == n).expect(n);
    // Types are generated once, in their defining module, and imported elsewhere.
    assert!(m("ip_types")
        .code
        .contains("pub use ::vppapi_runtime::codec::net::Address;"));
    assert!(m("interface_types")
        .code
        .contains("pub struct IfStatusFlags(pub u32);"));
    let iface = &m("interface").code;
    assert!(iface.contains("use super::interface_types::{"));
    assert!(!iface.contains("pub struct IfStatusFlags"));
    assert!(m("interface").deps.contains("interface_types"));
    // Services become trait attributes; the count of a VLA is not a field.
    assert!(iface.contains("details = SwInterfaceDetails"));
    assert!(iface.contains("events(SwInterfaceEvent)"));
    let l2 = &m("l2").code;
    assert!(l2.contains("count = \"n_sw_ifs\""));
    assert!(!l2.contains("pub n_sw_ifs"));
    // Keywords are escaped.
    assert!(iface.contains("pub r#type: IfType"));
    // Every module parses as Rust.
    for module in &g.modules {
        syn::parse_file(&module.code).unwrap_or_else(|e| panic!("{}: {e}", module.name));
    }
    syn::parse_file(&g.single_file()).expect("single file parses");
}

#[test]
fn module_selection_pulls_in_dependencies() {
    let only = ["lb".to_string()];
    let g = generate(&fixture(), Some(&only)).expect("generate");
    let names: Vec<&str> = g.modules.iter().map(|m| m.name.as_str()).collect();
    assert!(names.contains(&"lb") && names.contains(&"lb_types") && names.contains(&"ip_types"));
    assert!(!names.contains(&"l2"), "{names:?}");
    let bad = ["nope".to_string()];
    let e = generate(&fixture(), Some(&bad)).unwrap_err();
    assert!(e.to_string().contains("nope"), "{e}");
}

#[test]
fn generated_interface_module_snapshot() {
    let g = generate(&fixture(), None).expect("generate");
    let m = g
        .modules
        .iter()
        .find(|m| m.name == "interface")
        .expect("interface");
    insta::assert_snapshot!("fixture_interface_module", m.code);
}

#[test]
fn cli_generate_writes_a_file_and_a_crate() {
    use clap::Parser;
    let out = std::env::temp_dir().join(format!("vppapi-gen-cli-{}", std::process::id()));
    let tree = repo().join("api-json/tests/fixtures/tree");
    let tree = tree.to_str().expect("utf-8 path");
    let o = out.to_str().expect("utf-8 path");
    let run = |args: &[&str]| {
        let cli = vppapi_gen::cli::Cli::try_parse_from(args).expect("args");
        vppapi_gen::cli::run(&cli)
    };
    let r = run(&["vppapi-gen", "generate", tree, "--out", o, "--module", "l2"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = std::fs::read_to_string(out.join("vpp_api.rs")).expect("written");
    assert!(text.contains("pub mod l2 {") && text.contains("pub mod registry {"));
    let c = out.join("crate");
    let r = run(&[
        "vppapi-gen",
        "generate",
        tree,
        "--out",
        c.to_str().unwrap(),
        "--crate",
        "demo-bindings",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let toml = std::fs::read_to_string(c.join("Cargo.toml")).expect("Cargo.toml");
    assert!(toml.contains("name = \"demo-bindings\""));
    assert!(toml.contains("lb = [\"ip_types\", \"lb_types\"]"), "{toml}");
    assert!(toml.contains("vppapi-runtime = \"0.1\""), "{toml}");
    let r = run(&[
        "vppapi-gen",
        "generate",
        tree,
        "--out",
        o,
        "--module",
        "nope",
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("nope"));
    let _ = std::fs::remove_dir_all(&out);
}
