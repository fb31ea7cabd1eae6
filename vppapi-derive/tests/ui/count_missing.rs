use vppapi_runtime::VppMessage;

#[derive(VppMessage)]
#[vpp(name = "bad", crc = 0x12345678, kind = "request")]
pub struct Bad {
    pub items: Vec<u32>,
}

fn main() {}
