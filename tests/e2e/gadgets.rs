//! `migrate gadgets`: the gadgets of a small program's function, checked by
//! hand against objdump and automatically against objdump's decoding; what
//! --depth and --type do to the counts of whole executables; the JSON lines;
//! bad input.

use crate::common::*;
use object::{Object, ObjectSection, ObjectSymbol};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// No assembly. `add3` is a leaf without landmarks: at -O2 it is
/// `lea rax, [rdi + rsi]; add rax, rdx; ret` on x86_64 and
/// `add x8, x1, x0; add x0, x8, x2; ret` on aarch64. `apply` calls
/// through a pointer (a JOP gadget ends there) and has a landmark.
const TINY: &str = r#"
#include <stdio.h>

__attribute__((noinline)) long add3(long a, long b, long c) { return a + b + c; }

__attribute__((noinline)) long apply(long (*f)(long, long, long), long x) { return f(x, x, 1); }

int main(int argc, char **argv) {
    (void)argv;
    printf("%ld\n", add3(argc, 2, 3) + apply(add3, argc));
    return 0;
}
"#;

fn build_tiny() -> (tempfile::TempDir, PathBuf) {
    let dir = tempdir();
    std::fs::write(dir.path().join("tiny.c"), TINY).unwrap();
    cc(dir.path(), &["-O2", "-o", "tiny", "tiny.c"]);
    let base = dir.path().join("tiny");
    (dir, base)
}

fn exe(base: &Path, isa: &str) -> PathBuf {
    PathBuf::from(format!("{}.{isa}", base.display()))
}

/// `migrate gadgets BASE ARGS`, which must succeed; its stdout.
fn gadgets(base: &Path, args: &[&str]) -> String {
    let out = migrate()
        .arg("gadgets")
        .arg(base)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "migrate gadgets {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The text listing: per ISA, (address, text) in order, and the closing
/// count.
fn listing(text: &str) -> BTreeMap<String, (Vec<(u64, String)>, usize)> {
    let mut lists = BTreeMap::new();
    let mut isa = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("Gadgets information (") {
            let name = rest.split(':').next().unwrap().to_string();
            lists.insert(name.clone(), (Vec::new(), usize::MAX));
            isa = Some(name);
        } else if let Some(addr) = line.strip_prefix("0x") {
            let (addr, insns) = addr.split_once(" : ").expect(line);
            assert_eq!(addr.len(), 16, "{line}");
            let list = &mut lists.get_mut(isa.as_ref().expect(line)).unwrap().0;
            list.push((u64::from_str_radix(addr, 16).unwrap(), insns.to_string()));
        } else if let Some(n) = line
            .strip_prefix("Unique gadgets found: ")
            .or_else(|| line.strip_prefix("Gadgets found: "))
        {
            lists.get_mut(isa.as_ref().unwrap()).unwrap().1 = n.parse().unwrap();
        }
    }
    for (isa, (list, count)) in &lists {
        assert_eq!(list.len(), *count, "{isa}: the count line counts the list");
        assert!(
            list.windows(2).all(|w| w[0].0 < w[1].0),
            "{isa}: by address"
        );
    }
    lists
}

/// Address and size of the function `name` in `exe`.
fn symbol(exe: &Path, name: &str) -> (u64, u64) {
    let data = std::fs::read(exe).unwrap();
    let file = object::File::parse(&*data).unwrap();
    let s = file.symbols().find(|s| s.name() == Ok(name)).unwrap();
    (s.address(), s.size())
}

/// `(offset from add3, text)`, for `--function add3 --all --depth N`.
fn add3_gadgets(base: &Path, depth: &str) -> BTreeMap<String, Vec<(u64, String)>> {
    let text = gadgets(base, &["--function", "add3", "--all", "--depth", depth]);
    listing(&text)
        .into_iter()
        .map(|(isa, (list, _))| {
            let (start, _) = symbol(&exe(base, &isa), "add3");
            let rel = list.into_iter().map(|(a, t)| (a - start, t)).collect();
            (isa, rel)
        })
        .collect()
}

fn owned(v: &[(u64, &str)]) -> Vec<(u64, String)> {
    v.iter().map(|(a, t)| (*a, t.to_string())).collect()
}

/// The gadget lists of add3, checked by hand against
///
/// ```text
/// objdump -d -M intel --disassemble=add3 tiny.x86_64
///   +0: 48 8d 04 37   lea rax,[rdi+rsi*1]
///   +4: 48 01 d0      add rax,rdx
///   +7: c3            ret
/// llvm-objdump-19 -d --triple=aarch64 --disassemble-symbols=add3 tiny.aarch64
///   +0: 8b000028      add x8, x1, x0
///   +4: 8b020100      add x0, x8, x2
///   +8: d65f03c0      ret
/// ```
///
/// and the bytes decoded from each x86_64 offset: +1 `8d 04 37` is
/// `lea eax, [rdi + rsi]`; +2 `04 37` is `add al, 0x37`; +3 `37` (aaa) is
/// invalid in 64-bit mode; +5 `01 d0` is `add eax, edx`; +6 `d0 c3` is
/// `rol bl, 1` and runs on past the function's end (the symbol's 8 bytes),
/// so it is not wholly inside add3.
#[test]
fn gadgets_of_a_function_are_the_hand_checked_ones() {
    let (_dir, base) = build_tiny();
    let got = add3_gadgets(&base, "6");
    assert_eq!(
        got["x86_64"],
        owned(&[
            (0, "lea rax, [rdi + rsi] ; add rax, rdx ; ret"),
            (1, "lea eax, [rdi + rsi] ; add rax, rdx ; ret"),
            (2, "add al, 0x37 ; add rax, rdx ; ret"),
            (4, "add rax, rdx ; ret"),
            (5, "add eax, edx ; ret"),
            (7, "ret"),
        ])
    );
    assert_eq!(
        got["aarch64"],
        owned(&[
            (0, "add x8, x1, x0 ; add x0, x8, x2 ; ret"),
            (4, "add x0, x8, x2 ; ret"),
            (8, "ret"),
        ])
    );
    // Depth counts instructions, the ret included.
    let got = add3_gadgets(&base, "2");
    assert_eq!(
        got["x86_64"],
        owned(&[
            (4, "add rax, rdx ; ret"),
            (5, "add eax, edx ; ret"),
            (7, "ret")
        ])
    );
    assert_eq!(
        got["aarch64"],
        owned(&[(4, "add x0, x8, x2 ; ret"), (8, "ret")])
    );
    let got = add3_gadgets(&base, "1");
    assert_eq!(got["x86_64"], owned(&[(7, "ret")]));
    assert_eq!(got["aarch64"], owned(&[(8, "ret")]));
    // add3 is at the same address in both: +0 and +4 start gadgets in both.
    let text = gadgets(&base, &["--function", "add3", "--summary"]);
    assert!(
        text.contains(
            "addresses that start a gadget in both executables: 2 (of the same type in both: 2)"
        ),
        "{text}"
    );
    assert!(
        text.contains("x86_64: 2 of 6 gadget addresses kept after a switch to aarch64 (33.33%"),
        "{text}"
    );
    assert!(
        text.contains("aarch64: 2 of 3 gadget addresses kept after a switch to x86_64 (66.67%"),
        "{text}"
    );
    // No jump or call in add3, and no system call.
    for t in ["jop", "sys"] {
        let l = listing(&gadgets(&base, &["--function", "add3", "--type", t]));
        assert!(l.values().all(|(list, _)| list.is_empty()), "{t}: {l:?}");
    }
}

/// One instruction as objdump decodes it: its bytes and mnemonic.
fn objdump(isa: &str, exe: &Path, start: u64, end: u64) -> Vec<(Vec<u8>, String)> {
    let mut cmd = if isa == "x86_64" {
        let mut c = Command::new("objdump");
        c.args(["-d", "-M", "intel"]);
        c
    } else {
        let mut c = Command::new("llvm-objdump-19");
        c.args(["-d", "--triple=aarch64"]);
        c
    };
    let out = cmd
        .arg(format!("--start-address={start:#x}"))
        .arg(format!("--stop-address={end:#x}"))
        .arg(exe)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut insns: Vec<(Vec<u8>, String)> = Vec::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        // GNU: "    10001050:\t48 8d 04 37          \tlea    rax,[rdi+rsi*1]" (long
        // instructions continue on a line with bytes only); LLVM:
        // "10001050: 8b000028     \tadd\tx8, x1, x0".
        let Some((addr, rest)) = line.split_once(':') else {
            continue;
        };
        if u64::from_str_radix(addr.trim(), 16).is_err() || rest.is_empty() {
            continue;
        }
        let rest = rest.trim_start_matches([' ', '\t']);
        let (hex, text) = rest.split_once('\t').unwrap_or((rest, ""));
        let bytes: Vec<u8> = if isa == "aarch64" {
            // One word, printed as a number.
            u32::from_str_radix(hex.trim(), 16)
                .unwrap()
                .to_le_bytes()
                .to_vec()
        } else {
            hex.split_whitespace()
                .map(|b| u8::from_str_radix(b, 16).unwrap())
                .collect()
        };
        let mnemonic = text.split_whitespace().next().unwrap_or("").to_string();
        if mnemonic.is_empty() {
            insns.last_mut().expect(line).0.extend(bytes);
        } else {
            insns.push((bytes, mnemonic));
        }
    }
    insns
}

/// Every gadget of two functions, decoded again by objdump from its
/// address: the same instructions (bytes and mnemonics).
#[test]
fn gadgets_decode_as_objdump_decodes_them() {
    let (_dir, base) = build_tiny();
    let mut checked = BTreeMap::new();
    for function in ["add3", "apply"] {
        let text = gadgets(&base, &["--function", function, "--all", "--json"]);
        for line in text.lines() {
            let g: Value = serde_json::from_str(line).unwrap();
            if g.get("summary").is_some() {
                continue;
            }
            let isa = g["isa"].as_str().unwrap();
            let vaddr = g["vaddr"].as_u64().unwrap();
            let hex = g["bytes"].as_str().unwrap();
            let bytes: Vec<u8> = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect();
            let insns: Vec<&str> = g["insns"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i.as_str().unwrap())
                .collect();
            let theirs = objdump(isa, &exe(&base, isa), vaddr, vaddr + bytes.len() as u64);
            let what = format!("{isa} {vaddr:#x} {insns:?}: objdump {theirs:?}");
            assert_eq!(theirs.len(), insns.len(), "{what}");
            assert_eq!(theirs.concat_bytes(), bytes, "{what}");
            for (ours, (_, mnemonic)) in insns.iter().zip(&theirs) {
                assert_eq!(ours.split_whitespace().next().unwrap(), mnemonic, "{what}");
            }
            *checked.entry((function, isa.to_string())).or_insert(0) += 1;
        }
    }
    // Something of each was checked, jumps and calls included.
    assert_eq!(checked.len(), 4, "{checked:?}");
    let jop = gadgets(&base, &["--function", "apply", "--type", "jop", "--all"]);
    let l = listing(&jop);
    for (isa, last) in [("x86_64", "call"), ("aarch64", "blr")] {
        let list = &l[isa].0;
        assert!(!list.is_empty(), "{isa}: {jop}");
        for (_, text) in list {
            let end = text.rsplit(" ; ").next().unwrap();
            assert!(end.starts_with(last), "{isa}: {text}");
        }
    }
}

trait ConcatBytes {
    fn concat_bytes(&self) -> Vec<u8>;
}

impl ConcatBytes for Vec<(Vec<u8>, String)> {
    fn concat_bytes(&self) -> Vec<u8> {
        self.iter().flat_map(|(b, _)| b.iter().copied()).collect()
    }
}

/// `--summary --json`'s summary.
fn summary(base: &Path, args: &[&str]) -> Value {
    let mut all = vec!["--summary", "--json"];
    all.extend_from_slice(args);
    let text = gadgets(base, &all);
    let v: Value = serde_json::from_str(text.trim()).unwrap();
    v["summary"].clone()
}

fn count(s: &Value, isa: &str, kind: &str, which: &str) -> u64 {
    let i = s["isas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["isa"] == isa)
        .unwrap();
    i["counts"][kind][which].as_u64().unwrap()
}

/// The words of `exe`'s executable sections.
fn code_words(exe: &Path) -> Vec<u32> {
    let data = std::fs::read(exe).unwrap();
    let file = object::File::parse(&*data).unwrap();
    let mut words = Vec::new();
    for s in file.sections() {
        let object::SectionFlags::Elf { sh_flags } = s.flags() else {
            continue;
        };
        if sh_flags & u64::from(object::elf::SHF_EXECINSTR) != 0 {
            assert_eq!(s.address() % 4, 0);
            let d = s.data().unwrap();
            words.extend(
                d.chunks_exact(4)
                    .map(|c| u32::from_le_bytes(c.try_into().unwrap())),
            );
        }
    }
    words
}

/// Whole executables: the counts grow with the depth, the types add up to
/// all, folding only removes, one-instruction aarch64 gadgets are exactly
/// the terminators' words.
#[test]
fn depth_and_type_change_the_counts_as_they_should() {
    let (_dir, base) = build_tiny();
    let mut previous: Option<Value> = None;
    for depth in 1..=8 {
        let s = summary(&base, &["--depth", &depth.to_string()]);
        for isa in ISAS {
            for which in ["unique", "total"] {
                let parts: u64 = ["rop", "jop", "sys"]
                    .iter()
                    .map(|k| count(&s, isa, k, which))
                    .sum();
                assert_eq!(parts, count(&s, isa, "all", which), "{isa} depth {depth}");
            }
            for kind in ["rop", "jop", "sys", "all"] {
                let (u, t) = (
                    count(&s, isa, kind, "unique"),
                    count(&s, isa, kind, "total"),
                );
                assert!(u <= t && (t == 0) == (u == 0), "{isa} {kind} depth {depth}");
                if let Some(p) = &previous {
                    for which in ["unique", "total"] {
                        assert!(
                            count(&s, isa, kind, which) >= count(p, isa, kind, which),
                            "{isa} {kind} {which} shrank at depth {depth}"
                        );
                    }
                }
            }
            // --type picks the same gadgets out of all.
            if depth == 3 {
                for kind in ["rop", "jop", "sys"] {
                    let only = summary(&base, &["--depth", "3", "--type", kind]);
                    assert_eq!(
                        count(&only, isa, "all", "total"),
                        count(&s, isa, kind, "total"),
                        "{isa} {kind}"
                    );
                    let types = only["types"].as_array().unwrap();
                    assert_eq!(types.len(), 1);
                    assert!(only["isas"][0]["counts"].get("jop").is_none() || kind == "jop");
                }
            }
        }
        previous = Some(s);
    }
    let (d1, d6) = (
        summary(&base, &["--depth", "1"]),
        summary(&base, &["--depth", "6"]),
    );
    for isa in ISAS {
        assert!(
            count(&d6, isa, "all", "total") > 2 * count(&d1, isa, "all", "total"),
            "{isa}: longer gadgets add many"
        );
    }
    // Depth 1 on aarch64: every aligned ret/br/blr/svc word (musl and the
    // runtime have all three), counted independently here.
    let words = code_words(&exe(&base, "aarch64"));
    let rets = words
        .iter()
        .filter(|w| *w & 0xffff_fc1f == 0xd65f_0000)
        .count() as u64;
    let jumps = words
        .iter()
        .filter(|w| *w & 0xffff_fc1f == 0xd61f_0000 || *w & 0xffff_fc1f == 0xd63f_0000)
        .count() as u64;
    let svcs = words
        .iter()
        .filter(|w| *w & 0xffe0_001f == 0xd400_0001)
        .count() as u64;
    assert!(rets > 10 && jumps > 0 && svcs > 0, "{rets} {jumps} {svcs}");
    assert_eq!(count(&d1, "aarch64", "rop", "total"), rets);
    assert_eq!(count(&d1, "aarch64", "jop", "total"), jumps);
    assert_eq!(count(&d1, "aarch64", "sys", "total"), svcs);
    // On x86_64 every c3 byte is a ret at least.
    let x = std::fs::read(exe(&base, "x86_64")).unwrap();
    let file = object::File::parse(&*x).unwrap();
    let c3 = file
        .sections()
        .filter(|s| matches!(s.flags(), object::SectionFlags::Elf { sh_flags } if sh_flags & u64::from(object::elf::SHF_EXECINSTR) != 0))
        .map(|s| s.data().unwrap().iter().filter(|b| **b == 0xc3).count() as u64)
        .sum::<u64>();
    assert!(c3 > 10 && count(&d1, "x86_64", "rop", "total") >= c3);
    // The listing holds the unique gadgets, --all every one.
    let folded = listing(&gadgets(&base, &[]));
    let all = listing(&gadgets(&base, &["--all"]));
    for isa in ISAS {
        assert_eq!(folded[isa].1 as u64, count(&d6, isa, "all", "unique"));
        assert_eq!(all[isa].1 as u64, count(&d6, isa, "all", "total"));
        let texts: BTreeSet<&String> = folded[isa].0.iter().map(|(_, t)| t).collect();
        assert_eq!(texts.len(), folded[isa].0.len(), "{isa}: folded on text");
        let all_texts: BTreeSet<&String> = all[isa].0.iter().map(|(_, t)| t).collect();
        assert_eq!(texts, all_texts, "{isa}");
    }
    // --arch lists one ISA.
    let one = listing(&gadgets(&base, &["--arch", "aarch64"]));
    assert_eq!(one.keys().collect::<Vec<_>>(), ["aarch64"]);
}

/// JSON Lines: one object per gadget with exactly the fields, then the
/// summary; survival agrees with the addresses listed.
#[test]
fn json_lines_have_the_fields_and_the_summary_agrees() {
    let (_dir, base) = build_tiny();
    let text = gadgets(&base, &["--all", "--json", "--depth", "4"]);
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let (last, gadgets_) = lines.split_last().unwrap();
    let mut addresses: BTreeMap<&str, BTreeMap<u64, &str>> = BTreeMap::new();
    for g in gadgets_ {
        let keys: Vec<&str> = g.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(sorted, ["bytes", "insns", "isa", "type", "vaddr"], "{g}");
        let isa = g["isa"].as_str().unwrap();
        assert!(ISAS.contains(&isa));
        let vaddr = g["vaddr"].as_u64().unwrap();
        let bytes = g["bytes"].as_str().unwrap();
        assert!(!bytes.is_empty() && bytes.len() % 2 == 0);
        assert!(bytes.chars().all(|c| c.is_ascii_hexdigit()));
        let insns = g["insns"].as_array().unwrap();
        assert!((1..=4).contains(&insns.len()), "{g}");
        let kind = g["type"].as_str().unwrap();
        assert!(["rop", "jop", "sys"].contains(&kind), "{g}");
        if isa == "aarch64" {
            assert_eq!(vaddr % 4, 0);
            assert_eq!(bytes.len(), 8 * insns.len());
        }
        assert!(addresses
            .entry(isa)
            .or_default()
            .insert(vaddr, kind)
            .is_none());
    }
    let s = &last["summary"];
    assert_eq!(s["depth"], 4);
    let x = &addresses["x86_64"];
    let a = &addresses["aarch64"];
    let both = x.keys().filter(|k| a.contains_key(k)).count() as u64;
    let same = x.iter().filter(|(k, t)| a.get(k) == Some(t)).count() as u64;
    assert!(both > 0);
    assert_eq!(s["in_both"], both);
    assert_eq!(s["in_both_same_type"], same);
    for (i, isa) in s["isas"].as_array().unwrap().iter().zip(ISAS) {
        assert_eq!(i["isa"], isa);
        let total = addresses[isa].len() as u64;
        assert_eq!(i["counts"]["all"]["total"], total);
        assert_eq!(i["kept"], both);
        let f = i["kept_fraction"].as_f64().unwrap();
        assert!((f - both as f64 / total as f64).abs() < 1e-12);
    }
    // Folded: fewer lines, no two with the same instructions.
    let folded = gadgets(&base, &["--json", "--depth", "4", "--type", "sys"]);
    let mut seen = BTreeSet::new();
    for l in folded.lines() {
        let g: Value = serde_json::from_str(l).unwrap();
        if g.get("summary").is_none() {
            assert_eq!(g["type"], "sys");
            assert!(seen.insert((g["isa"].to_string(), g["insns"].to_string())));
        }
    }
    assert!(!seen.is_empty() && seen.len() < gadgets_.len());
}

#[test]
fn bad_input_is_a_clear_error() {
    let dir = tempdir();
    let out = migrate()
        .arg("gadgets")
        .arg(dir.path().join("nothing"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("nothing.x86_64: no such executable"), "{err}");
    assert!(out.stdout.is_empty());
    // Usage errors: clap's exit code 2.
    for args in [&["--depth", "0"][..], &["--type", "cop"], &[]] {
        let mut cmd = migrate();
        cmd.arg("gadgets").args(args);
        if !args.is_empty() {
            cmd.arg(dir.path().join("nothing"));
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
    // Not executables of the right ISA.
    std::fs::write(dir.path().join("x.x86_64"), b"not an ELF").unwrap();
    std::fs::write(dir.path().join("x.aarch64"), b"not an ELF").unwrap();
    let out = migrate()
        .arg("gadgets")
        .arg(dir.path().join("x"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("x.x86_64: not an ELF"), "{err}");
    // An unknown function.
    let (_d, base) = build_tiny();
    let out = migrate()
        .arg("gadgets")
        .arg(&base)
        .args(["--function", "no_such_function"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("no function named no_such_function"), "{err}");
}
