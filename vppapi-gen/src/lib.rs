//! # vppapi-gen
//!
//! Turns the [`api_json`] model into typed Rust that uses the `vppapi-codec` derives
//! ([`gen`]), from `build.rs` ([`Builder`]), the command line (`vppapi-gen generate`) or as a
//! whole bindings crate ([`write_crate`], used for `vppapi-binapi`). The [`cli`] also inspects,
//! diffs and verifies API trees.
//!
//! ```no_run
//! // build.rs
//! vppapi_gen::Builder::new()
//!     .input("/usr/share/vpp/api")
//!     .module("interface")
//!     .generate()
//!     .unwrap();
//! // src/main.rs: mod vpp { include!(concat!(env!("OUT_DIR"), "/vpp_api.rs")); }
//! ```

pub mod cli;
pub mod gen;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use gen::{generate, generate_with, Gate, GenError, GenOptions, Generated, GeneratedModule};

/// Errors of [`Builder::generate`] and [`write_crate`].
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The API tree could not be loaded.
    #[error("loading the API: {0}")]
    Load(#[from] api_json::Error),
    /// The generator refused a definition.
    #[error("generating: {0}")]
    Gen(#[from] GenError),
    /// Writing the output failed.
    #[error("writing {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// No output directory was given and `OUT_DIR` is not set.
    #[error("no output directory: call Builder::out_dir or run from build.rs (OUT_DIR)")]
    NoOutDir,
}

/// Code generation for `build.rs`, in the style of `prost-build`: collect inputs and options,
/// then [`Builder::generate`] writes one Rust file (default `vpp_api.rs` in `OUT_DIR`) holding
/// `pub mod <module> { ... }` for each module, `pub mod table` (the data-only message table)
/// and, with [`Builder::registry`], `pub mod registry`. The code depends on `vppapi-codec`
/// (or the path given to [`Builder::codec_path`]). Include it inside a module
/// of your crate: `mod vpp { include!(concat!(env!("OUT_DIR"), "/vpp_api.rs")); }`.
#[derive(Debug, Clone)]
pub struct Builder {
    inputs: Vec<PathBuf>,
    modules: Vec<String>,
    out_dir: Option<PathBuf>,
    file_name: String,
    rerun: bool,
    options: GenOptions,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            inputs: Vec::new(),
            modules: Vec::new(),
            out_dir: None,
            file_name: "vpp_api.rs".into(),
            rerun: true,
            options: GenOptions {
                codec: gen::DEFAULT_CODEC.into(),
                reflect: Gate::Never,
                random: Gate::Never,
                module_features: None,
            },
        }
    }
}

impl Builder {
    /// A builder with no inputs.
    pub fn new() -> Self {
        Self::default()
    }
    /// Add an API tree (searched recursively for `*.api.json`) or a single `.api.json` file.
    /// All inputs form one tree: types are resolved across them.
    pub fn input(mut self, path: impl Into<PathBuf>) -> Self {
        self.inputs.push(path.into());
        self
    }
    /// Generate only this module (API file base name, e.g. `interface`) and the modules it
    /// needs. Repeatable; without any, every module is generated.
    pub fn module(mut self, name: impl Into<String>) -> Self {
        self.modules.push(name.into());
        self
    }
    /// Output directory (default: `$OUT_DIR`).
    pub fn out_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.out_dir = Some(dir.into());
        self
    }
    /// Output file name (default `vpp_api.rs`).
    pub fn file_name(mut self, name: impl Into<String>) -> Self {
        self.file_name = name.into();
        self
    }
    /// The path the generated code names the codec by (default `::vppapi_codec`, which your
    /// crate then depends on). `"::vppapi_runtime::codec"` uses the runtime's re-export instead.
    pub fn codec_path(mut self, path: impl Into<String>) -> Self {
        self.options.codec = path.into();
        self
    }
    /// Also derive `Reflect` (conversion to a `Value` tree) for every type (default: no).
    pub fn reflect(mut self, on: bool) -> Self {
        self.options.reflect = if on { Gate::Always } else { Gate::Never };
        self
    }
    /// Also derive `Random` (seeded random instances) for every type (default: no).
    pub fn random(mut self, on: bool) -> Self {
        self.options.random = if on { Gate::Always } else { Gate::Never };
        self
    }
    /// `Reflect`, `Random` and a type-erased `registry` module of every message (default: no;
    /// it makes every message's codec part of the build).
    pub fn registry(self, on: bool) -> Self {
        self.reflect(on).random(on)
    }
    /// Whether to print `cargo:rerun-if-changed` for every input (default: yes).
    pub fn emit_rerun_if_changed(mut self, on: bool) -> Self {
        self.rerun = on;
        self
    }
    /// Load, generate and write; returns the path of the written file.
    pub fn generate(self) -> Result<PathBuf, BuildError> {
        let out_dir = match self.out_dir.clone() {
            Some(d) => d,
            None => std::env::var_os("OUT_DIR")
                .map(PathBuf::from)
                .ok_or(BuildError::NoOutDir)?,
        };
        if self.rerun {
            for i in &self.inputs {
                println!("cargo:rerun-if-changed={}", i.display());
            }
            for f in api_json::api::collect_files(&self.inputs)? {
                println!("cargo:rerun-if-changed={}", f.display());
            }
        }
        let api = api_json::Api::load(&self.inputs)?;
        let only = (!self.modules.is_empty()).then_some(self.modules.as_slice());
        let g = generate_with(&api, only, &self.options)?;
        let path = out_dir.join(&self.file_name);
        write(&path, &g.single_file())?;
        Ok(path)
    }
}

fn write(path: &Path, text: &str) -> Result<(), BuildError> {
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p).map_err(|source| BuildError::Io {
            path: p.to_path_buf(),
            source,
        })?;
    }
    // Leave an identical file alone: its mtime drives cargo's rebuilds.
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    std::fs::write(path, text).map_err(|source| BuildError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// How to lay out a bindings crate ([`crate_files`]).
#[derive(Debug, Clone)]
pub struct CrateOptions {
    /// Package name (`vppapi-binapi`).
    pub name: String,
    /// One-line description for Cargo.toml and the crate docs.
    pub description: String,
    /// Features on by default (module names of the current release, or `full`).
    pub default_features: Vec<String>,
    /// Extra text for the crate docs (after the generated summary).
    pub doc: String,
    /// Take version, edition and the `vppapi-codec` dependency from the enclosing workspace
    /// (`version.workspace = true`); otherwise write them out.
    pub workspace: bool,
}

/// The bindings of one VPP release, for [`crate_files`].
#[derive(Debug, Clone)]
pub struct ReleaseBindings {
    /// The release (`26.06`); its module is `v26_06`.
    pub label: String,
    /// Its generated modules ([`gen::generate`], whose module features [`crate_files`] sets).
    pub generated: Generated,
}

impl ReleaseBindings {
    /// Generate the bindings of `api` as release `label`.
    pub fn new(label: &str, api: &api_json::Api) -> Result<Self, GenError> {
        Ok(ReleaseBindings {
            label: label.to_owned(),
            generated: generate(api, None)?,
        })
    }
    /// `v26_06`.
    pub fn module(&self) -> String {
        format!("v{}", self.label.replace(['.', '-'], "_"))
    }
}

fn module_table(lib: &mut String, g: &Generated, feature_prefix: &str) {
    lib.push_str(
        "//! | module | feature | messages | types | needs |\n//! |---|---|---|---|---|\n",
    );
    for m in &g.modules {
        lib.push_str(&format!(
            "//! | `{0}` | `{4}{0}` | {1} | {2} | {3} |\n",
            m.name,
            m.message_count,
            m.type_count,
            m.deps.iter().cloned().collect::<Vec<_>>().join(", "),
            feature_prefix,
        ));
    }
}

/// The module declarations of one release, plus `table` and (behind `registry`) `registry`.
fn module_decls(g: &Generated, feature_prefix: &str) -> String {
    let mut out = String::from("\n// Generated by vppapi-gen. Do not edit.\n\n");
    // prettyplease's layout is not rustfmt's: keep `cargo fmt` off the generated modules.
    for m in &g.modules {
        out.push_str(&format!(
            "#[cfg(feature = \"{feature_prefix}{0}\")]\n#[rustfmt::skip]\npub mod {0};\n",
            m.name
        ));
    }
    out.push_str("#[rustfmt::skip]\npub mod table;\n");
    out.push_str("#[cfg(feature = \"registry\")]\n#[rustfmt::skip]\npub mod registry;\n");
    out
}

/// The files of a bindings crate (path relative to the crate root -> content), for one or
/// several releases. The last release is the current one: its modules sit at the crate root
/// (`src/<module>.rs`, features named like the modules, `full` for all of them). Each earlier
/// release is a module `v24_10` (`src/v24_10/<module>.rs`) whose module features carry its
/// prefix (`v24_10-lb`, `v24_10-full`); with several releases the current one is also reachable
/// as `v26_06`. Each release has a data-only `table` module and, behind the `registry` feature
/// (which turns on `reflect` and `random`), a type-erased `registry`.
pub fn crate_files(releases: &[ReleaseBindings], opts: &CrateOptions) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let q = |s: &str| format!("\"{s}\"");
    let (package, dep) = if opts.workspace {
        (
            "version.workspace = true\nedition.workspace = true\nrust-version.workspace = true\n\
             license.workspace = true\n",
            "vppapi-codec.workspace = true",
        )
    } else {
        (
            "version = \"0.1.0\"\nedition = \"2021\"\n",
            "vppapi-codec = \"0.1\"",
        )
    };
    let Some((current, older)) = releases.split_last() else {
        return out;
    };
    let prefix = |r: &ReleaseBindings| format!("{}-", r.module());
    let mut all = vec![q("full")];
    all.extend(older.iter().map(|r| q(&format!("{}full", prefix(r)))));
    let mut toml =
        format!(
        "# Generated by vppapi-gen. Do not edit.\n[package]\nname = \"{}\"\ndescription = \"{}\"\n\
         {package}\n[dependencies]\n{dep}\n\n[features]\ndefault = [{}]\n\
         # `Reflect` (to a `Value` tree) and `Random` (seeded random instances) on every type.\n\
         reflect = []\nrandom = []\n\
         # The type-erased `registry` module of each release (differential tests, fuzzers).\n\
         registry = [\"reflect\", \"random\"]\n",
        opts.name,
        opts.description,
        opts.default_features.iter().map(|s| q(s)).collect::<Vec<_>>().join(", "),
    );
    if !older.is_empty() {
        toml.push_str(&format!("all-releases = [{}]\n", all.join(", ")));
    }
    toml.push_str(&format!(
        "# VPP {}\nfull = [{}]\n",
        current.label,
        current
            .generated
            .modules
            .iter()
            .map(|m| q(&m.name))
            .collect::<Vec<_>>()
            .join(", "),
    ));
    for (m, deps) in current.generated.features() {
        toml.push_str(&format!(
            "{m} = [{}]\n",
            deps.iter().map(|s| q(s)).collect::<Vec<_>>().join(", ")
        ));
    }
    for r in older {
        let p = prefix(r);
        toml.push_str(&format!(
            "# VPP {}\n{p}full = [{}]\n",
            r.label,
            r.generated
                .modules
                .iter()
                .map(|m| q(&format!("{p}{}", m.name)))
                .collect::<Vec<_>>()
                .join(", "),
        ));
        for (m, deps) in r.generated.features() {
            toml.push_str(&format!(
                "{p}{m} = [{}]\n",
                deps.iter()
                    .map(|s| q(&format!("{p}{s}")))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    out.insert(PathBuf::from("Cargo.toml"), toml);

    let mut lib = format!("//! {}\n//!\n", opts.description);
    for l in opts.doc.lines() {
        lib.push_str(&format!("//!{}{l}\n", if l.is_empty() { "" } else { " " }));
    }
    lib.push_str(&format!(
        "//!\n//! ## VPP {} (the crate root)\n//!\n",
        current.label
    ));
    module_table(&mut lib, &current.generated, "");
    for r in older {
        lib.push_str(&format!(
            "//!\n//! ## VPP {} ([`{}`])\n//!\n//! Modules as above with features `{}<module>` \
             and `{}full`.\n",
            r.label,
            r.module(),
            prefix(r),
            prefix(r)
        ));
    }
    lib.push_str(&module_decls(&current.generated, ""));
    emit_release(&mut out, "src", &current.generated, "");
    for r in older {
        let m = r.module();
        lib.push_str(&format!(
            "/// VPP {}.\n#[rustfmt::skip]\npub mod {m};\n",
            r.label
        ));
        let mut sub = format!(
            "//! VPP {}: the same modules as the crate root, for this release (features \
             `{}<module>`).\n",
            r.label,
            prefix(r)
        );
        sub.push_str(&module_decls(&r.generated, &prefix(r)));
        out.insert(PathBuf::from(format!("src/{m}/mod.rs")), sub);
        emit_release(&mut out, &format!("src/{m}"), &r.generated, &prefix(r));
    }
    if !older.is_empty() {
        lib.push_str(&format!(
            "/// VPP {} (the same modules as the crate root).\npub mod {} {{\n    pub use super::*;\n}}\n",
            current.label,
            current.module()
        ));
    }
    out.insert(PathBuf::from("src/lib.rs"), lib);
    out
}

fn emit_release(out: &mut BTreeMap<PathBuf, String>, dir: &str, g: &Generated, prefix: &str) {
    let mut g = g.clone();
    g.options.module_features = Some(prefix.to_owned());
    for m in &g.modules {
        out.insert(
            PathBuf::from(format!("{dir}/{}.rs", m.name)),
            m.code.clone(),
        );
    }
    out.insert(PathBuf::from(format!("{dir}/table.rs")), g.table());
    out.insert(PathBuf::from(format!("{dir}/registry.rs")), g.registry());
}

/// The modules `vppapi-binapi` has by default: the core every VPP client talks to.
pub const BINAPI_DEFAULT_MODULES: &[&str] = &["memclnt", "vpe", "interface", "ip", "l2"];

/// The options `vppapi-binapi` is generated with
/// (`vppapi-gen generate --releases ../shared/vpp-api/{24.10,25.06,26.06} --out vppapi-binapi
/// --crate vppapi-binapi`).
pub fn binapi_options() -> CrateOptions {
    CrateOptions {
        name: "vppapi-binapi".into(),
        description:
            "Typed Rust bindings for every message of FD.io VPP 26.06, 25.06 and 24.10, generated by vppapi-gen"
                .into(),
        default_features: BINAPI_DEFAULT_MODULES.iter().map(|s| (*s).to_owned()).collect(),
        doc:
            "Generated from the `.api.json` of VPP 24.10, 25.06 and 26.06 (`vppapi-gen generate --releases \
../shared/vpp-api/24.10 ../shared/vpp-api/25.06 ../shared/vpp-api/26.06 --out vppapi-binapi \
--crate vppapi-binapi`); `vppapi-gen/tests/binapi.rs` regenerates it and fails on any difference.\n\
\n\
One module per API file and one Cargo feature per module (a feature pulls in the modules it\n\
uses). VPP 26.06 is at the crate root; earlier releases are `v24_10` and `v25_06`, with\n\
features prefixed `v24_10-` and `v25_06-`. Default features: `memclnt`, `vpe`, `interface`,\n\
`ip`, `l2` (and the type modules they use); `full` is every 26.06 module, `all-releases`\n\
every module of every release:\n\
\n\
```toml\n\
vppapi-binapi = { version = \"0.1\", features = [\"lb\", \"v24_10-lb\"] }\n\
```\n\
\n\
Each release has a data-only [`table`] of its messages (names, CRCs, kinds, offsets, services),\n\
always present. `reflect` and `random` add `Reflect` and `Random` to every type, and `registry`\n\
(both) a type-erased `registry` module per release, for differential tests and fuzzers.\n\
Every method is `#[inline]`: a program compiles only the messages it uses."
                .into(),
        workspace: true,
    }
}

/// Write [`crate_files`] under `dir` (files of modules no longer generated are not removed).
pub fn write_crate(
    releases: &[ReleaseBindings],
    opts: &CrateOptions,
    dir: &Path,
) -> Result<(), BuildError> {
    for (p, text) in crate_files(releases, opts) {
        write(&dir.join(p), &text)?;
    }
    Ok(())
}
