//! The generator on the fixture tree (always) and on VPP 24.10, 25.06 and 26.06 (when ../shared
//! is present): `vppapi-binapi/` must be exactly what the generator writes today.

use std::path::{Path, PathBuf};

use api_json::Api;
use vppapi_gen::{binapi_options, crate_files, generate, ReleaseBindings};

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
    let mut releases = Vec::new();
    for (label, modules, messages) in [
        ("24.10", 133, 1836),
        ("25.06", 136, 1907),
        ("26.06", 144, 2030),
    ] {
        let api = Api::load(&[root.join(label)]).expect("load release");
        let r = ReleaseBindings::new(label, &api).expect("generate");
        assert_eq!(r.generated.modules.len(), modules, "{label}");
        let n: usize = r.generated.modules.iter().map(|m| m.message_count).sum();
        assert_eq!(n, messages, "{label}");
        releases.push(r);
    }
    let files = crate_files(&releases, &binapi_options());
    let dir = repo().join("vppapi-binapi");
    let mut differ = Vec::new();
    for (p, text) in &files {
        match std::fs::read_to_string(dir.join(p)) {
            Ok(old) if old == *text => {}
            Ok(_) => differ.push(format!("{} differs", p.display())),
            Err(e) => differ.push(format!("{}: {e}", p.display())),
        }
    }
    // No stale files.
    let mut stack = vec![PathBuf::from("src")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(dir.join(&d)).expect("vppapi-binapi/src") {
            let e = e.expect("entry");
            let p = d.join(e.file_name());
            if e.file_type().expect("type").is_dir() {
                stack.push(p);
            } else if !files.contains_key(&p) {
                differ.push(format!("{} is not generated", p.display()));
            }
        }
    }
    assert!(
        differ.is_empty(),
        "vppapi-binapi is out of date; run `cargo run -p vppapi-gen -- generate --releases \
         ../shared/vpp-api/24.10 ../shared/vpp-api/25.06 ../shared/vpp-api/26.06 \
         --out vppapi-binapi --crate vppapi-binapi`:\n{}",
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
        .contains("pub use ::vppapi_codec::net::Address;"));
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
    // The table always; the registry only when asked for (Builder::registry).
    assert!(text.contains("pub mod l2 {") && text.contains("pub mod table {"));
    assert!(!text.contains("pub mod registry {"));
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
    assert!(toml.contains("vppapi-codec = \"0.1\""), "{toml}");
    assert!(
        toml.contains("registry = [\"reflect\", \"random\"]"),
        "{toml}"
    );
    assert!(c.join("src/table.rs").is_file() && c.join("src/registry.rs").is_file());
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

#[test]
fn several_releases_make_one_crate_with_prefixed_features() {
    let api = fixture();
    let old = ReleaseBindings::new("1.0", &api).expect("generate");
    let new = ReleaseBindings::new("2.0", &api).expect("generate");
    let files = crate_files(&[old, new], &binapi_options());
    let toml = &files[&PathBuf::from("Cargo.toml")];
    assert!(
        toml.contains("\nlb = [\"ip_types\", \"lb_types\"]"),
        "{toml}"
    );
    assert!(
        toml.contains("\nv1_0-lb = [\"v1_0-ip_types\", \"v1_0-lb_types\"]"),
        "{toml}"
    );
    assert!(
        toml.contains("all-releases = [\"full\", \"v1_0-full\"]"),
        "{toml}"
    );
    let lib = &files[&PathBuf::from("src/lib.rs")];
    assert!(
        lib.contains("pub mod v1_0;") && lib.contains("pub mod v2_0 {"),
        "{lib}"
    );
    let sub = &files[&PathBuf::from("src/v1_0/mod.rs")];
    assert!(sub.contains("#[cfg(feature = \"v1_0-lb\")]"), "{sub}");
    // The table is complete whatever the features: data only, no cfg.
    let table = &files[&PathBuf::from("src/v1_0/table.rs")];
    assert!(
        table.contains("pub static LB:") && !table.contains("cfg("),
        "{table}"
    );
    assert!(files.contains_key(&PathBuf::from("src/v1_0/lb.rs")));
    // Generated modules never name the registry; the registry names them.
    for (p, text) in &files {
        if !p.ends_with("registry.rs") {
            assert!(
                !text.contains("registry::"),
                "{} names the registry",
                p.display()
            );
        }
    }
    assert!(files[&PathBuf::from("src/registry.rs")].contains("super::lb::LbAddDelAs"));
}
