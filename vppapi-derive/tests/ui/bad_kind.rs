use vppapi_runtime::VppMessage;

#[derive(VppMessage)]
#[vpp(name = "bad", crc = 0x12345678, kind = "response")]
pub struct Bad {}

fn main() {}
