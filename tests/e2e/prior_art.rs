//! The test cases every stack translator must pass, from the failures of
//! earlier ones (../shared/research/stack-translators-prior-art.md), each
//! a fixture of its own in tests/fixtures/translate/: moved at seeded hits
//! in both directions and bounced four times from each ISA with `migrate
//! verify`. Case 12 (round trips) is each fixture's ping-pong; case 13
//! (every optimization level, vectorized loops) is verify.rs's examples at
//! -O0..-O3 and vecloop.

use crate::common::*;

fn case(name: &str, extra: &[&str]) {
    let dir = tempdir();
    let src = fixture(&format!("translate/{name}.c"))
        .display()
        .to_string();
    let mut args = vec!["-O2", "-o", name, &src];
    args.extend(extra);
    cc(dir.path(), &args);
    let base = dir.path().join(name);
    let v = crate::verify::verify(dir.path(), &base, &[], None, 6, 4, 41);
    assert_eq!(
        v.identical, v.runs,
        "{name}: {} of {} runs had a refused move",
        v.refused, v.runs
    );
}

#[test]
fn case01_pointer_into_a_callers_array_in_a_saved_register() {
    case("case01_array_pointer", &[]);
}

#[test]
fn case02_stack_nodes_linked_across_frames_from_heap_and_global() {
    case("case02_stack_links", &[]);
}

#[test]
fn case03_self_referential_struct_in_one_frame() {
    case("case03_self_ref", &[]);
}

#[test]
fn case04_frames_saving_different_register_subsets() {
    case("case04_callee_saved", &[]);
}

#[test]
fn case05_narrow_values_across_calls() {
    case("case05_narrow", &[]);
}

#[test]
fn case06_doubles_across_calls_and_recursion() {
    case("case06_doubles", &[]);
}

#[test]
fn case07_values_in_registers_and_slots() {
    case("case07_reg_and_slot", &["-lm"]);
}

#[test]
fn case08_constants_and_addresses_kept_or_recomputed() {
    case("case08_constants", &[]);
}

#[test]
fn case09_nothing_live_endless_loop_function_pointer() {
    case("case09_nothing_live", &[]);
}

#[test]
fn case10_over_a_thousand_frames_of_three_sizes() {
    case("case10_deep", &[]);
}

#[test]
fn case11_tls_errno_and_stack_protector() {
    case("case11_tls_errno", &["-fstack-protector-all"]);
}

#[test]
fn case14_live_va_list_and_jmp_buf() {
    case("case14_varargs_jmpbuf", &[]);
}

#[test]
fn case15_cached_vdso_clock_gettime() {
    case("case15_vdso", &[]);
}
