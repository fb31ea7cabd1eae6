//! VPP's `.api` IDL: parse sources into the same [`ApiFile`] model vppapigen's JSON plugin
//! writes for them.
//!
//! * [`parse_str`]: one file's syntax tree, imports not followed (never panics; fuzzed).
//! * [`load`]: a file with its imports resolved against include directories (like vppapigen's
//!   `--includedir`), type-checked, with message CRCs, `vl_api_version` (JSON flavour, imported
//!   types included) and the runtime file version VPP uses (`<module>_<crc:08x>`).
//! * [`Loader`]: the same for many files, parsing each imported file once.
//!
//! Errors name the file and `line:column` (1-based) and say what was expected and found.

mod ast;
mod build;
mod lexer;
mod parser;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub use ast::*;

use crate::error::{Error, Location, Result};
use crate::model::ApiFile;
use build::Unit;
use parser::error_at;

/// Parse one `.api` source into its syntax tree. `path` is used in error messages only.
pub fn parse_str(path: &Path, src: &str) -> Result<IdlFile> {
    parser::parse(path, src)
}

/// A file loaded from IDL.
#[derive(Debug, Clone, PartialEq)]
pub struct IdlApi {
    /// The model, as the JSON vppapigen writes for this file would give it.
    pub file: ApiFile,
    /// The file version VPP uses at run time: CRC over the file's own objects only (the C
    /// plugin does not process imports). VPP registers `<module>_<runtime_crc:08x>`.
    pub runtime_crc: u32,
}

impl IdlApi {
    /// `interface_85f62a36`: the name VPP's `get_first_msg_id` looks up.
    pub fn runtime_version_name(&self) -> String {
        format!("{}_{:08x}", self.file.module_name(), self.runtime_crc)
    }
}

/// Where sources come from: the file system, or memory (benchmarks, tests).
pub trait SourceProvider {
    /// `None` when there is no such file; `Some(Err)` when it exists but cannot be read.
    fn read(&self, path: &Path) -> Option<std::io::Result<String>>;

    /// Whether `path` names a file (import resolution); by default via [`Self::read`].
    fn exists(&self, path: &Path) -> bool {
        self.read(path).is_some()
    }
}

impl<T: SourceProvider + ?Sized> SourceProvider for &T {
    fn read(&self, path: &Path) -> Option<std::io::Result<String>> {
        (**self).read(path)
    }

    fn exists(&self, path: &Path) -> bool {
        (**self).exists(path)
    }
}

/// Reads from the file system.
#[derive(Debug, Clone, Copy, Default)]
pub struct FsSources;

impl SourceProvider for FsSources {
    fn read(&self, path: &Path) -> Option<std::io::Result<String>> {
        if path.is_file() {
            Some(std::fs::read_to_string(path))
        } else {
            None
        }
    }

    fn exists(&self, path: &Path) -> bool {
        path.is_file()
    }
}

/// Sources held in memory, keyed by path.
#[derive(Debug, Clone, Default)]
pub struct MemSources {
    pub files: HashMap<PathBuf, String>,
}

impl MemSources {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn insert(&mut self, path: impl Into<PathBuf>, src: impl Into<String>) {
        self.files.insert(path.into(), src.into());
    }
}

impl SourceProvider for MemSources {
    fn read(&self, path: &Path) -> Option<std::io::Result<String>> {
        self.files.get(path).map(|s| Ok(s.clone()))
    }

    fn exists(&self, path: &Path) -> bool {
        self.files.contains_key(path)
    }
}

/// Load one `.api` file from disk with its imports resolved against `include_dirs` (tried in
/// order; with none, import paths are taken relative to the current directory).
pub fn load(path: &Path, include_dirs: &[PathBuf]) -> Result<IdlApi> {
    Loader::new(include_dirs.to_vec(), FsSources).load(path)
}

/// Loads `.api` files, parsing every file (imports included) once.
pub struct Loader<S: SourceProvider> {
    include_dirs: Vec<PathBuf>,
    sources: S,
    units: Vec<Unit>,
    /// Resolved path -> unit index of files already loaded and checked.
    by_path: HashMap<PathBuf, usize>,
}

impl<S: SourceProvider> Loader<S> {
    pub fn new(include_dirs: Vec<PathBuf>, sources: S) -> Self {
        Loader {
            include_dirs,
            sources,
            units: Vec::new(),
            by_path: HashMap::new(),
        }
    }

    /// Load `path` (not searched in the include directories) and build its model.
    pub fn load(&mut self, path: &Path) -> Result<IdlApi> {
        let main = self.unit(path, &mut Vec::new())?;
        let built = build::build_main(&self.units, main)?;
        Ok(IdlApi {
            file: built.file,
            runtime_crc: built.runtime_crc,
        })
    }

    fn read(&self, path: &Path) -> Result<Option<String>> {
        match self.sources.read(path) {
            None => Ok(None),
            Some(Ok(s)) => Ok(Some(s)),
            Some(Err(e)) => Err(Error::new(
                path,
                Location::File,
                format!("cannot read: {e}"),
            )),
        }
    }

    fn resolve(&self, import: &str) -> Option<PathBuf> {
        if self.include_dirs.is_empty() {
            let p = PathBuf::from(import);
            return self.sources.exists(&p).then_some(p);
        }
        self.include_dirs
            .iter()
            .map(|d| d.join(import))
            .find(|p| self.sources.exists(p))
    }

    /// Parse and check the file at `path` and everything it imports; `stack` holds the files
    /// being loaded (for cycle detection).
    fn unit(&mut self, path: &Path, stack: &mut Vec<PathBuf>) -> Result<usize> {
        if let Some(&i) = self.by_path.get(path) {
            return Ok(i);
        }
        let src = self
            .read(path)?
            .ok_or_else(|| Error::new(path, Location::File, "no such file".to_string()))?;
        let idl = parser::parse(path, &src)?;
        stack.push(path.to_path_buf());
        let mut imports = Vec::new();
        for st in &idl.stmts {
            let StmtKind::Import { path: imp } = &st.kind else {
                continue;
            };
            let Some(target) = self.resolve(imp) else {
                let looked: Vec<String> = if self.include_dirs.is_empty() {
                    vec![".".into()]
                } else {
                    self.include_dirs
                        .iter()
                        .map(|d| d.display().to_string())
                        .collect()
                };
                return Err(error_at(
                    path,
                    st.pos,
                    format!(
                        "cannot find imported file \"{imp}\" (looked in: {})",
                        looked.join(", ")
                    ),
                ));
            };
            if let Some(k) = stack.iter().position(|p| *p == target) {
                let chain: Vec<String> = stack[k..]
                    .iter()
                    .chain(std::iter::once(&target))
                    .map(|p| p.display().to_string())
                    .collect();
                return Err(error_at(
                    path,
                    st.pos,
                    format!("import cycle: {}", chain.join(" -> ")),
                ));
            }
            imports.push(self.unit(&target, stack)?);
        }
        stack.pop();
        let idx = self.units.len();
        self.units.push(Unit {
            idl,
            imports,
            types: Vec::new(),
        });
        if let Err(e) = build::check_unit(&mut self.units, idx) {
            self.units.pop();
            return Err(e);
        }
        self.by_path.insert(path.to_path_buf(), idx);
        Ok(idx)
    }
}
