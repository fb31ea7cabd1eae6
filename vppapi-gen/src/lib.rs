//! # vppapi-gen
//!
//! Turns the [`api_json`] model into typed Rust that uses the `vppapi-runtime` derives
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

pub use gen::{generate, GenError, Generated, GeneratedModule};

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
/// `pub mod <module> { ... }` for each module and `pub mod registry`. Include it inside a module
/// of your crate: `mod vpp { include!(concat!(env!("OUT_DIR"), "/vpp_api.rs")); }`.
#[derive(Debug, Clone)]
pub struct Builder {
    inputs: Vec<PathBuf>,
    modules: Vec<String>,
    out_dir: Option<PathBuf>,
    file_name: String,
    rerun: bool,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            inputs: Vec::new(),
            modules: Vec::new(),
            out_dir: None,
            file_name: "vpp_api.rs".into(),
            rerun: true,
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
        let g = generate(&api, only)?;
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
    /// Features on by default (module names or `full`).
    pub default_features: Vec<String>,
    /// Extra text for the crate docs (after the generated summary).
    pub doc: String,
    /// Take version, edition and the `vppapi-runtime` dependency from the enclosing workspace
    /// (`version.workspace = true`); otherwise write them out.
    pub workspace: bool,
}

/// The files of a bindings crate (path relative to the crate root -> content): `Cargo.toml`
/// with one feature per module (pulling in the modules it uses) plus `full`, `src/lib.rs`,
/// `src/registry.rs` and `src/<module>.rs`.
pub fn crate_files(g: &Generated, opts: &CrateOptions) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let q = |s: &str| format!("\"{s}\"");
    let (package, dep) = if opts.workspace {
        (
            "version.workspace = true\nedition.workspace = true\nrust-version.workspace = true\n\
             license.workspace = true\n",
            "vppapi-runtime.workspace = true",
        )
    } else {
        (
            "version = \"0.1.0\"\nedition = \"2021\"\n",
            "vppapi-runtime = \"0.1\"",
        )
    };
    let mut toml =
        format!(
        "# Generated by vppapi-gen. Do not edit.\n[package]\nname = \"{}\"\ndescription = \"{}\"\n\
         {package}\n[dependencies]\n{dep}\n\n[features]\ndefault = [{}]\nfull = [{}]\n",
        opts.name,
        opts.description,
        opts.default_features.iter().map(|s| q(s)).collect::<Vec<_>>().join(", "),
        g.modules.iter().map(|m| q(&m.name)).collect::<Vec<_>>().join(", "),
    );
    for (m, deps) in g.features() {
        toml.push_str(&format!(
            "{m} = [{}]\n",
            deps.iter().map(|s| q(s)).collect::<Vec<_>>().join(", ")
        ));
    }
    out.insert(PathBuf::from("Cargo.toml"), toml);
    let mut lib = format!("//! {}\n//!\n", opts.description);
    for l in opts.doc.lines() {
        lib.push_str(&format!("//!{}{l}\n", if l.is_empty() { "" } else { " " }));
    }
    lib.push_str(
        "//!\n//! | module (feature) | messages | types | needs |\n//! |---|---|---|---|\n",
    );
    for m in &g.modules {
        lib.push_str(&format!(
            "//! | [`{0}`] | {1} | {2} | {3} |\n",
            m.name,
            m.message_count,
            m.type_count,
            m.deps.iter().cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    // prettyplease's layout is not rustfmt's: keep `cargo fmt` off the generated modules.
    lib.push_str("\n// Generated by vppapi-gen. Do not edit.\n\n");
    for m in &g.modules {
        lib.push_str(&format!(
            "#[cfg(feature = \"{0}\")]\n#[rustfmt::skip]\npub mod {0};\n",
            m.name
        ));
        out.insert(PathBuf::from(format!("src/{}.rs", m.name)), m.code.clone());
    }
    lib.push_str("#[rustfmt::skip]\npub mod registry;\n");
    out.insert(PathBuf::from("src/lib.rs"), lib);
    out.insert(PathBuf::from("src/registry.rs"), g.registry(true));
    out
}

/// The options `vppapi-binapi` is generated with (`vppapi-gen generate --crate vppapi-binapi`).
pub fn binapi_options() -> CrateOptions {
    CrateOptions {
        name: "vppapi-binapi".into(),
        description:
            "Typed Rust bindings for every message of FD.io VPP 26.06, generated by vppapi-gen"
                .into(),
        default_features: vec!["full".into()],
        doc:
            "Generated from VPP 26.06's `.api.json` (`vppapi-gen generate ../shared/vpp-api/26.06 \
--out vppapi-binapi --crate vppapi-binapi`); `vppapi-gen/tests/binapi.rs` regenerates it and\n\
fails on any difference. One module per API file, one Cargo feature per module (a feature pulls\n\
in the modules it uses) and `full` (the default) for all of them. [`registry`] lists every\n\
message of the enabled modules with type-erased decode/view/re-encode functions."
                .into(),
        workspace: true,
    }
}

/// Write [`crate_files`] under `dir` (files of modules no longer generated are not removed).
pub fn write_crate(g: &Generated, opts: &CrateOptions, dir: &Path) -> Result<(), BuildError> {
    for (p, text) in crate_files(g, opts) {
        write(&dir.join(p), &text)?;
    }
    Ok(())
}
