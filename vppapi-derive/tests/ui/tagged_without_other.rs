use vppapi_runtime::{AddressFamily, AddressUnion, Ip4Address, VppTagged};

#[derive(Clone, Copy, PartialEq, Debug, VppTagged)]
#[vpp(name = "addr", tag = af: AddressFamily, union = un: AddressUnion)]
pub enum Addr {
    #[vpp(case = AddressFamily::ADDRESS_IP4)]
    Ip4(Ip4Address),
}

fn main() {}
