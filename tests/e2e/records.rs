//! Live-value records: `migrate check` passes on real builds and catches
//! records that no longer correspond (a corrupted record, a mixed build, a
//! truncated side table).

use crate::common::*;
use object::{Object, ObjectSection};
use std::path::{Path, PathBuf};
use std::process::Output;

fn build(dir: &Path, example: &str) -> PathBuf {
    let src = repo()
        .join("examples")
        .join(example)
        .join(format!("{example}.c"));
    cc(dir, &["-O2", "-o", example, src.to_str().unwrap()]);
    dir.join(example)
}

fn check(base: &Path, json: bool) -> Output {
    let mut cmd = migrate();
    cmd.arg("check").arg(base);
    if json {
        cmd.arg("--json");
    }
    cmd.output().unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// File offset and size of `section` in the ELF file at `path`.
fn section_range(path: &Path, section: &str) -> (usize, usize) {
    let data = std::fs::read(path).unwrap();
    let file = object::File::parse(&data[..]).unwrap();
    let s = file.section_by_name(section).unwrap();
    let (offset, size) = s.file_range().unwrap();
    (offset as usize, size as usize)
}

/// Copies BASE.x86_64 and BASE.aarch64 to `dir/name.*`.
fn copy_build(base: &Path, dir: &Path, name: &str) -> PathBuf {
    for isa in ISAS {
        std::fs::copy(
            format!("{}.{isa}", base.display()),
            dir.join(format!("{name}.{isa}")),
        )
        .unwrap();
    }
    dir.join(name)
}

/// Rewrites the file at `path` with `change` applied to its bytes.
fn patch(path: &Path, change: impl FnOnce(&mut Vec<u8>)) {
    let mut data = std::fs::read(path).unwrap();
    change(&mut data);
    std::fs::write(path, &data).unwrap();
}

/// Byte offset of the record with `id` inside `.llvm_stackmaps` (LLVM's
/// stackmap format version 3, walked by hand so the test does not trust
/// the reader it tests).
fn record_offset(stackmaps: &[u8], id: u64) -> usize {
    let u16_at = |o: usize| u16::from_le_bytes(stackmaps[o..o + 2].try_into().unwrap()) as usize;
    let u32_at = |o: usize| u32::from_le_bytes(stackmaps[o..o + 4].try_into().unwrap()) as usize;
    let u64_at = |o: usize| u64::from_le_bytes(stackmaps[o..o + 8].try_into().unwrap());
    let align = |o: usize| o.div_ceil(8) * 8;
    let mut at = 16 + 24 * u32_at(4) + 8 * u32_at(8);
    for _ in 0..u32_at(12) {
        if u64_at(at) == id {
            return at;
        }
        let locations = u16_at(at + 14);
        let live_outs_at = align(at + 16 + 12 * locations) + 2;
        at = align(live_outs_at + 2 + 4 * u16_at(live_outs_at));
    }
    panic!("no record {id}");
}

#[test]
fn check_passes_on_a_build_and_reports_json() {
    let dir = tempdir();
    let base = build(dir.path(), "recursion");
    let out = check(&base, false);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("records correspond"), "{}", text(&out));

    let out = check(&base, true);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let sites = report["call_sites"].as_u64().unwrap();
    let landmarks = report["landmark_sites"].as_u64().unwrap();
    // Recursive calls are recorded besides the landmark calls.
    assert!(landmarks > 0 && sites > landmarks, "{report}");
    assert_eq!(report["mismatches"].as_array().unwrap().len(), 0);
}

#[test]
fn check_catches_a_corrupted_record() {
    let dir = tempdir();
    let base = build(dir.path(), "recursion");
    let a64 = |name: &str| dir.path().join(format!("{name}.aarch64"));

    // Call site 1's record renamed to an ID no call site has.
    let bad_id = copy_build(&base, dir.path(), "bad-id");
    let (start, size) = section_range(&a64("bad-id"), ".llvm_stackmaps");
    let mut record = 0;
    patch(&a64("bad-id"), |data| {
        record = start + record_offset(&data[start..start + size], 1);
        data[record..record + 8].copy_from_slice(&999_999u64.to_le_bytes());
    });
    let out = check(&bad_id, false);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("aarch64: no record for call site 1 "),
        "{}",
        text(&out)
    );
    assert!(text(&out).contains("record 999999 has no call site or frame"));

    // The first location of call site 1 (a call to ackermann with live
    // values) shrunk to 0 bytes.
    let bad_size = copy_build(&base, dir.path(), "bad-size");
    let location = record + 16;
    patch(&a64("bad-size"), |data| {
        data[location + 2..location + 4].copy_from_slice(&0u16.to_le_bytes())
    });
    let out = check(&bad_size, false);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("location 0: 0 bytes hold a"),
        "{}",
        text(&out)
    );
}

#[test]
fn check_refuses_mixed_builds_and_truncated_tables() {
    let dir = tempdir();
    let rec = build(dir.path(), "recursion");
    let nbody = build(dir.path(), "nbody");

    let mixed = dir.path().join("mixed");
    std::fs::copy(
        format!("{}.x86_64", rec.display()),
        format!("{}.x86_64", mixed.display()),
    )
    .unwrap();
    std::fs::copy(
        format!("{}.aarch64", nbody.display()),
        format!("{}.aarch64", mixed.display()),
    )
    .unwrap();
    let out = check(&mixed, false);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("differ: not one build"),
        "{}",
        text(&out)
    );

    // A side table cut short: an error naming the problem, not a crash.
    let cut = copy_build(&rec, dir.path(), "cut");
    let path = dir.path().join("cut.x86_64");
    let (start, size) = section_range(&path, ".migrate.callsites");
    patch(&path, |data| {
        data[start + size / 2..start + size].fill(0xff)
    });
    let out = check(&cut, false);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("call-site table"), "{}", text(&out));
}

#[test]
fn inspect_lists_call_sites_side_by_side() {
    let dir = tempdir();
    let base = build(dir.path(), "recursion");
    let out = migrate()
        .args(["inspect", "--callsites"])
        .arg(&base)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(listing.lines().next().unwrap().contains("x86_64"));
    assert!(listing.contains("(landmark 0 in main"), "{listing}");
    assert!(listing.contains("call to ackermann in main"), "{listing}");

    let out = migrate()
        .args([
            "inspect",
            "--callsites",
            "--json",
            "--function",
            "ackermann",
        ])
        .arg(&base)
        .output()
        .unwrap();
    let sites: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let sites = sites.as_array().unwrap();
    assert!(!sites.is_empty());
    for site in sites {
        assert_eq!(site["function"], "ackermann");
        // Every recorded value has a location on both ISAs.
        for v in site["values"].as_array().unwrap() {
            let locs = v["locations"].as_array().unwrap();
            assert!(locs.iter().all(|l| l.is_string()), "{site}");
        }
        for isa in 0..2 {
            assert!(!site["record_addresses"][isa].as_array().unwrap().is_empty());
        }
    }

    let out = migrate()
        .args(["inspect", "--callsites", "--function", "no_such_function"])
        .arg(&base)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("no recorded call site in a function named no_such_function"));
}

/// With the default backend options, the same program has no hidden state
/// left at those call sites.
#[test]
fn default_codegen_keeps_the_hidden_state_out() {
    let dir = tempdir();
    let src = fixture("certify/hidden.c");
    cc(dir.path(), &["-O2", "-o", "hidden", src.to_str().unwrap()]);
    let out = migrate()
        .args([
            "inspect",
            "--callsites",
            "--json",
            "--function",
            "hoisted_constant",
        ])
        .arg(dir.path().join("hidden"))
        .output()
        .unwrap();
    let sites: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for site in sites.as_array().unwrap() {
        for (migratable, live) in certificates(site) {
            assert!(migratable, "{live:?}");
        }
    }
}

#[test]
fn certify_explains_most_call_sites_on_both_isas() {
    let dir = tempdir();
    let base = build(dir.path(), "wordfreq");
    let out = migrate()
        .args(["check", "--certify", "--json"])
        .arg(&base)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Fractions when written: 73/73 on both ISAs, musl's qsort included
    // (35/40 and 27/40 when certificates were new).
    for (i, isa, at_least) in [(0, "x86_64", 98), (1, "aarch64", 98)] {
        let c = &report["certificates"][i];
        assert_eq!(c["isa"], isa);
        let (records, certified) = (
            c["records"].as_u64().unwrap(),
            c["certified"].as_u64().unwrap(),
        );
        // Every record is examined, most are explained, and every one that
        // is not says why.
        assert_eq!(records, report["call_sites"].as_u64().unwrap());
        assert!(certified * 100 >= records * at_least, "{c}");
        let refused: u64 = c["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r[1].as_u64().unwrap())
            .sum();
        assert_eq!(certified + refused, records, "{c}");
    }
}

/// The certificate's explanation of each live location of one call site,
/// per ISA: (migratable, [(location, explanation)]).
fn certificates(site: &serde_json::Value) -> Vec<(bool, Vec<(String, String)>)> {
    site["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let live = c["live"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    (
                        p[0].as_str().unwrap().to_string(),
                        p[1].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            (c["migratable"].as_bool().unwrap(), live)
        })
        .collect()
}

#[test]
fn certificates_explain_hoisted_constants_and_refuse_induction_variables() {
    let dir = tempdir();
    let src = fixture("certify/hidden.c");
    // Without the default -disable-lsr -disable-machine-licm, so that the
    // backends do keep the hidden state this test is about.
    cc(
        dir.path(),
        &[
            "-O2",
            "--no-migration-codegen",
            "-o",
            "hidden",
            src.to_str().unwrap(),
        ],
    );
    let base = dir.path().join("hidden");
    let r = same_on_both(&base, &[], b"");
    assert_eq!(r.stdout, b"500 500 500\n");
    let sites = callsites_json(&base);
    // Each function's one landmark, its loop's (no function here is
    // recursive, so none has an entry landmark).
    let site = |function: &str| {
        sites
            .as_array()
            .unwrap()
            .iter()
            .find(|s| {
                s["function"] == function && s["kind"].as_str().unwrap().starts_with("landmark ")
            })
            .unwrap_or_else(|| panic!("no landmark in {function}: {sites}"))
            .clone()
    };
    // `sink` cannot reach a landmark, so calls to it get no record; the
    // loops' landmarks are the call sites.
    //
    // In the loop of hoisted_constant, the 64-bit constant the backend
    // hoisted into a callee-saved register is explained on both ISAs; the
    // multiple of it that loop strength reduction steps (i * C, never in
    // the IR) is not, so the call site is refused.
    for (isa, (migratable, live)) in certificates(&site("hoisted_constant"))
        .into_iter()
        .enumerate()
    {
        assert!(
            live.iter().any(|(_, e)| e == "constant 0x123456789abcdef"),
            "ISA {isa}: {live:?}"
        );
        assert!(
            live.iter().any(|(_, e)| e.starts_with("UNKNOWN")),
            "ISA {isa}: {live:?}"
        );
        assert!(!migratable);
    }
    // A pointer stepping through the array instead of the index: refused.
    for (migratable, live) in certificates(&site("induction")) {
        assert!(!migratable, "{live:?}");
    }
    // The global array's address, computed before the loop into a
    // callee-saved register on aarch64, is explained as the symbol's
    // address; x86_64 needs no register for it.
    let table = {
        use object::ObjectSymbol;
        let data = std::fs::read(dir.path().join("hidden.aarch64")).unwrap();
        let file = object::File::parse(&data[..]).unwrap();
        file.symbols()
            .find(|s| s.name() == Ok("table"))
            .expect("the symbol of the static array")
            .address()
    };
    let [x86, a64] = <[_; 2]>::try_from(certificates(&site("global_address"))).unwrap();
    assert!(x86.0, "{:?}", x86.1);
    assert!(a64.0, "{:?}", a64.1);
    assert!(
        a64.1
            .iter()
            .any(|(loc, e)| loc.starts_with('x') && *e == format!("constant {table:#x}")),
        "{:?}",
        a64.1
    );
}

/// Every build certifies its records and stores the result: the
/// certificates in each executable, the migratable call sites in a table
/// the runtime reads. `check --certify` recomputes both and notices when
/// either no longer matches.
#[test]
fn builds_store_certificates_and_check_recomputes_them() {
    let dir = tempdir();
    let src = repo().join("examples/wordfreq/wordfreq.c");
    let out = cc(
        dir.path(),
        &["-O2", "-o", "wordfreq", src.to_str().unwrap()],
    );
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("call sites migratable"), "{said}");
    let base = dir.path().join("wordfreq");

    let certify = |base: &Path| {
        migrate()
            .args(["check", "--certify", "--json"])
            .arg(base)
            .output()
            .unwrap()
    };
    let out = certify(&base);
    assert!(out.status.success(), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let migratable = report["migratable_sites"].as_u64().unwrap();
    let sites = report["call_sites"].as_u64().unwrap();
    // At most the certified records of either ISA, and most of them.
    assert!(migratable * 100 >= sites * 95, "{report}");
    for c in report["certificates"].as_array().unwrap() {
        assert!(migratable <= c["certified"].as_u64().unwrap(), "{report}");
    }

    // The table says the opposite of the certificates for every site:
    // check catches it.
    let marked = copy_build(&base, dir.path(), "marked");
    let x86 = dir.path().join("marked.x86_64");
    let (offset, size) = {
        let data = std::fs::read(&x86).unwrap();
        let file = object::File::parse(&data[..]).unwrap();
        use object::ObjectSymbol;
        let sym = file
            .symbols()
            .find(|s| s.name() == Ok("__migrate_migratable"))
            .expect("the migratable-sites table");
        let section = file.section_by_index(sym.section_index().unwrap()).unwrap();
        let start = section.file_range().unwrap().0 + sym.address() - section.address();
        (start as usize, sym.size() as usize)
    };
    patch(&x86, |d| {
        for b in &mut d[offset + 16..offset + size] {
            *b ^= 0xff;
        }
    });
    let out = certify(&marked);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("x86_64: the migratable-sites table differs from the certificates"),
        "{}",
        text(&out)
    );

    // An executable without its certificates.
    let stripped = copy_build(&base, dir.path(), "stripped");
    let a64 = dir.path().join("stripped.aarch64");
    let status = std::process::Command::new("llvm-objcopy-19")
        .arg("--remove-section=.migrate.certificates")
        .arg(&a64)
        .status()
        .unwrap();
    assert!(status.success());
    let out = certify(&stripped);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("aarch64: no .migrate.certificates section"),
        "{}",
        text(&out)
    );
}

/// aarch64 keeps a vectorized loop's constant (`fmov v5.2d, #1.0`, 1.0 in
/// both lanes) in a 16-byte spill slot across the loop's landmark: all
/// four words of it are certified (bytes 8-15 repeat the lane, unlike a
/// scalar constant's zeros), so the landmark is migratable; the
/// translator writes both lanes (verify::stackarrays moves the program at
/// these landmarks in both directions and compares its output).
#[test]
fn vector_constants_in_every_lane_are_certified() {
    let dir = tempdir();
    let src = repo().join("examples/stackarrays/stackarrays.c");
    cc(dir.path(), &["-O2", "-o", "sa", src.to_str().unwrap()]);
    let sites = callsites_json(&dir.path().join("sa"));
    let mut splats = 0;
    for site in sites.as_array().unwrap() {
        let [_, (migratable, live)] = <[_; 2]>::try_from(certificates(site)).unwrap();
        let lanes: Vec<&str> = live
            .iter()
            .filter(|(_, e)| e.ends_with("in every lane"))
            .map(|(loc, _)| loc.as_str())
            .collect();
        if lanes.is_empty() {
            continue;
        }
        splats += 1;
        assert!(migratable, "{live:?}");
        assert_eq!(lanes.len() % 4, 0, "a 16-byte slot, four words: {live:?}");
        assert!(
            live.iter()
                .any(|(_, e)| e.starts_with("bytes 12-15 of constant 0x3ff0000000000000")),
            "{live:?}"
        );
    }
    assert!(splats >= 10, "{splats} landmarks with a splat kept");
}
