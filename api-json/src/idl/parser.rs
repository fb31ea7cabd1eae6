//! Recursive-descent parser over the token stream: vppapigen's grammar (`VPPAPIParser`), with
//! errors that say what was expected and what was found.

use std::path::Path;

use super::ast::*;
use super::lexer::{tokenize, Num, TokKind, Token};
use crate::error::{Error, Location, Result};
use crate::model::{
    CounterElement, CounterSet, FieldShape, IntType, OptionValue, PathEntry, PathsBlock,
};

/// Keywords vppapigen's `variable_name` rule accepts as field names.
const FIELD_NAME_KEYWORDS: &[&str] = &["type", "severity", "description", "counters", "paths"];

const BASE_TYPES: &[&str] = &[
    "u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64", "f64", "bool", "string",
];

/// Python keywords: vppapigen rejects them as field names (not reachable from Python).
const PYTHON_KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

/// Words the lexer turns into keyword tokens; they cannot be used as identifiers (except the
/// few vppapigen allows as field names, see [`FIELD_NAME_KEYWORDS`]).
pub(crate) fn is_reserved(s: &str) -> bool {
    // A `match` on strings compiles to length-then-bytes comparisons: much cheaper than a
    // linear scan on this hot path (every identifier).
    matches!(
        s,
        "service"
            | "rpc"
            | "returns"
            | "null"
            | "stream"
            | "events"
            | "define"
            | "typedef"
            | "enum"
            | "enumflag"
            | "typeonly"
            | "manual_print"
            | "manual_endian"
            | "dont_trace"
            | "autoreply"
            | "autoendian"
            | "option"
            | "u8"
            | "u16"
            | "u32"
            | "u64"
            | "i8"
            | "i16"
            | "i32"
            | "i64"
            | "f64"
            | "bool"
            | "string"
            | "import"
            | "true"
            | "false"
            | "union"
            | "counters"
            | "paths"
            | "units"
            | "severity"
            | "type"
            | "description"
    )
}

/// 1-based line/column of a byte offset.
pub(crate) struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub(crate) fn new(src: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(src.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    pub(crate) fn pos(&self, src: &str, offset: usize) -> Pos {
        let line_idx = match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.starts[line_idx];
        let column = src
            .get(start..offset)
            .map(|s| s.chars().count())
            .unwrap_or(0);
        Pos {
            line: line_idx as u32 + 1,
            column: column as u32 + 1,
        }
    }
}

pub(crate) fn error_at(path: &Path, pos: Pos, message: impl Into<String>) -> Error {
    Error::new(
        path,
        Location::LineCol {
            line: pos.line,
            column: pos.column,
        },
        message,
    )
}

fn describe(k: &TokKind) -> String {
    match k {
        TokKind::Ident(s) if is_reserved(s) => format!("keyword `{s}`"),
        TokKind::Ident(s) => format!("`{s}`"),
        TokKind::Num(Num::Int(n)) => format!("number {n}"),
        TokKind::Num(Num::Float(f)) => format!("number {f}"),
        TokKind::Str(s) => format!("string \"{s}\""),
        TokKind::Punct(c) => format!("`{c}`"),
        TokKind::Eof => "end of file".to_string(),
    }
}

struct Parser<'a, 'p> {
    path: &'p Path,
    src: &'a str,
    lines: LineIndex,
    toks: Vec<Token<'a>>,
    i: usize,
}

/// Parse one `.api` source into its syntax tree (imports are not followed).
pub fn parse(path: &Path, src: &str) -> Result<IdlFile> {
    let lines = LineIndex::new(src);
    let toks = tokenize(src).map_err(|e| error_at(path, lines.pos(src, e.offset), e.message))?;
    let mut p = Parser {
        path,
        src,
        lines,
        toks,
        i: 0,
    };
    let mut stmts = Vec::new();
    while !matches!(p.peek().kind, TokKind::Eof) {
        stmts.push(p.stmt()?);
    }
    Ok(IdlFile {
        path: path.to_path_buf(),
        stmts,
    })
}

impl<'a> Parser<'a, '_> {
    fn peek(&self) -> &Token<'a> {
        // The stream always ends with Eof and we never advance past it.
        &self.toks[self.i.min(self.toks.len() - 1)]
    }

    fn peek_at(&self, n: usize) -> &TokKind<'a> {
        &self.toks[(self.i + n).min(self.toks.len() - 1)].kind
    }

    fn bump(&mut self) {
        if !matches!(self.peek().kind, TokKind::Eof) {
            self.i += 1;
        }
    }

    fn pos(&self) -> Pos {
        self.lines.pos(self.src, self.peek().offset)
    }

    fn pos_of(&self, t: &Token) -> Pos {
        self.lines.pos(self.src, t.offset)
    }

    fn err<T>(&self, expected: &str) -> Result<T> {
        Err(error_at(
            self.path,
            self.pos(),
            format!("expected {expected}, found {}", describe(&self.peek().kind)),
        ))
    }

    fn err_at<T>(&self, pos: Pos, msg: impl Into<String>) -> Result<T> {
        Err(error_at(self.path, pos, msg))
    }

    fn is_punct(&self, c: char) -> bool {
        self.peek().kind == TokKind::Punct(c)
    }

    fn is_kw(&self, kw: &str) -> bool {
        self.peek().kind == TokKind::Ident(kw)
    }

    fn punct(&mut self, c: char) -> Result<()> {
        if self.is_punct(c) {
            self.bump();
            Ok(())
        } else {
            self.err(&format!("`{c}`"))
        }
    }

    fn kw(&mut self, kw: &str) -> Result<()> {
        if self.is_kw(kw) {
            self.bump();
            Ok(())
        } else {
            self.err(&format!("`{kw}`"))
        }
    }

    /// A non-reserved identifier.
    fn ident(&mut self, what: &str) -> Result<(String, Pos)> {
        let pos = self.pos();
        match self.peek().kind {
            TokKind::Ident(s) if !is_reserved(s) => {
                self.bump();
                Ok((s.to_string(), pos))
            }
            _ => self.err(what),
        }
    }

    fn string(&mut self, what: &str) -> Result<String> {
        match &self.peek().kind {
            TokKind::Str(s) => {
                let s = s.clone();
                self.bump();
                Ok(s)
            }
            _ => self.err(what),
        }
    }

    fn stmt(&mut self) -> Result<Stmt> {
        let first = self.peek();
        let pos = self.pos_of(first);
        // vppapigen keeps a doc comment only when it ends on the line right before the statement.
        let comment = first
            .comment
            .as_ref()
            .filter(|c| c.end_line.saturating_add(1) >= first.line)
            .map(|c| c.text.to_string());

        let mut flags = Flags::default();
        let mut any_flag = false;
        while let TokKind::Ident(w) = self.peek().kind {
            match w {
                "manual_print" => flags.manual_print = true,
                "manual_endian" => flags.manual_endian = true,
                "dont_trace" => flags.dont_trace = true,
                "autoreply" => flags.autoreply = true,
                "autoendian" => flags.autoendian = true,
                "typeonly" => {
                    return self.err_at(
                        self.pos(),
                        "legacy `typeonly define`: use `typedef name { … };`",
                    )
                }
                _ => break,
            }
            any_flag = true;
            self.bump();
        }

        let word = match self.peek().kind {
            TokKind::Ident(w) => w,
            _ => {
                return self.err(if any_flag {
                    "`define`, `typedef` or `union` after flags"
                } else {
                    "a statement (define, typedef, union, enum, enumflag, option, import, service, counters, paths)"
                })
            }
        };
        let kind = match word {
            "define" => {
                self.bump();
                let (name, _) = self.ident("message name")?;
                let items = self.block()?;
                self.punct(';')?;
                StmtKind::Define {
                    name,
                    flags,
                    items,
                    comment,
                }
            }
            "typedef" => {
                self.bump();
                if matches!(self.peek_at(1), TokKind::Punct('{')) {
                    let (name, _) = self.ident("type name")?;
                    let items = self.block()?;
                    self.punct(';')?;
                    StmtKind::Typedef {
                        name,
                        flags,
                        items,
                        comment,
                    }
                } else {
                    let decl = self.declaration()?;
                    StmtKind::Alias {
                        name: decl.name.clone(),
                        flags,
                        decl,
                    }
                }
            }
            "union" => {
                self.bump();
                let (name, _) = self.ident("union name")?;
                let items = self.block()?;
                self.punct(';')?;
                StmtKind::Union { name, flags, items }
            }
            _ if any_flag => return self.err("`define`, `typedef` or `union` after flags"),
            "option" => {
                let (name, value) = self.option()?;
                StmtKind::Option { name, value }
            }
            "import" => {
                self.bump();
                let path = self.string("import path string")?;
                self.punct(';')?;
                StmtKind::Import { path }
            }
            "enum" | "enumflag" => self.enumeration(word == "enumflag")?,
            "service" => self.service()?,
            "paths" => self.paths()?,
            "counters" => self.counters()?,
            _ => {
                return self.err(
                    "a statement (define, typedef, union, enum, enumflag, option, import, service, counters, paths)",
                )
            }
        };
        Ok(Stmt { pos, kind })
    }

    /// `option name [= value];` (the `option` keyword is current).
    fn option(&mut self) -> Result<(String, OptionValue)> {
        self.kw("option")?;
        let (name, _) = self.ident("option name")?;
        let value = if self.is_punct('=') {
            self.bump();
            self.assignee()?
        } else {
            OptionValue::Null
        };
        self.punct(';')?;
        Ok((name, value))
    }

    /// An option value: number, `true` (kept as the string "true", vppapigen's lexer quirk),
    /// `false`, a string, or an identifier (enumerator names in `[case=…]`).
    fn assignee(&mut self) -> Result<OptionValue> {
        let v = match &self.peek().kind {
            TokKind::Num(Num::Int(n)) => OptionValue::Int(*n),
            TokKind::Num(Num::Float(f)) => OptionValue::Float(*f),
            TokKind::Str(s) => OptionValue::Str(s.clone()),
            TokKind::Ident("true") => OptionValue::Str("true".into()),
            TokKind::Ident("false") => OptionValue::Bool(false),
            // Names (enumerators in `[case=…]`, fields in `[discriminator=…]`, which may be one
            // of the keywords allowed as field names).
            TokKind::Ident(s) if !is_reserved(s) || FIELD_NAME_KEYWORDS.contains(s) => {
                OptionValue::Str(s.to_string())
            }
            _ => return self.err("a value (number, string, true, false or name)"),
        };
        self.bump();
        Ok(v)
    }

    /// `{ statement… }` of a define/typedef/union: at least one statement.
    fn block(&mut self) -> Result<Vec<BlockItem>> {
        self.punct('{')?;
        let mut items = Vec::new();
        loop {
            if self.is_punct('}') {
                if items.is_empty() {
                    return self.err("a field declaration or option");
                }
                self.bump();
                return Ok(items);
            }
            if self.is_kw("option") {
                let pos = self.pos();
                let (name, value) = self.option()?;
                items.push(BlockItem::Option { pos, name, value });
            } else if matches!(self.peek().kind, TokKind::Eof) {
                return self.err("`}` closing the block");
            } else {
                items.push(BlockItem::Field(self.declaration()?));
            }
        }
    }

    fn type_spec(&mut self) -> Result<(String, Pos)> {
        let pos = self.pos();
        match self.peek().kind {
            TokKind::Ident(s) if BASE_TYPES.contains(&s) || !is_reserved(s) => {
                self.bump();
                Ok((s.to_string(), pos))
            }
            _ => self.err("a type"),
        }
    }

    fn field_name(&mut self) -> Result<(String, Pos)> {
        let pos = self.pos();
        match self.peek().kind {
            TokKind::Ident(s) if !is_reserved(s) || FIELD_NAME_KEYWORDS.contains(&s) => {
                self.bump();
                Ok((s.to_string(), pos))
            }
            _ => self.err("a field name"),
        }
    }

    /// `type name;`, `type name[N];`, `type name[count];`, `type name[];`,
    /// `type name[opt, opt=value];`
    fn declaration(&mut self) -> Result<Decl> {
        let (ty, pos) = self.type_spec()?;
        let (name, name_pos) = self.field_name()?;
        let mut shape = FieldShape::Scalar;
        let mut options = Vec::new();
        let mut count_pos = None;
        if self.is_punct('[') {
            self.bump();
            let inner_pos = self.pos();
            match (&self.peek().kind, self.peek_at(1)) {
                (TokKind::Punct(']'), _) => shape = FieldShape::Array { len: 0 },
                (&TokKind::Num(n), _) => {
                    let len = match n {
                        Num::Int(v) if (0..=u32::MAX as i128).contains(&v) => v as u32,
                        _ => {
                            return self.err_at(
                                inner_pos,
                                format!(
                                    "bad array length {}: expected a non-negative integer",
                                    describe(&TokKind::Num(n))
                                ),
                            )
                        }
                    };
                    self.bump();
                    shape = FieldShape::Array { len };
                }
                // `[name]` alone is a variable-length array counted by `name` (vppapigen's
                // grammar prefers this over a one-flag option list).
                (&TokKind::Ident(c), TokKind::Punct(']')) if !is_reserved(c) => {
                    self.bump();
                    count_pos = Some(inner_pos);
                    shape = FieldShape::Vla {
                        count: c.to_string(),
                    };
                }
                (TokKind::Ident(_), _) => {
                    options = self.field_options()?;
                }
                _ => return self.err("an array length, length field name or field options"),
            }
            self.punct(']')?;
        }
        self.punct(';')?;
        if ty == "string" && shape == FieldShape::Scalar {
            return self.err_at(
                pos,
                format!("string field `{name}` must be an array: `string {name}[N];` or `string {name}[];`"),
            );
        }
        if PYTHON_KEYWORDS.contains(&name.as_str()) {
            return self.err_at(
                name_pos,
                format!(
                    "field name `{name}` is a Python keyword (not accessible from the Python API)"
                ),
            );
        }
        Ok(Decl {
            pos,
            ty,
            name,
            shape,
            options,
            count_pos,
        })
    }

    /// `id`, `id = value`, separated by optional commas, up to (not including) `]`.
    fn field_options(&mut self) -> Result<Vec<(String, OptionValue)>> {
        let mut opts: Vec<(String, OptionValue)> = Vec::new();
        loop {
            let (name, _) = self.ident("an option name")?;
            let value = if self.is_punct('=') {
                self.bump();
                let v = self.assignee()?;
                if self.is_punct(',') {
                    self.bump();
                }
                v
            } else {
                OptionValue::Null
            };
            // Python dict merge: a repeated key keeps its first position, takes the last value.
            if let Some(slot) = opts.iter_mut().find(|(k, _)| *k == name) {
                slot.1 = value;
            } else {
                opts.push((name, value));
            }
            if self.is_punct(']') {
                return Ok(opts);
            }
        }
    }

    fn enumeration(&mut self, flag: bool) -> Result<StmtKind> {
        self.bump();
        let (name, _) = self.ident("enum name")?;
        let mut enumtype = IntType::U32;
        if self.is_punct(':') {
            self.bump();
            let pos = self.pos();
            let ty = match self.peek().kind {
                TokKind::Ident(s) => IntType::parse(s),
                _ => None,
            };
            match ty {
                Some(t) => {
                    self.bump();
                    enumtype = t;
                }
                None => {
                    return self.err_at(
                        pos,
                        format!(
                            "expected an enum size (u8, u16, u32, i8, i16, i32), found {}",
                            describe(&self.peek().kind)
                        ),
                    )
                }
            }
        }
        self.punct('{')?;
        let mut members = Vec::new();
        loop {
            if self.is_punct('}') && !members.is_empty() {
                self.bump();
                break;
            }
            let (mname, mpos) = self.ident("an enumerator name")?;
            let mut value = None;
            if self.is_punct('=') {
                self.bump();
                let vpos = self.pos();
                match self.peek().kind {
                    TokKind::Num(Num::Int(v)) if i64::try_from(v).is_ok() => {
                        value = Some(v as i64);
                        self.bump();
                    }
                    _ => {
                        return self.err_at(
                            vpos,
                            format!(
                                "bad enum value for {mname}: expected an integer, found {}",
                                describe(&self.peek().kind)
                            ),
                        )
                    }
                }
            }
            let mut options = Vec::new();
            if self.is_punct('[') {
                self.bump();
                options = self.field_options()?;
                self.punct(']')?;
            }
            self.punct(',')?;
            members.push(EnumItem {
                pos: mpos,
                name: mname,
                value,
                options,
            });
        }
        self.punct(';')?;
        Ok(StmtKind::Enum {
            flag,
            name,
            enumtype,
            members,
        })
    }

    fn service(&mut self) -> Result<StmtKind> {
        self.bump();
        self.punct('{')?;
        let mut rpcs = Vec::new();
        loop {
            if self.is_punct('}') && !rpcs.is_empty() {
                self.bump();
                break;
            }
            let pos = self.pos();
            self.kw("rpc")?;
            let (caller, _) = self.ident("the request message name")?;
            self.kw("returns")?;
            let mut rpc = Rpc {
                pos,
                caller,
                reply: None,
                stream: false,
                stream_msg: None,
                events: Vec::new(),
            };
            if self.is_kw("null") {
                self.bump();
            } else if self.is_kw("stream") {
                self.bump();
                rpc.reply = Some(self.ident("the details message name")?.0);
                rpc.stream = true;
            } else {
                rpc.reply = Some(self.ident("the reply message name, `stream` or `null`")?.0);
                if self.is_kw("stream") {
                    self.bump();
                    rpc.stream_msg = Some(self.ident("the details message name")?.0);
                    rpc.stream = true;
                } else if self.is_kw("events") {
                    self.bump();
                    loop {
                        rpc.events.push(self.ident("an event message name")?.0);
                        if self.is_punct(',') {
                            self.bump();
                        }
                        if self.is_punct(';') {
                            break;
                        }
                    }
                }
            }
            self.punct(';')?;
            if rpc.reply.as_deref() == Some(rpc.caller.as_str()) {
                return self.err_at(
                    pos,
                    format!(
                        "reply `{}` must differ from the request message",
                        rpc.caller
                    ),
                );
            }
            rpcs.push(rpc);
        }
        self.punct(';')?;
        Ok(StmtKind::Service { rpcs })
    }

    fn paths(&mut self) -> Result<StmtKind> {
        self.bump();
        self.punct('{')?;
        let mut entries = Vec::new();
        loop {
            if self.is_punct('}') && !entries.is_empty() {
                self.bump();
                break;
            }
            let path = self.string("a path string")?;
            let counter = self.string("a counter name string")?;
            self.punct(';')?;
            entries.push(PathEntry { path, counter });
        }
        self.punct(';')?;
        // vppapigen's `path_elements` rule yields the bare dict for a single entry.
        let bare = entries.len() == 1;
        Ok(StmtKind::Paths(PathsBlock { entries, bare }))
    }

    fn counters(&mut self) -> Result<StmtKind> {
        self.bump();
        let (name, _) = self.ident("counter set name")?;
        self.punct('{')?;
        let mut elements = Vec::new();
        loop {
            if self.is_punct('}') && !elements.is_empty() {
                self.bump();
                break;
            }
            let (ename, epos) = self.ident("a counter name")?;
            self.punct('{')?;
            let mut el = CounterElement {
                name: ename,
                severity: String::new(),
                ty: String::new(),
                units: String::new(),
                description: String::new(),
            };
            let mut seen = [false; 4];
            loop {
                if self.is_punct('}') && seen.iter().any(|s| *s) {
                    self.bump();
                    break;
                }
                let word = match self.peek().kind {
                    TokKind::Ident(w @ ("severity" | "type" | "units" | "description")) => w,
                    _ => return self.err("`severity`, `type`, `units` or `description`"),
                };
                self.bump();
                match word {
                    "severity" => {
                        el.severity = self.ident("a severity name")?.0;
                        seen[0] = true;
                    }
                    "type" => {
                        el.ty = self.ident("a counter type name")?.0;
                        seen[1] = true;
                    }
                    "units" => {
                        el.units = self.string("a units string")?;
                        seen[2] = true;
                    }
                    _ => {
                        el.description = self.string("a description string")?;
                        seen[3] = true;
                    }
                }
                self.punct(';')?;
            }
            self.punct(';')?;
            if !seen.iter().all(|s| *s) {
                return self.err_at(
                    epos,
                    format!(
                        "counter `{}` needs severity, type, units and description",
                        el.name
                    ),
                );
            }
            elements.push(el);
        }
        self.punct(';')?;
        Ok(StmtKind::Counters(CounterSet { name, elements }))
    }
}
