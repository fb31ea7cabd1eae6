use vppapi_runtime::VppEnum;

#[derive(Clone, Copy, PartialEq, Eq, VppEnum)]
#[vpp(name = "bad_enum", values(A = 0))]
pub struct BadEnum(pub u64);

fn main() {}
