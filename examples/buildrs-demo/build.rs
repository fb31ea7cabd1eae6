//! Generates bindings for the `interface` and `lb` modules (and the modules they use) of the
//! small API tree committed in the repository. With VPP installed, point `input` at
//! `/usr/share/vpp/api` instead.
//!
//! This crate depends on `vppapi-runtime` only, so the generated code names the codec through
//! the runtime's re-export (`codec_path`); a crate that depends on `vppapi-codec` needs no
//! such line.

fn main() {
    let tree = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../api-json/tests/fixtures/tree"
    );
    vppapi_gen::Builder::new()
        .input(tree)
        .module("interface")
        .module("lb")
        .codec_path("::vppapi_runtime::codec")
        .generate()
        .expect("generate VPP bindings");
}
