//! # vppapi-runtime
//!
//! The codec for FD.io VPP's binary API ([`codec`]: encode into a caller's buffer, owned
//! decode, zero-copy views, message headers) and the common VPP types with conversions to the
//! std types ([`codec::net`]), and the async connection to VPP's API socket ([`Connection`]:
//! pipelined calls, dumps, cursor streams, events, health, reconnects; [`connection`]),
//! with its [`Config`], compatibility checks ([`compat`]), metrics, trace and a blocking
//! facade ([`BlockingConnection`]).
//!
//! Generated code and hand-written messages use the derives of `vppapi-codec`, re-exported
//! here: [`VppMessage`], [`VppType`], [`VppEnum`], [`VppFlags`], [`VppUnion`], [`VppTagged`]
//! (and the optional [`VppReflect`], [`VppRandom`]). They name `::vppapi_codec`: depend on
//! `vppapi-codec` too, or write `#[vpp(crate = "::vppapi_runtime::codec")]` on each item.

/// The codec (the `vppapi-codec` crate): traits, views, net types, derives.
pub use vppapi_codec as codec;

pub mod api_error;
pub mod blocking;
pub mod compat;
pub mod config;
pub mod connection;
pub mod error;
pub mod memclnt;
pub mod metrics;
pub mod trace;
pub mod transport;

pub use api_error::ApiError;
pub use blocking::BlockingConnection;
pub use compat::{CompatReport, HandlerSet, MessageTable};
pub use config::{Config, Endpoint, OverflowPolicy, ShmConfig, ShmRoute};
pub use connection::{
    ConnState, Connection, DetailsStream, EventStream, RawDetailsStream, RawMessage, RawReply,
    ReconnectInfo,
};
pub use error::{Error, Result};
/// Counters of a shared-memory session ([`Connection::shm_stats`]).
#[cfg(shm_transport)]
pub use vppapi_shm::ClientStats as ShmStats;

pub use codec::net::{
    Address, AddressFamily, AddressUnion, AddressWithPrefix, InterfaceIndex, Ip4Address, Ip4Prefix,
    Ip6Address, Ip6Prefix, MacAddress, Prefix,
};
pub use codec::{
    decode_message, encode_message, view_message, DecodeError, EncodeError, Message, Wire,
};
pub use vppapi_codec::{
    VppEnum, VppFlags, VppMessage, VppRandom, VppReflect, VppTagged, VppType, VppUnion,
};
