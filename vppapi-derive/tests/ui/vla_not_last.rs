use vppapi_runtime::VppMessage;

#[derive(VppMessage)]
#[vpp(name = "bad", crc = 0x12345678, kind = "request")]
pub struct Bad {
    #[vpp(count = "n", count_ty = "u32")]
    pub items: Vec<u32>,
    pub after: u32,
}

fn main() {}
