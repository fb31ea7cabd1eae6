use vppapi_runtime::{VppMessage, VppType};

#[derive(Debug, Clone, PartialEq, VppType)]
#[vpp(name = "var_type")]
pub struct VarType {
    #[vpp(string)]
    pub s: String,
}

#[derive(Debug, Clone, PartialEq, VppMessage)]
#[vpp(name = "bad", crc = 0x12345678, kind = "request")]
pub struct Bad {
    pub inner: VarType,
}

fn main() {}
