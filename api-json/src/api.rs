//! The resolved tree: every file of an API tree, one type table, every message with its layout,
//! kind, header and services, and the CRC check.
//!
//! ```no_run
//! let api = api_json::Api::load(&["/usr/share/vpp/api"]).unwrap();
//! let m = api.message("sw_interface_details").unwrap();
//! assert_eq!(m.layout.fixed_size, 295);
//! assert!(api.crc_report().all_ok());
//! ```
//!
//! Resolution rules:
//! - JSON files copy every imported type in, so the same type appears in many files. One table
//!   holds each name once: identical copies are merged (comments are ignored when comparing), a
//!   name defined differently in two places is an error naming both places. In the three real
//!   trees (24.10, 25.06, 26.06) no type name has two different definitions, neither within a
//!   release nor within a file, so one strict table is sound for them.
//! - Messages are the file's own; a message name in two files must have identical definitions
//!   (it is then listed once, with both files). No release of the real trees defines a message
//!   in two files.
//! - Every field type must be a base type or a type of the table; VLA counts must be integer
//!   fields declared earlier in the same block; only the last field may be variable; types must
//!   not contain themselves (see [`crate::layout`]).
//! - Services must name messages of the tree.
//! - CRCs are re-derived after loading, inferring `[backwards_compatible]` enum members, which
//!   JSON does not mark (see [`crate::verify`]). The inferred flags are set in the table and in
//!   the files' enum copies.
//! - File versions (`vl_api_version` check, runtime `<module>_<crc>`) are computed on demand by
//!   [`Api::file_versions`] (see [`crate::version`]); they cost a bounded search.
//!
//! Errors stop loading at the first problem and name the file, the JSON path (`$.types[3][2]`)
//! or line:column, and what is wrong; for files from the IDL front end the place is the file.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use indexmap::IndexMap;

use crate::classify::{self, Header, MessageKind, Role, ServiceKind, ServiceOrigin};
use crate::crc::{CrcType, CrcTypes};
use crate::error::{Error, Location, Result};
use crate::json;
use crate::layout::{bare_type_name, Layout, LayoutError, Sizer};
use crate::model::*;
use crate::verify::{self, CrcReport};

/// A user type, as the table holds it.
#[derive(Debug, Clone, PartialEq)]
pub enum UserType {
    Typedef(TypeDef),
    Union(UnionDef),
    Enum(EnumDef),
    EnumFlag(EnumDef),
    Alias(Alias),
}

impl UserType {
    pub fn name(&self) -> &str {
        match self {
            UserType::Typedef(t) => &t.name,
            UserType::Union(u) => &u.name,
            UserType::Enum(e) | UserType::EnumFlag(e) => &e.name,
            UserType::Alias(a) => &a.name,
        }
    }
    /// `typedef`, `union`, `enum`, `enumflag`, `alias`.
    pub fn kind_name(&self) -> &'static str {
        match self {
            UserType::Typedef(_) => "typedef",
            UserType::Union(_) => "union",
            UserType::Enum(_) => "enum",
            UserType::EnumFlag(_) => "enumflag",
            UserType::Alias(_) => "alias",
        }
    }
    fn as_crc_type(&self) -> CrcType<'_> {
        match self {
            UserType::Typedef(t) => CrcType::Typedef(t),
            UserType::Union(u) => CrcType::Union(u),
            UserType::Enum(e) | UserType::EnumFlag(e) => CrcType::Enum(e),
            UserType::Alias(a) => CrcType::Alias(a),
        }
    }
}

/// Where a definition is: a file of the tree (index into [`Api::files`]) and the place in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub file: usize,
    pub location: Location,
}

/// One entry of the type table.
#[derive(Debug, Clone)]
pub struct TypeEntry {
    pub def: UserType,
    /// The first place it was found (files are visited in load order).
    pub place: Place,
    /// Every file that contains a copy (own or imported), in load order.
    pub files: Vec<usize>,
    /// The file that defines it: the one file containing it that does not get it from one of
    /// its imports. `None` when that cannot be told (imports not loaded, or ambiguous).
    pub home: Option<usize>,
    /// Its unfolded CRC bytes (wire doc 3.1), computed once.
    crc_bytes: Vec<u8>,
}

impl TypeEntry {
    /// The type's unfolded CRC bytes (`str()` of its block, `[]` for aliases; enums without
    /// their `[backwards_compatible]` members).
    pub fn crc_bytes(&self) -> &[u8] {
        &self.crc_bytes
    }
}

fn type_crc_bytes(def: &UserType) -> Vec<u8> {
    crate::crc::object_crc_bytes(&match def {
        UserType::Typedef(t) => crate::crc::CrcObject::Typedef(t),
        UserType::Union(u) => crate::crc::CrcObject::Union(u),
        UserType::Enum(e) | UserType::EnumFlag(e) => crate::crc::CrcObject::Enum(e),
        UserType::Alias(a) => crate::crc::CrcObject::Alias(a),
    })
}

/// One message of the tree.
#[derive(Debug, Clone)]
pub struct MessageInfo {
    pub msg: Message,
    /// The file (index into [`Api::files`]) and the message's index in its `messages`.
    pub file: usize,
    pub index: usize,
    /// Other files with an identical definition of the same message.
    pub also_in: Vec<usize>,
    pub layout: Layout,
    pub header: Header,
    pub kind: MessageKind,
    /// Every service role it plays (a message may be e.g. the reply of several requests).
    pub roles: Vec<Role>,
}

impl MessageInfo {
    /// `name_crc` as in VPP's message table (`sw_interface_dump_aa610c27`).
    pub fn name_crc(&self) -> String {
        format!("{}_{:08x}", self.msg.name, self.msg.crc)
    }
}

/// One service of the tree.
#[derive(Debug, Clone)]
pub struct ServiceInfo {
    pub service: Service,
    pub file: usize,
    pub kind: ServiceKind,
    pub origin: ServiceOrigin,
}

/// A loaded, resolved, checked API tree.
#[derive(Debug, Clone)]
pub struct Api {
    files: Vec<ApiFile>,
    types: IndexMap<String, TypeEntry>,
    type_layouts: HashMap<String, Layout>,
    messages: IndexMap<String, MessageInfo>,
    services: IndexMap<String, ServiceInfo>,
    crc: CrcReport,
}

/// Collects `*.api.json` below `dir`, recursively. Symlinked directories are followed up to a
/// fixed depth (a symlink loop cannot hang the walk).
fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) -> Result<()> {
    let rd = std::fs::read_dir(dir)
        .map_err(|e| Error::new(dir, Location::File, format!("cannot read directory: {e}")))?;
    let mut entries = Vec::new();
    for e in rd {
        let e =
            e.map_err(|e| Error::new(dir, Location::File, format!("cannot read directory: {e}")))?;
        entries.push(e.path());
    }
    entries.sort();
    for p in entries {
        if p.is_dir() {
            if depth < 16 {
                walk(&p, depth + 1, out)?;
            }
        } else if p
            .file_name()
            .is_some_and(|n| n.to_string_lossy().ends_with(".api.json"))
        {
            out.push(p);
        }
    }
    Ok(())
}

/// The `.api.json` files of `inputs`: directories are searched recursively (sorted by path
/// within each directory), files are taken as they are, in the order given.
pub fn collect_files(inputs: &[impl AsRef<Path>]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for i in inputs {
        let p = i.as_ref();
        if p.is_dir() {
            let before = out.len();
            walk(p, 0, &mut out)?;
            if out.len() == before {
                return Err(Error::new(
                    p,
                    Location::File,
                    "no *.api.json files in this directory",
                ));
            }
        } else if p.exists() {
            out.push(p.to_path_buf());
        } else {
            return Err(Error::new(p, Location::File, "no such file or directory"));
        }
    }
    Ok(out)
}

/// Module name of an import path: `vnet/ip/ip_types.api` -> `ip_types`.
fn import_module(import: &str) -> &str {
    let base = import.rsplit('/').next().unwrap_or(import);
    base.strip_suffix(".json")
        .unwrap_or(base)
        .strip_suffix(".api")
        .unwrap_or(base)
}

impl Api {
    /// Loads trees (`/usr/share/vpp/api`), single files, or several of them, then resolves.
    pub fn load(inputs: &[impl AsRef<Path>]) -> Result<Api> {
        let paths = collect_files(inputs)?;
        let files = paths
            .iter()
            .map(|p| json::parse_file(p))
            .collect::<Result<Vec<_>>>()?;
        Api::from_files(files)
    }

    /// Resolves already parsed files (JSON or IDL front end).
    pub fn from_files(mut files: Vec<ApiFile>) -> Result<Api> {
        let types = build_type_table(&files)?;
        let mut r = Resolver {
            files: &files,
            types: &types,
        };
        let mut sizer = r.check_types()?;
        let mut messages = r.messages(&mut sizer)?;
        let type_layouts = sizer.layouts;
        let services = r.services(&messages)?;
        for s in services.values() {
            for (name, role) in classify::service_roles(&s.service) {
                if let Some(m) = messages.get_mut(&name) {
                    if !m.roles.contains(&role) {
                        m.roles.push(role);
                    }
                }
            }
        }
        for m in messages.values_mut() {
            m.kind = classify::kind_of(&m.roles);
        }
        let mut api = Api {
            files: Vec::new(),
            types,
            type_layouts,
            messages,
            services,
            crc: CrcReport::default(),
        };
        let (report, inferred) = verify::check(&api);
        // Record the inferred `[backwards_compatible]` members in the table and the files.
        for (enum_name, members) in &inferred {
            let mark = |e: &mut EnumDef| {
                for m in &mut e.members {
                    if members.contains(&m.name) {
                        m.backwards_compatible = true;
                    }
                }
            };
            if let Some(t) = api.types.get_mut(enum_name) {
                if let UserType::Enum(e) | UserType::EnumFlag(e) = &mut t.def {
                    mark(e);
                }
                t.crc_bytes = type_crc_bytes(&t.def);
            }
            for f in &mut files {
                for e in f.enums.iter_mut().chain(f.enumflags.iter_mut()) {
                    if &e.name == enum_name {
                        mark(e);
                    }
                }
            }
        }
        api.crc = report;
        api.files = files;
        Ok(api)
    }

    /// The files, in load order (with inferred `backwards_compatible` flags set).
    pub fn files(&self) -> &[ApiFile] {
        &self.files
    }

    /// The type table, in first-seen order: `(bare name, entry)`.
    pub fn types(&self) -> impl Iterator<Item = (&str, &TypeEntry)> {
        self.types.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// A user type by bare name (`address`) or C name (`vl_api_address_t`).
    pub fn user_type(&self, name: &str) -> Option<&TypeEntry> {
        self.types
            .get(name)
            .or_else(|| bare_type_name(name).and_then(|n| self.types.get(n)))
    }

    /// Layout of a typedef or union (bare or C name).
    pub fn type_layout(&self, name: &str) -> Option<&Layout> {
        self.type_layouts
            .get(name)
            .or_else(|| bare_type_name(name).and_then(|n| self.type_layouts.get(n)))
    }

    /// Every message, in load order (file by file, then document order).
    pub fn messages(&self) -> impl Iterator<Item = &MessageInfo> {
        self.messages.values()
    }

    pub fn message_count(&self) -> usize {
        self.messages.len()
    }

    pub fn message(&self, name: &str) -> Option<&MessageInfo> {
        self.messages.get(name)
    }

    /// The messages defined in file `file` (index into [`Api::files`]), in document order.
    pub fn file_messages(&self, file: usize) -> impl Iterator<Item = &MessageInfo> {
        self.messages
            .values()
            .filter(move |m| m.file == file || m.also_in.contains(&file))
    }

    /// Every service, in load order, keyed by request message.
    pub fn services(&self) -> impl Iterator<Item = &ServiceInfo> {
        self.services.values()
    }

    /// The service whose request is `request`.
    pub fn service(&self, request: &str) -> Option<&ServiceInfo> {
        self.services.get(request)
    }

    /// The services a message takes part in, with its role in each.
    pub fn services_of(&self, message: &str) -> Vec<(&ServiceInfo, &Role)> {
        let Some(m) = self.messages.get(message) else {
            return Vec::new();
        };
        m.roles
            .iter()
            .filter_map(|r| {
                let req = match r {
                    Role::Request => message,
                    Role::Reply { request }
                    | Role::Details { request }
                    | Role::Event { request } => request.as_str(),
                };
                self.services.get(req).map(|s| (s, r))
            })
            .collect()
    }

    /// The CRC check of the tree (computed when loading).
    pub fn crc_report(&self) -> &CrcReport {
        &self.crc
    }

    /// Path of file `i`.
    pub fn file_path(&self, i: usize) -> &Path {
        &self.files[i].path
    }
}

impl CrcTypes for Api {
    fn crc_type(&self, c_name: &str) -> Option<CrcType<'_>> {
        bare_type_name(c_name)
            .and_then(|n| self.types.get(n))
            .map(|t| t.def.as_crc_type())
    }
    fn crc_type_with_bytes(&self, c_name: &str) -> Option<(CrcType<'_>, Option<&[u8]>)> {
        bare_type_name(c_name)
            .and_then(|n| self.types.get(n))
            .map(|t| (t.def.as_crc_type(), Some(t.crc_bytes.as_slice())))
    }
}

impl Api {
    /// The raw table, for the verifier.
    pub(crate) fn table(&self) -> &IndexMap<String, TypeEntry> {
        &self.types
    }
}

fn is_json(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "json")
}

/// The place of element `idx` of top-level list `list` (and its element `elem`).
fn list_place(
    files: &[ApiFile],
    file: usize,
    list: &str,
    idx: usize,
    elem: Option<usize>,
) -> Location {
    if is_json(&files[file].path) {
        Location::JsonPath(json::json_path(list, idx, elem))
    } else {
        Location::File
    }
}

fn key_place(files: &[ApiFile], file: usize, list: &str, key: &str) -> Location {
    if is_json(&files[file].path) {
        Location::JsonPath(format!("$.{list}.{key}"))
    } else {
        Location::File
    }
}

fn render_place(files: &[ApiFile], p: &Place) -> String {
    let f = files[p.file].path.display();
    match &p.location {
        Location::File => f.to_string(),
        l => format!("{f}:{l}"),
    }
}

/// A borrowed type definition, compared against the table before anything is cloned (types are
/// copied into every importing file, so most are duplicates).
#[derive(Clone, Copy)]
enum TypeRef<'a> {
    Typedef(&'a TypeDef),
    Union(&'a UnionDef),
    Enum(&'a EnumDef),
    EnumFlag(&'a EnumDef),
    Alias(&'a Alias),
}

impl TypeRef<'_> {
    fn name(self) -> &'static str {
        match self {
            TypeRef::Typedef(_) => "typedef",
            TypeRef::Union(_) => "union",
            TypeRef::Enum(_) => "enum",
            TypeRef::EnumFlag(_) => "enumflag",
            TypeRef::Alias(_) => "alias",
        }
    }
    fn type_name(&self) -> &str {
        match self {
            TypeRef::Typedef(t) => &t.name,
            TypeRef::Union(u) => &u.name,
            TypeRef::Enum(e) | TypeRef::EnumFlag(e) => &e.name,
            TypeRef::Alias(a) => &a.name,
        }
    }
    /// Same API as `u` (typedef comments do not count).
    fn same_as(self, u: &UserType) -> bool {
        match (self, u) {
            (TypeRef::Typedef(a), UserType::Typedef(b)) => a.fields == b.fields,
            (TypeRef::Union(a), UserType::Union(b)) => a == b,
            (TypeRef::Enum(a), UserType::Enum(b)) => a == b,
            (TypeRef::EnumFlag(a), UserType::EnumFlag(b)) => a == b,
            (TypeRef::Alias(a), UserType::Alias(b)) => a == b,
            _ => false,
        }
    }
    fn to_owned(self) -> UserType {
        match self {
            TypeRef::Typedef(t) => UserType::Typedef(t.clone()),
            TypeRef::Union(u) => UserType::Union(u.clone()),
            TypeRef::Enum(e) => UserType::Enum(e.clone()),
            TypeRef::EnumFlag(e) => UserType::EnumFlag(e.clone()),
            TypeRef::Alias(a) => UserType::Alias(a.clone()),
        }
    }
}

fn build_type_table(files: &[ApiFile]) -> Result<IndexMap<String, TypeEntry>> {
    let mut table: IndexMap<String, TypeEntry> = IndexMap::new();
    // `place` renders the location only when it is needed.
    let mut add = |fi: usize, def: TypeRef, place: &dyn Fn() -> Location| -> Result<()> {
        let name = def.type_name();
        match table.get_mut(name) {
            None => {
                let def = def.to_owned();
                table.insert(
                    name.to_string(),
                    TypeEntry {
                        crc_bytes: type_crc_bytes(&def),
                        def,
                        place: Place {
                            file: fi,
                            location: place(),
                        },
                        files: vec![fi],
                        home: None,
                    },
                );
            }
            Some(e) => {
                if !def.same_as(&e.def) {
                    return Err(Error::new(
                        &files[fi].path,
                        place(),
                        format!(
                            "{} `{name}` conflicts with the {} of the same name at {}",
                            def.name(),
                            e.def.kind_name(),
                            render_place(files, &e.place)
                        ),
                    ));
                }
                if e.files.last() != Some(&fi) {
                    e.files.push(fi);
                }
            }
        }
        Ok(())
    };
    for (fi, f) in files.iter().enumerate() {
        for (i, t) in f.types.iter().enumerate() {
            add(fi, TypeRef::Typedef(t), &|| {
                list_place(files, fi, "types", i, None)
            })?;
        }
        for (i, t) in f.unions.iter().enumerate() {
            add(fi, TypeRef::Union(t), &|| {
                list_place(files, fi, "unions", i, None)
            })?;
        }
        for (i, t) in f.enums.iter().enumerate() {
            add(fi, TypeRef::Enum(t), &|| {
                list_place(files, fi, "enums", i, None)
            })?;
        }
        for (i, t) in f.enumflags.iter().enumerate() {
            add(fi, TypeRef::EnumFlag(t), &|| {
                list_place(files, fi, "enumflags", i, None)
            })?;
        }
        for t in &f.aliases {
            add(fi, TypeRef::Alias(t), &|| {
                key_place(files, fi, "aliases", &t.name)
            })?;
        }
    }
    // Home files: a file owns a type when none of the files it imports (the JSON lists imports
    // transitively) contains it. Only decidable when every import is loaded.
    let mut by_module: HashMap<String, usize> = HashMap::new();
    for (fi, f) in files.iter().enumerate() {
        by_module.entry(f.module_name()).or_insert(fi);
    }
    let imported: Vec<Option<HashSet<usize>>> = files
        .iter()
        .map(|f| {
            f.imports
                .iter()
                .map(|i| by_module.get(import_module(i)).copied())
                .collect::<Option<HashSet<usize>>>()
        })
        .collect();
    for e in table.values_mut() {
        let owners: Vec<usize> = e
            .files
            .iter()
            .copied()
            .filter(|&fi| match &imported[fi] {
                Some(imps) => !imps.iter().any(|i| e.files.contains(i)),
                None => false,
            })
            .collect();
        let undecidable = e.files.iter().any(|&fi| imported[fi].is_none());
        e.home = match owners.as_slice() {
            [one] if !undecidable => Some(*one),
            _ => None,
        };
    }
    Ok(table)
}

struct Resolver<'a> {
    files: &'a [ApiFile],
    types: &'a IndexMap<String, TypeEntry>,
}

impl<'a> Resolver<'a> {
    /// Turns a layout error into a located error; `top` is where the laid-out block is.
    fn layout_error(&self, e: LayoutError, top: (usize, &str, usize, &str)) -> Error {
        let (fi, list, idx, what) = top;
        match &e.ty {
            Some(t) if self.types.contains_key(t) => {
                let entry = &self.types[t];
                let p = &entry.place;
                let location = match (&p.location, e.field) {
                    (Location::JsonPath(jp), Some(j)) => {
                        Location::JsonPath(format!("{jp}[{}]", j + 1))
                    }
                    (l, _) => l.clone(),
                };
                Error::new(
                    &self.files[p.file].path,
                    location,
                    format!("{} `{t}`: {}", entry.def.kind_name(), e.message),
                )
            }
            _ => Error::new(
                &self.files[fi].path,
                list_place(self.files, fi, list, idx, e.field.map(|j| j + 1)),
                format!("{what}: {}", e.message),
            ),
        }
    }

    /// Lays out every typedef and union, and checks every alias target and enum.
    fn check_types(&mut self) -> Result<Sizer<'a>> {
        let mut sizer = Sizer::new(self.types);
        for (name, entry) in self.types {
            let p = &entry.place;
            match &entry.def {
                UserType::Typedef(_) | UserType::Union(_) => {
                    if let Err(e) = sizer.type_layout(name) {
                        let e = LayoutError {
                            ty: e.ty.or_else(|| Some(name.clone())),
                            ..e
                        };
                        return Err(self.layout_error(e, (p.file, "types", 0, name)));
                    }
                }
                UserType::Alias(a) => {
                    // Lay out a one-field block of the alias type to check its target.
                    let probe = [Field {
                        ty: format!("vl_api_{}_t", a.name),
                        name: "x".into(),
                        shape: FieldShape::Scalar,
                        options: Vec::new(),
                    }];
                    if let Err(e) = sizer.block(&probe, false) {
                        if e.ty.is_some() {
                            return Err(self.layout_error(e, (p.file, "aliases", 0, name)));
                        }
                        return Err(Error::new(
                            &self.files[p.file].path,
                            p.location.clone(),
                            format!(
                                "alias `{name}`: {}",
                                e.message.trim_start_matches("field `x`: ")
                            ),
                        ));
                    }
                }
                UserType::Enum(e) | UserType::EnumFlag(e) => {
                    let (lo, hi): (i64, i64) = match e.enumtype {
                        IntType::U8 => (0, 0xff),
                        IntType::U16 => (0, 0xffff),
                        IntType::U32 => (0, 0xffff_ffff),
                        IntType::I8 => (-0x80, 0x7f),
                        IntType::I16 => (-0x8000, 0x7fff),
                        IntType::I32 => (-0x8000_0000, 0x7fff_ffff),
                    };
                    if let Some((j, m)) = e
                        .members
                        .iter()
                        .enumerate()
                        .find(|(_, m)| m.value < lo || m.value > hi)
                    {
                        let location = match &p.location {
                            Location::JsonPath(jp) => {
                                Location::JsonPath(format!("{jp}[{}]", j + 1))
                            }
                            l => l.clone(),
                        };
                        return Err(Error::new(
                            &self.files[p.file].path,
                            location,
                            format!(
                                "{} `{name}`: value {} of {} does not fit its enumtype {}",
                                entry.def.kind_name(),
                                m.value,
                                m.name,
                                e.enumtype.name()
                            ),
                        ));
                    }
                }
            }
        }
        Ok(sizer)
    }

    fn messages(&mut self, sizer: &mut Sizer) -> Result<IndexMap<String, MessageInfo>> {
        let mut out: IndexMap<String, MessageInfo> = IndexMap::new();
        for (fi, f) in self.files.iter().enumerate() {
            for (i, m) in f.messages.iter().enumerate() {
                if let Some(prev) = out.get_mut(&m.name) {
                    if prev.msg != *m {
                        return Err(Error::new(
                            &f.path,
                            list_place(self.files, fi, "messages", i, None),
                            format!(
                                "message `{}` conflicts with the message of the same name at {}",
                                m.name,
                                render_place(
                                    self.files,
                                    &Place {
                                        file: prev.file,
                                        location: list_place(
                                            self.files, prev.file, "messages", prev.index, None
                                        )
                                    }
                                )
                            ),
                        ));
                    }
                    if prev.file != fi && !prev.also_in.contains(&fi) {
                        prev.also_in.push(fi);
                    }
                    continue;
                }
                let layout = sizer.block(&m.fields, false).map_err(|e| {
                    self.layout_error(e, (fi, "messages", i, &format!("message `{}`", m.name)))
                })?;
                let header = Header::of(&layout);
                out.insert(
                    m.name.clone(),
                    MessageInfo {
                        msg: m.clone(),
                        file: fi,
                        index: i,
                        also_in: Vec::new(),
                        layout,
                        header,
                        kind: MessageKind::Other,
                        roles: Vec::new(),
                    },
                );
            }
        }
        Ok(out)
    }

    fn services(
        &mut self,
        messages: &IndexMap<String, MessageInfo>,
    ) -> Result<IndexMap<String, ServiceInfo>> {
        let mut out: IndexMap<String, ServiceInfo> = IndexMap::new();
        for (fi, f) in self.files.iter().enumerate() {
            for s in &f.services {
                let at = |k: Option<&str>| {
                    let base = key_place(self.files, fi, "services", &s.request);
                    match (base, k) {
                        (Location::JsonPath(p), Some(k)) => Location::JsonPath(format!("{p}.{k}")),
                        (l, _) => l,
                    }
                };
                let mut refs: Vec<(&str, Option<&str>)> = vec![(s.request.as_str(), None)];
                if let Some(r) = &s.reply {
                    refs.push((r, Some("reply")));
                }
                if let Some(r) = &s.stream_msg {
                    refs.push((r, Some("stream_msg")));
                }
                for e in s.events.iter().flatten() {
                    refs.push((e, Some("events")));
                }
                for (name, key) in refs {
                    if !messages.contains_key(name) {
                        return Err(Error::new(
                            &f.path,
                            at(key),
                            format!("service `{}`: unknown message `{name}`", s.request),
                        ));
                    }
                }
                if let Some(prev) = out.get(&s.request) {
                    if prev.service != *s {
                        return Err(Error::new(
                            &f.path,
                            at(None),
                            format!(
                                "service `{}` conflicts with the service of the same request in {}",
                                s.request,
                                self.files[prev.file].path.display()
                            ),
                        ));
                    }
                    continue;
                }
                out.insert(
                    s.request.clone(),
                    ServiceInfo {
                        service: s.clone(),
                        file: fi,
                        kind: ServiceKind::of(s),
                        origin: ServiceOrigin::of(s),
                    },
                );
            }
        }
        Ok(out)
    }
}
