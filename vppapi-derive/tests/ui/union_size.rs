use vppapi_runtime::{Ip4Address, Ip6Address, VppUnion};

#[derive(Clone, Copy, PartialEq, Debug, VppUnion)]
#[vpp(name = "bad_union", arms(ip4: Ip4Address, ip6: Ip6Address))]
pub struct BadUnion(pub [u8; 8]);

fn main() {}
