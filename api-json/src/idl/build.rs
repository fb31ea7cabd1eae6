//! From syntax trees to the [`ApiFile`] model, the way vppapigen's JSON plugin builds it:
//! type checks (undefined or redefined types, VLA rules), enum numbering, `autoreply`
//! replies, implicit services, folded message CRCs, and the import expansion that decides the
//! order of `types`/`unions`/`enums`/`aliases` and the `vl_api_version`.

use std::collections::HashMap;
use std::path::Path;

use super::ast::*;
use super::parser::error_at;
use crate::crc::{self, c_type_name, CrcObject, CrcType, CrcTypeTable};
use crate::error::Result;
use crate::model::*;

/// One loaded file: its tree and, for each `import` statement (in order), the unit it names.
#[derive(Debug)]
pub(crate) struct Unit {
    pub idl: IdlFile,
    /// Index into the loader's unit list for each `import` statement, in statement order.
    pub imports: Vec<usize>,
    /// The file's own user types, built by [`check_unit`].
    pub types: Vec<UserType>,
}

/// A user type defined by a file.
#[derive(Debug, Clone)]
pub(crate) struct UserType {
    pub def: TypeKind,
    pub pos: Pos,
    /// Contains a variable-length part (must be the last field wherever used).
    pub vla: bool,
    /// Unfolded crc bytes (vppapigen's `.crc` of the object), computed once.
    pub crc_bytes: Vec<u8>,
}

#[derive(Debug, Clone)]
pub(crate) enum TypeKind {
    Typedef(TypeDef),
    Union(UnionDef),
    Enum { def: EnumDef, flag: bool },
    Alias(Alias),
}

impl TypeKind {
    pub fn name(&self) -> &str {
        match self {
            TypeKind::Typedef(t) => &t.name,
            TypeKind::Union(u) => &u.name,
            TypeKind::Enum { def, .. } => &def.name,
            TypeKind::Alias(a) => &a.name,
        }
    }
}

const BASE_TYPES: &[&str] = &[
    "u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64", "f64", "bool", "string",
];

/// What a visible type name refers to: (unit index, index in that unit's `types`).
type TypeRef = (usize, usize);

/// A type visible at some point of a file.
struct Seen {
    r: TypeRef,
    vla: bool,
}

struct Scope<'u> {
    units: &'u [Unit],
    /// The unit being checked and the positions of its types so far (not yet stored).
    idx: usize,
    own_pos: Vec<Pos>,
    visible: HashMap<String, Seen>,
}

impl Scope<'_> {
    /// `file:line:col` of a type definition (for error messages only).
    fn site(&self, r: TypeRef) -> String {
        let unit = &self.units[r.0];
        let pos = if r.0 == self.idx {
            self.own_pos.get(r.1).copied()
        } else {
            unit.types.get(r.1).map(|t| t.pos)
        };
        let pos = pos.unwrap_or(Pos { line: 0, column: 0 });
        format!("{}:{}:{}", unit.idl.path.display(), pos.line, pos.column)
    }

    /// Make every type of unit `idx` and of its imports visible.
    fn add_closure(&mut self, idx: usize, path: &Path, at: Pos) -> Result<()> {
        let mut stack = vec![idx];
        let mut seen = vec![false; self.units.len()];
        while let Some(u) = stack.pop() {
            if std::mem::replace(&mut seen[u], true) {
                continue;
            }
            let unit = &self.units[u];
            for (ti, t) in unit.types.iter().enumerate() {
                self.add(t.def.name(), (u, ti), t.vla, path, at)?;
            }
            stack.extend(unit.imports.iter().copied());
        }
        Ok(())
    }

    fn add(&mut self, name: &str, r: TypeRef, vla: bool, path: &Path, at: Pos) -> Result<()> {
        let c_name = c_type_name(name);
        match self.visible.get(&c_name) {
            Some(old) if old.r == r => Ok(()),
            Some(old) => Err(error_at(
                path,
                at,
                format!(
                    "duplicate definition of type `{name}` (also defined at {})",
                    self.site(old.r)
                ),
            )),
            None => {
                self.visible.insert(c_name, Seen { r, vla });
                Ok(())
            }
        }
    }
}

/// Check a block's fields against the visible types and vppapigen's VLA rules; returns whether
/// the block has a variable-length part.
fn check_block(scope: &Scope, path: &Path, owner: &str, fields: &[&Decl]) -> Result<bool> {
    let mut vla = false;
    for (i, d) in fields.iter().enumerate() {
        let user_vla = if BASE_TYPES.contains(&d.ty.as_str()) {
            false
        } else {
            match scope.visible.get(&d.ty) {
                Some(t) => t.vla,
                None => {
                    return Err(error_at(
                        path,
                        d.pos,
                        format!(
                            "undefined type `{}` (field `{}` of `{owner}`)",
                            d.ty, d.name
                        ),
                    ))
                }
            }
        };
        if let FieldShape::Vla { count } = &d.shape {
            let earlier = fields[..i].iter().any(|f| &f.name == count);
            if !earlier {
                let later = fields[i + 1..].iter().any(|f| &f.name == count);
                return Err(error_at(
                    path,
                    d.count_pos.unwrap_or(d.pos),
                    if later {
                        format!(
                            "length field `{count}` of `{}` must be declared before it (in `{owner}`)",
                            d.name
                        )
                    } else {
                        format!(
                            "missing length field `{count}` for `{}` (in `{owner}`)",
                            d.name
                        )
                    },
                ));
            }
        }
        let is_vla = matches!(d.shape, FieldShape::Vla { .. })
            || user_vla
            || (d.ty == "string" && d.shape == (FieldShape::Array { len: 0 }));
        if is_vla {
            vla = true;
            if i + 1 < fields.len() {
                return Err(error_at(
                    path,
                    d.pos,
                    format!(
                        "variable-length field `{}` must be the last field of `{owner}`",
                        d.name
                    ),
                ));
            }
        }
    }
    Ok(vla)
}

fn to_field(d: &Decl) -> Field {
    Field {
        ty: d.ty.clone(),
        name: d.name.clone(),
        shape: d.shape.clone(),
        options: d.options.clone(),
    }
}

/// Only declarations: options are allowed in `define` blocks only.
fn plain_fields<'a>(path: &Path, kind: &str, items: &'a [BlockItem]) -> Result<Vec<&'a Decl>> {
    items
        .iter()
        .map(|it| match it {
            BlockItem::Field(d) => Ok(d),
            BlockItem::Option { pos, name, .. } => Err(error_at(
                path,
                *pos,
                format!("`option {name}` is not allowed in a {kind} (only in `define` blocks)"),
            )),
        })
        .collect()
}

/// Python dict assignment: a repeated key keeps its first position and takes the last value.
fn dict_set<V>(list: &mut Vec<(String, V)>, key: &str, value: V) {
    if let Some(slot) = list.iter_mut().find(|(k, _)| k == key) {
        slot.1 = value;
    } else {
        list.push((key.to_string(), value));
    }
}

fn build_enum(path: &Path, name: &str, enumtype: IntType, items: &[EnumItem]) -> Result<EnumDef> {
    let mut members = Vec::with_capacity(items.len());
    let mut next: i64 = 0;
    let mut bc_seen = false;
    for it in items {
        let value = it.value.unwrap_or(next);
        next = value.checked_add(1).ok_or_else(|| {
            error_at(path, it.pos, format!("enum value of {} overflows", it.name))
        })?;
        let bc = it.options.iter().any(|(k, _)| k == "backwards_compatible");
        if bc {
            bc_seen = true;
        } else if bc_seen {
            return Err(error_at(
                path,
                it.pos,
                format!(
                    "enumerator {} of `{name}` follows a [backwards_compatible] one: those must come last",
                    it.name
                ),
            ));
        }
        members.push(EnumMember {
            name: it.name.clone(),
            value,
            backwards_compatible: bc,
        });
    }
    Ok(EnumDef {
        name: name.to_string(),
        members,
        enumtype,
    })
}

/// Type-check one unit (its imports must be checked already) and record its user types.
pub(crate) fn check_unit(units: &mut [Unit], idx: usize) -> Result<()> {
    let mut types: Vec<UserType> = Vec::new();
    {
        let unit = &units[idx];
        let path = unit.idl.path.as_path();
        let mut scope = Scope {
            units,
            idx,
            own_pos: Vec::new(),
            visible: HashMap::new(),
        };
        let mut import_no = 0;
        for st in &unit.idl.stmts {
            let (name, def, vla) = match &st.kind {
                StmtKind::Import { .. } => {
                    let target = unit.imports[import_no];
                    import_no += 1;
                    scope.add_closure(target, path, st.pos)?;
                    continue;
                }
                StmtKind::Typedef {
                    name,
                    items,
                    comment,
                    ..
                } => {
                    let decls = plain_fields(path, "typedef", items)?;
                    let vla = check_block(&scope, path, name, &decls)?;
                    let def = TypeKind::Typedef(TypeDef {
                        name: name.clone(),
                        fields: decls.iter().map(|d| to_field(d)).collect(),
                        comment: comment.clone(),
                    });
                    (name, def, vla)
                }
                StmtKind::Union { name, items, .. } => {
                    let decls = plain_fields(path, "union", items)?;
                    let vla = check_block(&scope, path, name, &decls)?;
                    let def = TypeKind::Union(UnionDef {
                        name: name.clone(),
                        fields: decls.iter().map(|d| to_field(d)).collect(),
                    });
                    (name, def, vla)
                }
                StmtKind::Alias { name, decl, .. } => {
                    check_block(&scope, path, name, &[decl])?;
                    let length = match &decl.shape {
                        FieldShape::Scalar => None,
                        FieldShape::Array { len } => Some(*len),
                        FieldShape::Vla { .. } => {
                            return Err(error_at(
                                path,
                                decl.pos,
                                format!("alias `{name}` cannot be a variable-length array"),
                            ))
                        }
                    };
                    let def = TypeKind::Alias(Alias {
                        name: name.clone(),
                        ty: decl.ty.clone(),
                        length,
                    });
                    (name, def, false)
                }
                StmtKind::Enum {
                    flag,
                    name,
                    enumtype,
                    members,
                } => {
                    let def = build_enum(path, name, *enumtype, members)?;
                    (name, TypeKind::Enum { def, flag: *flag }, false)
                }
                StmtKind::Define { name, items, .. } => {
                    let decls: Vec<&Decl> = items
                        .iter()
                        .filter_map(|it| match it {
                            BlockItem::Field(d) => Some(d),
                            BlockItem::Option { .. } => None,
                        })
                        .collect();
                    check_block(&scope, path, name, &decls)?;
                    continue;
                }
                _ => continue,
            };
            scope.add(name, (idx, types.len()), vla, path, st.pos)?;
            scope.own_pos.push(st.pos);
            let mut t = UserType {
                def,
                pos: st.pos,
                vla,
                crc_bytes: Vec::new(),
            };
            t.crc_bytes = crc::object_crc_bytes(&crc_object(&t));
            types.push(t);
        }
    }
    units[idx].types = types;
    Ok(())
}

/// Everything vppapigen's JSON plugin derives for the main unit.
pub(crate) struct Built {
    pub file: ApiFile,
    pub runtime_crc: u32,
}

/// An object of the import-expanded statement list (vppapigen `process_imports`).
enum Obj<'u> {
    Own(&'u Stmt),
    /// A user type of an imported unit.
    Imported(&'u UserType),
    Import(&'u str),
}

fn expand<'u>(
    units: &'u [Unit],
    idx: usize,
    in_import: bool,
    out: &mut Vec<Obj<'u>>,
    depth: usize,
) {
    let unit = &units[idx];
    let mut import_no = 0;
    let mut type_no = 0;
    for st in &unit.idl.stmts {
        match &st.kind {
            StmtKind::Import { path } => {
                let target = unit.imports[import_no];
                import_no += 1;
                out.push(Obj::Import(path));
                // Cycles are rejected while loading; the depth bound is a second guard.
                if depth < 64 {
                    expand(units, target, true, out, depth + 1);
                }
            }
            StmtKind::Typedef { .. }
            | StmtKind::Union { .. }
            | StmtKind::Alias { .. }
            | StmtKind::Enum { .. } => {
                if in_import {
                    out.push(Obj::Imported(&unit.types[type_no]));
                } else {
                    out.push(Obj::Own(st));
                }
                type_no += 1;
            }
            _ if in_import => {}
            _ => out.push(Obj::Own(st)),
        }
    }
}

fn define_parts(items: &[BlockItem]) -> (Vec<Field>, Vec<(String, OptionValue)>) {
    let mut fields = vec![Field {
        ty: "u16".into(),
        name: crc::MSG_ID_FIELD.into(),
        shape: FieldShape::Scalar,
        options: vec![],
    }];
    let mut options = Vec::new();
    for it in items {
        match it {
            BlockItem::Field(d) => fields.push(to_field(d)),
            BlockItem::Option { name, value, .. } => dict_set(&mut options, name, value.clone()),
        }
    }
    (fields, options)
}

fn crc_object<'a>(t: &'a UserType) -> CrcObject<'a> {
    match &t.def {
        TypeKind::Typedef(x) => CrcObject::Typedef(x),
        TypeKind::Union(x) => CrcObject::Union(x),
        TypeKind::Enum { def, .. } => CrcObject::Enum(def),
        TypeKind::Alias(x) => CrcObject::Alias(x),
    }
}

/// Build the main unit's [`ApiFile`] (all units checked).
pub(crate) fn build_main(units: &[Unit], main: usize) -> Result<Built> {
    let unit = &units[main];
    let path: &Path = &unit.idl.path;

    // The type table for message CRCs: the types of this file and of everything it imports
    // (vppapigen's `global_types` of a run on this file).
    let mut table = CrcTypeTable::new();
    let mut stack = vec![main];
    let mut seen = vec![false; units.len()];
    while let Some(u) = stack.pop() {
        if std::mem::replace(&mut seen[u], true) {
            continue;
        }
        for t in &units[u].types {
            let ct = match &t.def {
                TypeKind::Typedef(x) => CrcType::Typedef(x),
                TypeKind::Union(x) => CrcType::Union(x),
                TypeKind::Enum { def, .. } => CrcType::Enum(def),
                TypeKind::Alias(x) => CrcType::Alias(x),
            };
            table.insert_with_bytes(t.def.name(), ct, &t.crc_bytes);
        }
        stack.extend(units[u].imports.iter().copied());
    }

    // Own types in order, to pair with own statements.
    let mut own_types = unit.types.iter();

    let mut objs = Vec::new();
    expand(units, main, false, &mut objs, 0);

    let mut file = ApiFile {
        path: path.to_path_buf(),
        module: Some(module_name(path)),
        types: vec![],
        messages: vec![],
        unions: vec![],
        enums: vec![],
        enumflags: vec![],
        aliases: vec![],
        services: vec![],
        options: vec![],
        vl_api_version: 0,
        imports: vec![],
        counters: vec![],
        paths: vec![],
    };
    let mut version = crc32fast::Hasher::new();
    let mut runtime = crc32fast::Hasher::new();
    // (message index, statement position) for service errors.
    let mut msg_pos: HashMap<String, Pos> = HashMap::new();
    let mut explicit: Vec<&Rpc> = Vec::new();

    let push_type = |file: &mut ApiFile, t: &UserType| match &t.def {
        TypeKind::Typedef(x) => file.types.push(x.clone()),
        TypeKind::Union(x) => file.unions.push(x.clone()),
        TypeKind::Enum { def, flag: false } => file.enums.push(def.clone()),
        TypeKind::Enum { def, flag: true } => file.enumflags.push(def.clone()),
        TypeKind::Alias(x) => {
            if let Some(slot) = file.aliases.iter_mut().find(|a| a.name == x.name) {
                *slot = x.clone();
            } else {
                file.aliases.push(x.clone());
            }
        }
    };

    for o in &objs {
        match o {
            Obj::Import(p) => file.imports.push(p.to_string()),
            Obj::Imported(t) => {
                version.update(&t.crc_bytes);
                push_type(&mut file, t);
            }
            Obj::Own(st) => match &st.kind {
                StmtKind::Option { name, value } => {
                    let bytes = crc::object_crc_bytes(&CrcObject::Option(name));
                    version.update(&bytes);
                    runtime.update(&bytes);
                    dict_set(&mut file.options, name, value.clone());
                }
                StmtKind::Typedef { .. }
                | StmtKind::Union { .. }
                | StmtKind::Alias { .. }
                | StmtKind::Enum { .. } => {
                    let Some(t) = own_types.next() else {
                        continue;
                    };
                    version.update(&t.crc_bytes);
                    runtime.update(&t.crc_bytes);
                    push_type(&mut file, t);
                }
                StmtKind::Define {
                    name,
                    flags,
                    items,
                    comment,
                } => {
                    let (fields, options) = define_parts(items);
                    let crc = crc::block_crc(&fields[1..], &table)
                        .map_err(|e| error_at(path, st.pos, format!("message `{name}`: {e}")))?;
                    let m = Message {
                        name: name.clone(),
                        fields,
                        crc,
                        options,
                        comment: comment.clone(),
                    };
                    let bytes = crc::object_crc_bytes(&CrcObject::Message(&m));
                    version.update(&bytes);
                    runtime.update(&bytes);
                    add_message(&mut file, &mut msg_pos, m, st.pos, path)?;
                    if flags.autoreply {
                        let parent = file.messages.last().map(|m| m.options.clone());
                        let fields = vec![
                            Field {
                                ty: "u16".into(),
                                name: crc::MSG_ID_FIELD.into(),
                                shape: FieldShape::Scalar,
                                options: vec![],
                            },
                            Field {
                                ty: "u32".into(),
                                name: "context".into(),
                                shape: FieldShape::Scalar,
                                options: vec![],
                            },
                            Field {
                                ty: "i32".into(),
                                name: "retval".into(),
                                shape: FieldShape::Scalar,
                                options: vec![],
                            },
                        ];
                        let crc = crc::block_crc(&fields[1..], &table)
                            .map_err(|e| error_at(path, st.pos, e.to_string()))?;
                        let reply = Message {
                            name: format!("{name}_reply"),
                            fields,
                            crc,
                            options: parent.unwrap_or_default(),
                            comment: None,
                        };
                        add_message(&mut file, &mut msg_pos, reply, st.pos, path)?;
                    }
                }
                StmtKind::Service { rpcs } => explicit.extend(rpcs.iter()),
                StmtKind::Counters(c) => file.counters.push(c.clone()),
                StmtKind::Paths(p) => file.paths.push(p.clone()),
                StmtKind::Import { .. } => {}
            },
        }
    }
    file.vl_api_version = version.finalize();
    file.services = services(path, &file.messages, &msg_pos, &explicit)?;
    Ok(Built {
        file,
        runtime_crc: runtime.finalize(),
    })
}

fn add_message(
    file: &mut ApiFile,
    msg_pos: &mut HashMap<String, Pos>,
    m: Message,
    pos: Pos,
    path: &Path,
) -> Result<()> {
    if let Some(p) = msg_pos.get(&m.name) {
        return Err(error_at(
            path,
            pos,
            format!(
                "duplicate definition of message `{}` (also defined at {}:{})",
                m.name, p.line, p.column
            ),
        ));
    }
    msg_pos.insert(m.name.clone(), pos);
    file.messages.push(m);
    Ok(())
}

/// Explicit services plus vppapigen's implicit ones (`VPPAPI.process`), with its checks.
fn services(
    path: &Path,
    messages: &[Message],
    msg_pos: &HashMap<String, Pos>,
    explicit: &[&Rpc],
) -> Result<Vec<Service>> {
    let is_msg = |n: &str| msg_pos.contains_key(n);
    let mut out: Vec<Service> = Vec::new();
    let set = |out: &mut Vec<Service>, s: Service| {
        if let Some(slot) = out.iter_mut().find(|x| x.request == s.request) {
            *slot = s;
        } else {
            out.push(s);
        }
    };
    let callers: HashMap<&str, &Rpc> = explicit.iter().map(|r| (r.caller.as_str(), *r)).collect();
    let replies: std::collections::HashSet<&str> =
        explicit.iter().filter_map(|r| r.reply.as_deref()).collect();
    let mut events_seen: std::collections::HashSet<&str> = Default::default();
    for r in explicit {
        set(
            &mut out,
            Service {
                request: r.caller.clone(),
                reply: r.reply.clone(),
                stream: r.stream,
                stream_msg: r.stream_msg.clone(),
                events: if r.events.is_empty() {
                    None
                } else {
                    Some(r.events.clone())
                },
            },
        );
    }
    for r in explicit {
        // vppapigen checks each caller once (dict of services): the last rpc for a caller.
        if !std::ptr::eq(callers[r.caller.as_str()], *r) {
            continue;
        }
        let err = |msg: String| Err(error_at(path, r.pos, msg));
        if !is_msg(&r.caller) {
            return err(format!("service refers to unknown message `{}`", r.caller));
        }
        if let Some(reply) = &r.reply {
            if !is_msg(reply) {
                return err(format!("service refers to unknown reply message `{reply}`"));
            }
        }
        if replies.contains(r.caller.as_str()) {
            return err(format!(
                "service request `{}` is the reply of another service",
                r.caller
            ));
        }
        for e in &r.events {
            if !is_msg(e) {
                return err(format!(
                    "service `{}` refers to unknown event message `{e}`",
                    r.caller
                ));
            }
            events_seen.insert(e.as_str());
        }
    }
    for m in messages {
        let d = m.name.as_str();
        let pos = msg_pos[d];
        let err = |msg: String| Err(error_at(path, pos, msg));
        if events_seen.contains(d) {
            continue;
        }
        if let Some(base) = d.strip_suffix("_reply") {
            if callers.contains_key(base) {
                continue;
            }
            if !is_msg(base) {
                return err(format!("`{d}` has no request message `{base}`"));
            }
            continue;
        }
        if let Some(base) = d.strip_suffix("_dump") {
            if callers.contains_key(d) {
                continue;
            }
            let details = format!("{base}_details");
            if is_msg(&details) {
                set(
                    &mut out,
                    Service {
                        request: d.to_string(),
                        reply: Some(details),
                        stream: true,
                        stream_msg: None,
                        events: None,
                    },
                );
                continue;
            }
            return err(format!("`{d}` has no details message `{details}`"));
        }
        if let Some(base) = d.strip_suffix("_details") {
            let get = format!("{base}_get");
            if is_msg(&get) {
                if callers.contains_key(get.as_str()) {
                    continue;
                }
                return err(format!(
                    "`{get}` must be declared in a stream service (`rpc {get} returns {get}_reply stream {d};`)"
                ));
            }
            if is_msg(&format!("{base}_dump")) {
                continue;
            }
            return err(format!(
                "`{d}` has no `{base}_dump` or `{base}_get` message"
            ));
        }
        if callers.contains_key(d) {
            continue;
        }
        let reply = format!("{d}_reply");
        if is_msg(&reply) {
            set(
                &mut out,
                Service {
                    request: d.to_string(),
                    reply: Some(reply),
                    stream: false,
                    stream_msg: None,
                    events: None,
                },
            );
        } else {
            return err(format!(
                "`{d}` has no reply message `{reply}` and no service definition"
            ));
        }
    }
    Ok(out)
}

/// `foo.api` -> `foo`.
pub(crate) fn module_name(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    name.strip_suffix(".api").unwrap_or(&name).to_string()
}
