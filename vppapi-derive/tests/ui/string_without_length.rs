use vppapi_runtime::VppMessage;

#[derive(VppMessage)]
#[vpp(name = "bad", crc = 0x12345678, kind = "request")]
pub struct Bad {
    pub name: String,
}

fn main() {}
