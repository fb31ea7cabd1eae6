//! # vppapi-runtime
//!
//! The codec (encode into a caller's buffer, owned decode, zero-copy views) and, later, the async
//! socket transport with one multiplexed connection.
