//! # vppapi-gen
//!
//! Turns the [`api_json`] model into typed Rust. The code generator (`Builder` for `build.rs`)
//! arrives with the codec; today this crate hosts the `vppapi-gen` CLI ([`cli`]) that inspects,
//! diffs and verifies API trees.

pub mod cli;
