//! The syntax tree of one `.api` file, before imports and types are resolved.

use std::path::PathBuf;

use crate::model::{CounterSet, FieldShape, IntType, OptionValue, PathsBlock};

/// 1-based line and column of a construct.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

/// One parsed `.api` file.
#[derive(Debug, Clone, PartialEq)]
pub struct IdlFile {
    pub path: PathBuf,
    pub stmts: Vec<Stmt>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Stmt {
    pub pos: Pos,
    pub kind: StmtKind,
}

/// Prefix flags of `define`/`typedef`/`union` (`autoreply define x {…};`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flags {
    pub manual_print: bool,
    pub manual_endian: bool,
    pub dont_trace: bool,
    pub autoreply: bool,
    pub autoendian: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StmtKind {
    /// `option name [= value];` at file level.
    Option {
        name: String,
        value: OptionValue,
    },
    /// `import "path";`
    Import {
        path: String,
    },
    /// `typedef name { … };`
    Typedef {
        name: String,
        flags: Flags,
        items: Vec<BlockItem>,
        comment: Option<String>,
    },
    /// `typedef type name;` / `typedef type name[len];`
    Alias {
        name: String,
        flags: Flags,
        decl: Decl,
    },
    Union {
        name: String,
        flags: Flags,
        items: Vec<BlockItem>,
    },
    Define {
        name: String,
        flags: Flags,
        items: Vec<BlockItem>,
        comment: Option<String>,
    },
    Enum {
        /// `enumflag` rather than `enum`.
        flag: bool,
        name: String,
        enumtype: IntType,
        members: Vec<EnumItem>,
    },
    Service {
        rpcs: Vec<Rpc>,
    },
    Counters(CounterSet),
    Paths(PathsBlock),
}

/// One statement inside a `define`/`typedef`/`union` block.
#[derive(Debug, Clone, PartialEq)]
pub enum BlockItem {
    Field(Decl),
    Option {
        pos: Pos,
        name: String,
        value: OptionValue,
    },
}

/// A field declaration.
#[derive(Debug, Clone, PartialEq)]
pub struct Decl {
    pub pos: Pos,
    /// The type as written (`u32`, `string`, `vl_api_foo_t`).
    pub ty: String,
    pub name: String,
    pub shape: FieldShape,
    /// `[default=…, …]` options, later duplicates replacing earlier values in place.
    pub options: Vec<(String, OptionValue)>,
    /// Where the VLA count name is written (for error messages).
    pub count_pos: Option<Pos>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EnumItem {
    pub pos: Pos,
    pub name: String,
    pub value: Option<i64>,
    pub options: Vec<(String, OptionValue)>,
}

/// `rpc caller returns …;`
#[derive(Debug, Clone, PartialEq)]
pub struct Rpc {
    pub pos: Pos,
    pub caller: String,
    /// `None` for `returns null`.
    pub reply: Option<String>,
    pub stream: bool,
    pub stream_msg: Option<String>,
    pub events: Vec<String>,
}
