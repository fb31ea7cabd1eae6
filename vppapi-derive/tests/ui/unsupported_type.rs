use vppapi_runtime::VppType;

#[derive(VppType)]
pub struct Bad {
    pub size: usize,
}

fn main() {}
