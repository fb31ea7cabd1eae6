//! The `vppapi-gen` command line: inspect, diff and verify API trees, and print the JSON of an
//! `.api` IDL file.
//!
//! Every command renders into a [`Output`] (text and exit code) so that tests can snapshot exactly
//! what a user sees; `main` only prints it.

pub mod diff;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use api_json::api::{Api, MessageInfo, UserType};
use api_json::classify::{Role, ServiceKind};
use api_json::layout::{FieldKind, Layout, VarTail};
use api_json::version::VersionStatus;
use api_json::{OptionValue, Service};
use clap::{Parser, Subcommand};
use serde_json::{json, Value};

pub use diff::ApiDiff;

/// Inspect, diff and verify FD.io VPP binary API definitions.
#[derive(Debug, Parser)]
#[command(name = "vppapi-gen", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the files of an API tree: module, version, message count, file CRC.
    Ls {
        /// A tree like /usr/share/vpp/api, a single .api.json file, or several of them.
        #[arg(required = true)]
        tree: Vec<PathBuf>,
        /// Also derive each file's runtime version `<module>_<crc>` (what VPP registers and
        /// `get_first_msg_id` looks up). JSON does not record the order of a file's objects, so
        /// it is reconstructed and kept only when it reproduces the stated `vl_api_version`.
        #[arg(long)]
        versions: bool,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Show one message or type: layout (offsets, sizes), CRC, header, services.
    Show {
        tree: PathBuf,
        /// Message or type name (`sw_interface_details`, `address`, `vl_api_address_t`).
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Messages added, removed and changed (CRC) from TREE_A to TREE_B.
    Diff {
        tree_a: PathBuf,
        tree_b: PathBuf,
        /// Exit with status 1 when anything was removed or changed.
        #[arg(long)]
        check: bool,
        #[arg(long)]
        json: bool,
    },
    /// Recompute every message CRC and compare it with the one the files state.
    Crc {
        #[arg(required = true)]
        tree: Vec<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Generate Rust for an API tree: one file `vpp_api.rs` with a module per API file (for
    /// `include!`), or with `--crate NAME` a bindings crate (Cargo.toml with one feature per
    /// module, src/*.rs).
    Generate {
        #[arg(required = true)]
        tree: Vec<PathBuf>,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
        /// Only this module and the modules it needs (repeatable).
        #[arg(long = "module")]
        module: Vec<String>,
        /// Write a crate with this package name instead of one file.
        #[arg(long = "crate")]
        crate_name: Option<String>,
        /// With --crate: each TREE is one release, labelled by its directory name (`24.10`);
        /// the last is the crate root, the others modules `v24_10` with prefixed features.
        #[arg(long, requires = "crate_name")]
        releases: bool,
    },
    /// Print the .api.json vppapigen would write for an .api IDL file.
    Json {
        file: PathBuf,
        /// Directory to resolve `import "vnet/...";` against (repeatable; default: current dir).
        #[arg(long = "include", short = 'I')]
        include: Vec<PathBuf>,
    },
}

/// What a command prints and its exit status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

impl Output {
    fn ok(stdout: String) -> Output {
        Output {
            stdout,
            stderr: String::new(),
            code: 0,
        }
    }
    fn fail(stderr: String, code: i32) -> Output {
        Output {
            stdout: String::new(),
            stderr,
            code,
        }
    }
}

/// Exit status for bad input (unreadable or invalid definitions, unknown names).
pub const EXIT_ERROR: i32 = 2;
/// Exit status for a failed check (`diff --check` found breaking changes, `crc` mismatches).
pub const EXIT_CHECK_FAILED: i32 = 1;

/// Runs a parsed command.
pub fn run(cli: &Cli) -> Output {
    let result = match &cli.command {
        Command::Ls {
            tree,
            versions,
            json,
        } => load(tree).map(|api| ls(&api, *versions, *json)),
        Command::Show { tree, name, json } => {
            load(std::slice::from_ref(tree)).and_then(|api| show(&api, name, *json))
        }
        Command::Diff {
            tree_a,
            tree_b,
            check,
            json,
        } => load(std::slice::from_ref(tree_a)).and_then(|a| {
            load(std::slice::from_ref(tree_b)).map(|b| diff_trees(&a, &b, *check, *json))
        }),
        Command::Crc { tree, json } => load(tree).map(|api| crc(&api, *json)),
        Command::Json { file, include } => json_of_idl(file, include),
        Command::Generate {
            tree,
            out,
            module,
            crate_name,
            releases,
        } => generate_cmd(tree, out, module, crate_name.as_deref(), *releases),
    };
    result.unwrap_or_else(|e| Output::fail(format!("error: {e}\n"), EXIT_ERROR))
}

fn generate_cmd(
    tree: &[PathBuf],
    out: &Path,
    modules: &[String],
    crate_name: Option<&str>,
    releases: bool,
) -> Result<Output, String> {
    let only = (!modules.is_empty()).then_some(modules);
    let mut rels = Vec::new();
    if releases {
        for t in tree {
            let label = t
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .ok_or_else(|| format!("{}: a release tree needs a directory name", t.display()))?;
            let api = load(std::slice::from_ref(t))?;
            let g = crate::gen::generate(&api, only).map_err(|e| format!("{label}: {e}"))?;
            rels.push(crate::ReleaseBindings {
                label,
                generated: g,
            });
        }
    } else {
        let api = load(tree)?;
        let g = crate::gen::generate(&api, only).map_err(|e| e.to_string())?;
        let label = tree
            .last()
            .and_then(|t| t.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        rels.push(crate::ReleaseBindings {
            label,
            generated: g,
        });
    }
    let count = |g: &crate::Generated| g.modules.iter().map(|m| m.message_count).sum::<usize>();
    let messages: usize = rels.iter().map(|r| count(&r.generated)).sum();
    let n_modules: usize = rels.iter().map(|r| r.generated.modules.len()).sum();
    let what = match crate_name {
        Some(name) => {
            let opts = if name == "vppapi-binapi" {
                crate::binapi_options()
            } else {
                crate::CrateOptions {
                    name: name.to_owned(),
                    description: format!("VPP API bindings generated by vppapi-gen ({name})"),
                    default_features: vec!["full".into()],
                    doc: String::new(),
                    workspace: false,
                }
            };
            crate::write_crate(&rels, &opts, out).map_err(|e| e.to_string())?;
            format!("crate {name} in {}", out.display())
        }
        None => {
            let p = out.join("vpp_api.rs");
            let g = &rels[0].generated;
            std::fs::create_dir_all(out)
                .and_then(|_| std::fs::write(&p, g.single_file()))
                .map_err(|e| format!("writing {}: {e}", p.display()))?;
            p.display().to_string()
        }
    };
    Ok(Output::ok(format!(
        "generated {n_modules} modules, {messages} messages: {what}\n"
    )))
}

fn load(inputs: &[PathBuf]) -> Result<Api, String> {
    Api::load(inputs).map_err(|e| e.to_string())
}

fn pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}

fn option_str(v: &OptionValue) -> String {
    match v {
        OptionValue::Null => "null".into(),
        OptionValue::Bool(b) => b.to_string(),
        OptionValue::Int(i) => i.to_string(),
        OptionValue::Float(f) => f.to_string(),
        OptionValue::Str(s) => s.clone(),
    }
}

/// A file's path relative to the tree it came from, for compact listings.
fn display_path(api: &Api, i: usize, roots: &[PathBuf]) -> String {
    let p = api.file_path(i);
    for r in roots {
        if let Ok(rel) = p.strip_prefix(r) {
            if !rel.as_os_str().is_empty() {
                return rel.display().to_string();
            }
        }
    }
    p.display().to_string()
}

// ---------------------------------------------------------------------------------------------
// ls

/// `ls`: one line per file.
pub fn ls(api: &Api, versions: bool, as_json: bool) -> Output {
    let roots: Vec<PathBuf> = common_roots(api);
    // `<module>_<crc>` per file, or why not (only computed on request: it searches orders).
    let runtime: Vec<Result<String, String>> = if versions {
        let mut v: Vec<Result<String, String>> =
            vec![Err("not computed".into()); api.files().len()];
        for fv in api.file_versions() {
            v[fv.file] = fv.runtime_name().ok_or_else(|| match &fv.status {
                VersionStatus::ImportsMissing(i) => {
                    format!("imports not in tree: {}", i.join(", "))
                }
                VersionStatus::ImportsNotDerived(i) => {
                    format!("imports not derived: {}", i.join(", "))
                }
                VersionStatus::NotFound { .. } => "object order not reconstructed".into(),
                VersionStatus::NoImportsNotReproduced { .. } => {
                    "object order not reconstructed".into()
                }
                VersionStatus::Derived { .. } => "derived".into(),
            });
        }
        v
    } else {
        Vec::new()
    };
    let rows: Vec<(String, String, String, usize, u32)> = api
        .files()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let version = f
                .options
                .iter()
                .find(|(k, _)| k == "version")
                .map(|(_, v)| option_str(v))
                .unwrap_or_else(|| "-".into());
            (
                display_path(api, i, &roots),
                f.module_name(),
                version,
                f.messages.len(),
                f.vl_api_version,
            )
        })
        .collect();
    if as_json {
        let files: Vec<Value> = rows
            .iter()
            .enumerate()
            .map(|(i, (path, module, version, n, crc))| {
                let mut v = json!({"file": path, "module": module, "version": version,
                       "messages": n, "vl_api_version": format!("{crc:#x}")});
                if let Some(r) = runtime.get(i) {
                    v["runtime_version"] = match r {
                        Ok(name) => json!(name),
                        Err(why) => json!({"unknown": why}),
                    };
                }
                v
            })
            .collect();
        return Output::ok(pretty(&json!({
            "files": files,
            "total_files": rows.len(),
            "total_messages": api.message_count(),
            "total_types": api.types().count(),
        })));
    }
    let w = rows.iter().map(|r| r.0.len()).max().unwrap_or(4).max(4);
    let mut out = String::new();
    let _ = write!(
        out,
        "{:<w$}  {:<24}  {:>8}  {:>8}  {:>10}",
        "FILE", "MODULE", "VERSION", "MESSAGES", "FILE CRC"
    );
    out.push_str(if versions {
        "  RUNTIME VERSION\n"
    } else {
        "\n"
    });
    for (i, (path, module, version, n, crc)) in rows.iter().enumerate() {
        let _ = write!(
            out,
            "{path:<w$}  {module:<24}  {version:>8}  {n:>8}  {:>10}",
            format!("{crc:#x}")
        );
        match runtime.get(i) {
            Some(Ok(name)) => {
                let _ = writeln!(out, "  {name}");
            }
            Some(Err(why)) => {
                let _ = writeln!(out, "  ? ({why})");
            }
            None => out.push('\n'),
        }
    }
    let _ = writeln!(
        out,
        "{} files, {} messages, {} types",
        rows.len(),
        api.message_count(),
        api.types().count()
    );
    Output::ok(out)
}

/// The longest directory prefix shared by all files (for relative display).
fn common_roots(api: &Api) -> Vec<PathBuf> {
    let mut root: Option<PathBuf> = None;
    for f in api.files() {
        let dir = f.path.parent().map(Path::to_path_buf).unwrap_or_default();
        root = Some(match root {
            None => dir,
            Some(r) => {
                let mut common = PathBuf::new();
                for (a, b) in r.components().zip(dir.components()) {
                    if a != b {
                        break;
                    }
                    common.push(a.as_os_str());
                }
                common
            }
        });
    }
    root.into_iter().collect()
}

// ---------------------------------------------------------------------------------------------
// show

fn field_kind_str(k: &FieldKind) -> String {
    match k {
        FieldKind::Scalar => String::new(),
        FieldKind::Array { len } => format!("[{len}]"),
        FieldKind::FixedString { len } => format!("[{len}]"),
        FieldKind::VarString => "[]".into(),
        FieldKind::Vla { count_field, .. } => format!("[{count_field}]"),
        FieldKind::Rest => "[0]".into(),
    }
}

fn tail_str(t: &VarTail) -> String {
    match t {
        VarTail::Vla {
            field,
            offset,
            elem_size,
            count_field,
            count_offset,
            ..
        } => format!(
            "{field} @{offset}: {elem_size}-byte elements, count in {count_field} @{count_offset}"
        ),
        VarTail::String { field, offset } => {
            format!("{field} @{offset}: u32 length + bytes")
        }
        VarTail::Rest {
            field,
            offset,
            elem_size,
        } => format!("{field} @{offset}: {elem_size}-byte elements to the end of the message"),
        VarTail::Nested {
            field,
            offset,
            ty,
            inner,
        } => format!("{field} @{offset} ({ty}) -> {}", tail_str(inner)),
    }
}

fn layout_text(out: &mut String, layout: &Layout) {
    let _ = writeln!(
        out,
        "  {:>6}  {:>5}  {:<32}  NAME",
        "OFFSET", "SIZE", "TYPE"
    );
    for f in &layout.fields {
        let size = if f.variable {
            format!("{}+", f.size)
        } else {
            f.size.to_string()
        };
        let ty = format!("{}{}", f.ty, field_kind_str(&f.kind));
        let _ = writeln!(
            out,
            "  {:>6}  {:>5}  {:<32}  {}",
            f.offset, size, ty, f.name
        );
    }
    match &layout.tail {
        None => {
            let _ = writeln!(out, "size: {} bytes", layout.fixed_size);
        }
        Some(t) => {
            let _ = writeln!(
                out,
                "size: {} bytes fixed + variable tail: {}",
                layout.fixed_size,
                tail_str(t)
            );
        }
    }
}

fn layout_json(layout: &Layout) -> Value {
    json!({
        "fields": layout.fields.iter().map(|f| json!({
            "name": f.name,
            "type": f.ty,
            "shape": field_kind_str(&f.kind),
            "offset": f.offset,
            "size": f.size,
            "variable": f.variable,
        })).collect::<Vec<_>>(),
        "fixed_size": layout.fixed_size,
        "tail": layout.tail.as_ref().map(tail_str),
    })
}

fn service_str(s: &Service, kind: ServiceKind) -> String {
    let reply = s.reply.as_deref().unwrap_or("null");
    match kind {
        ServiceKind::Events => format!(
            "{} -> {}, events {}",
            s.request,
            reply,
            s.events.clone().unwrap_or_default().join(", ")
        ),
        ServiceKind::Cursor => format!(
            "{} -> {} + stream {}",
            s.request,
            reply,
            s.stream_msg.as_deref().unwrap_or("?")
        ),
        ServiceKind::Dump => format!("{} -> stream {}", s.request, reply),
        ServiceKind::NullReply => format!("{} -> (no reply)", s.request),
        ServiceKind::RequestReply => format!("{} -> {}", s.request, reply),
    }
}

fn role_str(r: &Role) -> &'static str {
    match r {
        Role::Request => "request",
        Role::Reply { .. } => "reply",
        Role::Details { .. } => "details",
        Role::Event { .. } => "event",
    }
}

/// `show`: a message (by name or `name_crc`) or a type.
pub fn show(api: &Api, name: &str, as_json: bool) -> Result<Output, String> {
    let roots = common_roots(api);
    if let Some(m) = api
        .message(name)
        .or_else(|| api.messages().find(|m| m.name_crc() == name))
    {
        return Ok(show_message(api, m, &roots, as_json));
    }
    if let Some(t) = api.user_type(name) {
        let file = display_path(api, t.home.unwrap_or(t.place.file), &roots);
        let layout = api.type_layout(name);
        if as_json {
            let mut v = json!({
                "name": t.def.name(),
                "kind": t.def.kind_name(),
                "file": file,
            });
            match &t.def {
                UserType::Enum(e) | UserType::EnumFlag(e) => {
                    v["enumtype"] = json!(e.enumtype.name());
                    v["members"] = e
                        .members
                        .iter()
                        .map(|m| {
                            json!({"name": m.name, "value": m.value,
                                         "backwards_compatible": m.backwards_compatible})
                        })
                        .collect();
                }
                UserType::Alias(a) => {
                    v["target"] = json!(a.ty);
                    v["length"] = json!(a.length);
                }
                _ => {}
            }
            if let Some(l) = layout {
                v["layout"] = layout_json(l);
            }
            return Ok(Output::ok(pretty(&v)));
        }
        let mut out = String::new();
        let _ = writeln!(out, "{} {}  ({file})", t.def.kind_name(), t.def.name());
        match &t.def {
            UserType::Enum(e) | UserType::EnumFlag(e) => {
                let _ = writeln!(out, "enumtype: {}", e.enumtype.name());
                for m in &e.members {
                    let bc = if m.backwards_compatible {
                        "  [backwards_compatible]"
                    } else {
                        ""
                    };
                    let _ = writeln!(out, "  {:<48} = {}{bc}", m.name, m.value);
                }
            }
            UserType::Alias(a) => {
                let len = a.length.map(|l| format!("[{l}]")).unwrap_or_default();
                let _ = writeln!(out, "alias of {}{len}", a.ty);
            }
            _ => {}
        }
        if let Some(l) = layout {
            layout_text(&mut out, l);
        }
        return Ok(Output::ok(out));
    }
    Err(format!(
        "no message or type named '{name}' in this tree ({} messages, {} types)",
        api.message_count(),
        api.types().count()
    ))
}

fn show_message(api: &Api, m: &MessageInfo, roots: &[PathBuf], as_json: bool) -> Output {
    let file = display_path(api, m.file, roots);
    let crc_check = api
        .crc_report()
        .messages
        .iter()
        .find(|c| c.name == m.msg.name)
        .map(|c| match &c.computed {
            Ok(x) if *x == c.stated => "ok".to_string(),
            Ok(x) => format!("MISMATCH (recomputed {x:#010x})"),
            Err(e) => format!("not computable: {e}"),
        })
        .unwrap_or_else(|| "not checked".into());
    let services: Vec<(String, &'static str)> = api
        .services_of(&m.msg.name)
        .into_iter()
        .map(|(s, r)| (service_str(&s.service, s.kind), role_str(r)))
        .collect();
    if as_json {
        return Output::ok(pretty(&json!({
            "name": m.msg.name,
            "name_crc": m.name_crc(),
            "crc": format!("{:#010x}", m.msg.crc),
            "crc_check": crc_check,
            "file": file,
            "kind": m.kind.name(),
            "header": {
                "client_index": m.header.client_index,
                "context": m.header.context,
                "pid": m.header.pid,
            },
            "options": m.msg.options.iter().map(|(k, v)| (k.clone(), json!(option_str(v))))
                .collect::<serde_json::Map<_, _>>(),
            "services": services.iter().map(|(s, r)| json!({"role": r, "service": s}))
                .collect::<Vec<_>>(),
            "layout": layout_json(&m.layout),
        })));
    }
    let mut out = String::new();
    let _ = writeln!(out, "message {}  ({file})", m.name_crc());
    let _ = writeln!(out, "crc: {:#010x} (recomputed: {crc_check})", m.msg.crc);
    let _ = writeln!(out, "kind: {}", m.kind.name());
    let _ = writeln!(out, "header: {}", m.header.describe());
    for (s, r) in &services {
        let _ = writeln!(out, "service ({r}): {s}");
    }
    if !m.msg.options.is_empty() {
        let opts: Vec<String> = m
            .msg
            .options
            .iter()
            .map(|(k, v)| match v {
                OptionValue::Null => k.clone(),
                v => format!("{k}={}", option_str(v)),
            })
            .collect();
        let _ = writeln!(out, "options: {}", opts.join(", "));
    }
    layout_text(&mut out, &m.layout);
    Output::ok(out)
}

// ---------------------------------------------------------------------------------------------
// diff

/// `diff`: messages added, removed, changed from `a` to `b`.
pub fn diff_trees(a: &Api, b: &Api, check: bool, as_json: bool) -> Output {
    let pairs = |api: &Api| -> Vec<(String, u32)> {
        api.messages()
            .map(|m| (m.msg.name.clone(), m.msg.crc))
            .collect()
    };
    let (pa, pb) = (pairs(a), pairs(b));
    let d = ApiDiff::between(
        pa.iter().map(|(n, c)| (n.as_str(), *c)),
        pb.iter().map(|(n, c)| (n.as_str(), *c)),
    );
    let stdout = if as_json {
        pretty(&d.to_json())
    } else {
        d.to_text()
    };
    let code = if check && d.is_breaking() {
        EXIT_CHECK_FAILED
    } else {
        0
    };
    Output {
        stdout,
        stderr: String::new(),
        code,
    }
}

// ---------------------------------------------------------------------------------------------
// crc

/// `crc`: recompute and verify every message CRC.
pub fn crc(api: &Api, as_json: bool) -> Output {
    let r = api.crc_report();
    let roots = common_roots(api);
    let mismatches: Vec<_> = r.mismatches().collect();
    let code = if mismatches.is_empty() {
        0
    } else {
        EXIT_CHECK_FAILED
    };
    if as_json {
        let v = json!({
            "messages": r.messages.len(),
            "ok": r.ok_count(),
            "mismatches": mismatches.iter().map(|m| json!({
                "name": m.name,
                "file": display_path(api, m.file, &roots),
                "stated": format!("{:#010x}", m.stated),
                "computed": match &m.computed {
                    Ok(c) => json!(format!("{c:#010x}")),
                    Err(e) => json!({"error": e}),
                },
            })).collect::<Vec<_>>(),
            "inferred_backwards_compatible": r.inferred.iter().map(|i| json!({
                "enum": i.enum_name,
                "members": i.members,
                "messages": i.messages,
            })).collect::<Vec<_>>(),
        });
        return Output {
            stdout: pretty(&v),
            stderr: String::new(),
            code,
        };
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} of {} message CRCs match",
        r.ok_count(),
        r.messages.len()
    );
    if !r.inferred.is_empty() {
        let _ = writeln!(
            out,
            "inferred [backwards_compatible] enum members (JSON does not mark them):"
        );
        for i in &r.inferred {
            let _ = writeln!(
                out,
                "  {}: {} (fixes {} messages)",
                i.enum_name,
                i.members.join(", "),
                i.messages.len()
            );
        }
    }
    for m in &mismatches {
        let computed = match &m.computed {
            Ok(c) => format!("{c:#010x}"),
            Err(e) => format!("error: {e}"),
        };
        let _ = writeln!(
            out,
            "MISMATCH {} ({}): stated {:#010x}, computed {computed}",
            m.name,
            display_path(api, m.file, &roots),
            m.stated
        );
    }
    Output {
        stdout: out,
        stderr: String::new(),
        code,
    }
}

// ---------------------------------------------------------------------------------------------
// json

/// `json FILE.api`: the JSON vppapigen writes for an IDL file.
pub fn json_of_idl(file: &Path, include: &[PathBuf]) -> Result<Output, String> {
    let include = if include.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        include.to_vec()
    };
    let loaded = api_json::idl::load(file, &include).map_err(|e| e.to_string())?;
    let mut s = api_json::json_out::to_string(&loaded.file);
    if !s.ends_with('\n') {
        s.push('\n');
    }
    Ok(Output::ok(s))
}
