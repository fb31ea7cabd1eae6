//! The few memclnt / vpe messages the runtime itself speaks: the socket handshake
//! (`sockclnt_create`, `sockclnt_delete`), `control_ping` (dump terminator, liveness probe,
//! `vpe_pid`) and `show_version` (logged at connect). They are the generated VPP 26.06
//! bindings (`vppapi-binapi`, features `memclnt` and `vpe`), re-exported: these messages have
//! not changed in any release the toolkit knows.

pub use vppapi_binapi::memclnt::{
    ControlPing, ControlPingReply, MessageTableEntry, SockclntCreate, SockclntCreateReply,
    SockclntDelete, SockclntDeleteReply,
};
pub use vppapi_binapi::vpe::{ShowVersion, ShowVersionReply};

/// `_vl_msg_id` of `sockclnt_create`: fixed by memclnt's position (wire doc 4.3).
pub const SOCKCLNT_CREATE_ID: u16 = 15;
/// `_vl_msg_id` of `sockclnt_create_reply`.
pub const SOCKCLNT_CREATE_REPLY_ID: u16 = 16;
