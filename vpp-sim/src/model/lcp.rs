//! linux-cp (`lcp.api`): interface pairs, as a VPP 26.06 whose host has no `/dev/vhost-net`
//! answers them (the `evpn_lcp` recording): the tap of a pair cannot be created, so no pair
//! ever exists.
//!
//! Followed: lcp_api.c `vl_api_lcp_itf_pair_add_del[_v2]_t_handler`,
//! `vl_api_lcp_itf_pair_get[_v2]_t_handler`; lcp_interface.c `lcp_itf_pair_create`,
//! `lcp_validate_if_name`, `lcp_itf_pair_delete`.

// VPP 26.06 still serves the deprecated v1 messages.
#[allow(deprecated)]
use vppapi_binapi::lcp::{LcpItfPairAddDel, LcpItfPairAddDelReply};
use vppapi_binapi::lcp::{
    LcpItfPairAddDelV2, LcpItfPairAddDelV2Reply, LcpItfPairGet, LcpItfPairGetReply,
    LcpItfPairGetV2, LcpItfPairGetV2Reply,
};
use vppapi_codec::api_errno::{INVALID_ARGUMENT, INVALID_SW_IF_INDEX, SYSCALL_ERROR_1};
use vppapi_codec::net::InterfaceIndex;

use super::Model;
use crate::handlers::Handlers;

/// `lcp_itf_pair_add_del[_v2]` (retval): no pair exists, so a delete is -2; an add checks
/// the interface (-2) and the host name (`lcp_validate_if_name`: alphanumerics and
/// `-_%@:.`, -73), then fails creating the tap (`tap_create_if`: open `/dev/vhost-net`:
/// -11).
fn add_del(m: &Model, is_add: bool, sw: u32, host_if_name: &[u8]) -> i32 {
    if m.iface(sw).is_none() {
        return INVALID_SW_IF_INDEX;
    }
    if !is_add {
        return INVALID_SW_IF_INDEX; // lcp_itf_pair_delete: no pair for the interface
    }
    // vl_api_lcp_itf_pair_add: strnlen (name, sizeof - 1), so at most 15 bytes.
    let name = host_if_name.split(|&b| b == 0).next().unwrap_or(&[]);
    let name = &name[..name.len().min(15)];
    let valid = name
        .iter()
        .all(|&c| c.is_ascii_alphanumeric() || b"-_%@:.".contains(&c));
    if !valid {
        return INVALID_ARGUMENT;
    }
    SYSCALL_ERROR_1
}

#[allow(deprecated)] // VPP 26.06 still serves the deprecated v1.
fn register_v1(h: &mut Handlers) {
    h.on_view::<LcpItfPairAddDel, _>(|m, _, req| LcpItfPairAddDelReply {
        retval: add_del(
            m,
            req.is_add(),
            req.sw_if_index().0,
            req.host_if_name_bytes(),
        ),
    });
}

pub(super) fn register(h: &mut Handlers) {
    register_v1(h);
    h.on_view::<LcpItfPairAddDelV2, _>(|m, _, req| LcpItfPairAddDelV2Reply {
        retval: add_del(
            m,
            req.is_add(),
            req.sw_if_index().0,
            req.host_if_name_bytes(),
        ),
        host_sw_if_index: InterfaceIndex::NONE,
    });
    // REPLY_AND_DETAILS_MACRO_END over an empty pool: no details, retval 0, cursor 0.
    h.on::<LcpItfPairGet, _>(|_, _, _| LcpItfPairGetReply {
        retval: 0,
        cursor: 0,
    });
    h.on_opt::<LcpItfPairGetV2, _>(|_, call, req| {
        if req.sw_if_index.0 == u32::MAX {
            // VPP 26.06 bug: the all-pairs branch answers with the v1 reply's ID
            // (VL_API_LCP_ITF_PAIR_GET_REPLY): a client waiting for the v2 reply hangs.
            call.reply_as::<LcpItfPairGetReply>(&LcpItfPairGetReply {
                retval: 0,
                cursor: 0,
            });
            return None;
        }
        // VALIDATE_SW_IF_INDEX_END, then no pair for a valid interface: both -2, cursor ~0.
        Some(LcpItfPairGetV2Reply {
            retval: INVALID_SW_IF_INDEX,
            cursor: u32::MAX,
        })
    });
}
