//! The few memclnt / vpe messages the runtime itself speaks: the socket handshake
//! (`sockclnt_create`, `sockclnt_delete`), `control_ping` (dump terminator, liveness probe,
//! `vpe_pid`) and `show_version` (logged at connect). Definitions mirror VPP 26.06
//! (`src/vlibmemory/memclnt.api`, `src/vpp/api/vpe.api`); the generated `vppapi-binapi`
//! crate has the same names and CRCs (a test checks it), but the runtime cannot depend on it.
#![allow(missing_docs)]

use crate::VppMessage;
use crate::VppType;

/// `_vl_msg_id` of `sockclnt_create`: fixed by memclnt's position (wire doc 4.3).
pub const SOCKCLNT_CREATE_ID: u16 = 15;
/// `_vl_msg_id` of `sockclnt_create_reply`.
pub const SOCKCLNT_CREATE_REPLY_ID: u16 = 16;

#[derive(Debug, Clone, PartialEq, VppMessage)]
#[vpp(
    name = "sockclnt_create",
    crc = 0x455fb9c4,
    kind = "request",
    header = "context",
    reply = SockclntCreateReply
)]
pub struct SockclntCreate {
    #[vpp(string = 64)]
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, VppType)]
#[vpp(name = "message_table_entry")]
pub struct MessageTableEntry {
    pub index: u16,
    #[vpp(string = 64)]
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, VppMessage)]
#[vpp(
    name = "sockclnt_create_reply",
    crc = 0x35166268,
    kind = "reply",
    header = "client_index,context"
)]
pub struct SockclntCreateReply {
    pub response: i32,
    pub index: u32,
    #[vpp(count = "count", count_ty = "u16")]
    pub message_table: Vec<MessageTableEntry>,
}

#[derive(Debug, Clone, PartialEq, VppMessage)]
#[vpp(name = "sockclnt_delete", crc = 0x8ac76db6, kind = "request", reply = SockclntDeleteReply)]
pub struct SockclntDelete {
    pub index: u32,
}

#[derive(Debug, Clone, PartialEq, VppMessage)]
#[vpp(name = "sockclnt_delete_reply", crc = 0x8f38b1ee, kind = "reply")]
pub struct SockclntDeleteReply {
    /// 1 on success (not 0), -1 for an unknown index.
    pub response: i32,
}

#[derive(Debug, Clone, PartialEq, VppMessage)]
#[vpp(name = "control_ping", crc = 0x51077d14, kind = "request", reply = ControlPingReply)]
pub struct ControlPing {}

#[derive(Debug, Clone, PartialEq, VppMessage)]
#[vpp(name = "control_ping_reply", crc = 0xf6b0b8ca, kind = "reply")]
pub struct ControlPingReply {
    pub retval: i32,
    /// Never set by VPP (junk on the wire).
    pub client_index: u32,
    pub vpe_pid: u32,
}

#[derive(Debug, Clone, PartialEq, VppMessage)]
#[vpp(name = "show_version", crc = 0x51077d14, kind = "request", reply = ShowVersionReply)]
pub struct ShowVersion {}

#[derive(Debug, Clone, PartialEq, VppMessage)]
#[vpp(name = "show_version_reply", crc = 0xc919bde1, kind = "reply")]
pub struct ShowVersionReply {
    pub retval: i32,
    #[vpp(string = 32)]
    pub program: String,
    #[vpp(string = 32)]
    pub version: String,
    #[vpp(string = 32)]
    pub build_date: String,
    #[vpp(string = 256)]
    pub build_directory: String,
}
