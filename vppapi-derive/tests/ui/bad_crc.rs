use vppapi_runtime::VppMessage;

#[derive(VppMessage)]
#[vpp(name = "bad", crc = "0x1234", kind = "request")]
pub struct Bad {}

#[derive(VppMessage)]
#[vpp(name = "bad2", crc = 0x123456789, kind = "request")]
pub struct Bad2 {}

fn main() {}
