//! Misuse of the derives must fail to compile with a message that says what is wrong.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
