//! Every way an event could slip data past the allowlist must fail to compile, with an error
//! that says why at the right place; every kind of property must compile and write what it says.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("cases/fail/*.rs");
    t.pass("cases/pass/*.rs");
}
