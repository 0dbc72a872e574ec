//! The libc functions compiled through the landmark pipeline (landmark-rt's
//! `musl/SOURCES`): musl's qsort, qsort_r and bsearch replace libc.a's
//! copies, carry records like the program's own functions, and behave
//! exactly like them.

use crate::common::*;

#[test]
fn qsort_and_bsearch_are_instrumented_and_unchanged() {
    let dir = tempdir();
    let src = fixture("libc/sort.c");
    cc(dir.path(), &["-O2", "-o", "sort", src.to_str().unwrap()]);
    let base = dir.path().join("sort");
    check_layout(&base);
    // What a plain clang-19 -O2 build against musl's libc.a prints (ties
    // make the order, and the comparison count, musl's algorithm's own).
    let out = same_on_both(&base, &[], b"");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "by bucket: f23e3a68\n\
         found 586 of 586 buckets\n\
         by name, reversed: 5c64084c first n9999924 last n0000619\n\
         1437174 comparisons\n"
    );
    // musl's functions have call sites, from musl's sources, on the way
    // from main to the comparators.
    let sites = callsites_json(&base);
    let functions: std::collections::BTreeSet<&str> = sites
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| {
            s["source"]
                .as_str()
                .unwrap()
                .contains("musl-1.2.3/src/stdlib/")
        })
        .map(|s| s["function"].as_str().unwrap())
        .collect();
    for f in ["__qsort_r", "sift", "trinkle", "wrapper_cmp", "bsearch"] {
        assert!(functions.contains(f), "no call site in {f}: {functions:?}");
    }
}
