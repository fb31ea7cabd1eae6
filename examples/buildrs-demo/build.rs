//! Generates bindings for the `interface` and `lb` modules (and the modules they use) of the
//! small API tree committed in the repository. With VPP installed, point `input` at
//! `/usr/share/vpp/api` instead.

fn main() {
    let tree = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../api-json/tests/fixtures/tree"
    );
    vppapi_gen::Builder::new()
        .input(tree)
        .module("interface")
        .module("lb")
        .generate()
        .expect("generate VPP bindings");
}
