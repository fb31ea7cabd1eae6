//! Proc-macros the generated VPP API code stands on. The codec derives are built together with
//! the `vppapi-runtime` codec.
