//! Layout mistakes are compile errors with a clear message pointing at the field.

#[test]
fn layout_mistakes_are_compile_errors() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
