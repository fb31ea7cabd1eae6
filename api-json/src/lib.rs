//! # api-json: VPP's binary API definitions as a Rust model
//!
//! Loads a tree of `.api.json` files (VPP installs them under `/usr/share/vpp/api/{core,plugins}`)
//! or `.api` IDL sources, resolves every type across files, computes each message's wire layout and
//! re-derives every CRC with vppapigen's algorithm.
//!
//! Data flow: [`json`] / [`idl`] parse one file into a [`model::ApiFile`]; the resolver builds
//! one type table for a whole tree; [`crc`] re-derives message CRCs and file versions; layouts give
//! every field's offset and size.

pub mod api;
pub mod classify;
pub mod crc;
pub mod error;
pub mod idl;
pub mod json;
pub mod json_out;
pub mod layout;
pub mod model;
pub mod verify;
pub mod version;

pub use api::Api;
pub use error::{Error, Location, Result};
pub use model::*;
