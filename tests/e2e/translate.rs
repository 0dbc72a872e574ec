//! The stack translator against the ground truth (issue 13): the same
//! program checkpointed at the same landmark hit on both ISAs gives two
//! images of one program state. The x86_64 image translated to aarch64
//! (and the reverse) must match the image the other ISA took itself: the
//! same frames at the same return addresses and stack pointers, every
//! register and stack slot the destination's certificates list holding the
//! same value, and every recorded value read alike from both.
//!
//! Both runs get the same argv[0] and environment, so the stack above
//! `main` (argv, envp) is the same bytes at the same addresses on both
//! ISAs, as it is in a real migration (it is copied).

use crate::common::*;
use migrate_format::certificates::{Explanation, Loc};
use migrate_format::image::Image;
use migrate_format::Arch;
use stack_translator::isa;
use stack_translator::records::Executable;
use stack_translator::translate::{destination, image, jmp_bufs, live_memory, source, StartFrame};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Checkpoints `exe` (for `isa`) at landmark hit `hit`, started directly
/// with argv[0] `prog` and a fixed environment.
fn checkpoint(
    dir: &Path,
    exe: &Path,
    isa: Arch,
    hit: u64,
    args: &[&str],
    stdin: Option<&Path>,
) -> PathBuf {
    let image = dir.join(format!("{}-{hit}.core", isa.name()));
    let mut cmd = match isa {
        Arch::X86_64 => {
            use std::os::unix::process::CommandExt;
            let mut c = Command::new(exe);
            c.arg0("prog");
            c
        }
        Arch::Aarch64 => {
            let mut c = Command::new("qemu-aarch64");
            c.args(["-0", "prog"]).arg(exe);
            c
        }
    };
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: close_range(2) is async-signal-safe. Only the standard
        // streams: a descriptor the test harness leaked would be refused.
        unsafe {
            cmd.pre_exec(|| {
                libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32);
                Ok(())
            });
        }
    }
    if let Some(input) = stdin {
        cmd.stdin(std::fs::File::open(input).unwrap());
    } else {
        cmd.stdin(std::process::Stdio::null());
    }
    let out = cmd
        .args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env(migrate_format::env::IMAGE, &image)
        .env(migrate_format::env::CHECKPOINT_AT, hit.to_string())
        .output()
        .unwrap();
    assert!(
        image.is_file(),
        "{isa}: no image at hit {hit}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    image
}

fn symbol(path: &Path, name: &str) -> u64 {
    use object::{Object, ObjectSymbol};
    let data = std::fs::read(path).unwrap();
    let file = object::File::parse(&data[..]).unwrap();
    let address = file
        .symbols()
        .find(|s| s.name() == Ok(name))
        .map(|s| s.address());
    address.unwrap_or_else(|| panic!("{}: no {name}", path.display()))
}

/// Translates `from` (an image of `base`'s `src` executable) for `dst` and
/// compares the result with `native`, the image `dst` took at the same hit.
fn compare(base: &Path, src: Arch, dst: Arch, from: &Path, native: &Path) -> usize {
    let exe = |a: Arch| PathBuf::from(format!("{}.{}", base.display(), a.name()));
    let (src_exe, dst_exe) = (
        Executable::read(&exe(src), src).unwrap(),
        Executable::read(&exe(dst), dst).unwrap(),
    );
    let (src_isa, dst_isa) = (isa::of(src), isa::of(dst));
    let image = Image::read(from).unwrap();
    let truth = Image::read(native).unwrap();
    let what = format!(
        "{}: {src} -> {dst} at hit {}",
        base.file_name().unwrap().to_string_lossy(),
        image.state.hits
    );
    let (frames, theirs) = match (
        source::frames(&image, &src_exe, src_isa),
        source::frames(&truth, &dst_exe, dst_isa),
    ) {
        (Ok(a), Ok(b)) => (a, b),
        (a, b) => panic!("{what}: {:?} / {:?}", a.err(), b.err()),
    };
    if std::env::var_os("TRANSLATE_DEBUG").is_some() {
        for (k, f) in frames.iter().chain(theirs.iter()).enumerate() {
            let cert = src_exe
                .certificate_at(f.pc)
                .or_else(|| dst_exe.certificate_at(f.pc))
                .unwrap();
            eprintln!(
                "{what} source #{k}: site {} pc {:#x} cfa {:#x} values {:x?} regs {:x?}\n  live {:?}",
                f.call_site, f.pc, f.cfa, f.values, f.registers, cert.live
            );
        }
    }
    assert_eq!(frames.len(), theirs.len(), "{what}: frame count");
    let main_cfa = |f: &[source::SourceFrame]| f.last().unwrap().cfa;
    assert_eq!(
        main_cfa(&frames),
        main_cfa(&theirs),
        "{what}: the stack above main differs between the runs"
    );
    // Every recorded value reads the same on both ISAs (pointers into the
    // stack aside: the frames differ).
    let stack = truth.state.stack_lo..truth.state.stack_hi;
    for (k, (a, b)) in frames.iter().zip(&theirs).enumerate() {
        assert_eq!(a.call_site, b.call_site, "{what}: frame #{k}'s call site");
        for (p, (x, y)) in a.values.iter().zip(&b.values).enumerate() {
            if let (Some(x), Some(y)) = (x, y) {
                if !(a.pointers[p] && stack.contains(x)) {
                    assert_eq!(x, y, "{what}: frame #{k} value {p}");
                }
            }
        }
    }
    let start = StartFrame {
        main_returned: symbol(&exe(dst), "__landmark_main_returned"),
        canary: image.thread.0.canary,
    };
    // Every jmp_buf in memory (without the unsafe stack pointer: a stale one
    // has no frame, and is not taken for live).
    let live = live_memory::ranges(&image, None);
    let buffers = jmp_bufs::find(&image, &frames, &src_exe, src_isa, &live)
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let dst_bytes = std::fs::read(exe(dst)).unwrap();
    let dst_path = exe(dst);
    let dst_side = image::Side::new(&dst_exe, &dst_bytes, &dst_path).unwrap();
    let built = match destination::build(
        &frames,
        &buffers,
        dst_side.frame_rules(),
        &dst_exe,
        dst_isa,
        &start,
        truth.state.stack_lo,
    ) {
        Ok(b) => b,
        // Known and refused by name (see the issue note): the upper half of
        // a 16-byte vector in a slot.
        Err(e @ stack_translator::translate::TranslateError::WideValue { .. }) => {
            eprintln!("{what}: refused: {e}");
            return 0;
        }
        Err(e) => panic!("{what}: {e}"),
    };
    let mut checked = 0;
    if std::env::var_os("TRANSLATE_DEBUG").is_some() {
        for (k, (mine, real)) in built.frames.iter().zip(&theirs).enumerate() {
            eprintln!("{what} #{k}: site {} mine pc {:#x} sp {:#x} cfa {:#x}; native pc {:#x} sp {:#x} cfa {:#x} regs {:x?}", mine.call_site, mine.pc, mine.sp, mine.cfa, real.pc, real.sp, real.cfa, real.registers);
        }
    }
    for (k, (mine, real)) in built.frames.iter().zip(&theirs).enumerate() {
        assert_eq!(
            (mine.sp, mine.cfa),
            (real.sp, real.cfa),
            "{what}: frame #{k}'s stack pointer and CFA"
        );
        if mine.pc != real.pc {
            continue; // another copy of the call site: its own certificate
        }
        let cert = dst_exe.certificate_at(real.pc).unwrap();
        for (loc, e) in &cert.live {
            // (Each process has its own canary: the translated frames hold
            // the source's, the other ISA's checkpoint its own.)
            let canary = match e {
                Explanation::Canary => true,
                Explanation::Upper { of, .. } => matches!(**of, Explanation::Canary),
                _ => false,
            };
            if canary
                || matches!(
                    e,
                    Explanation::Clobbered
                        | Explanation::CallResult
                        | Explanation::Undefined
                        | Explanation::AllocaContents { .. }
                )
            {
                continue;
            }
            // Bytes of a slot beyond the value spilled there (a float or a
            // double spilled from a 16-byte vector register) belong to no
            // value: any will do.
            if let Explanation::Upper { of, part: chunk } = e {
                if let Explanation::Recorded { part, .. } = **of {
                    let site = dst_exe.table.get(u64::from(mine.call_site)).unwrap();
                    let me = &site.values[part];
                    let at = me.offset + 4 * u32::from(*chunk);
                    let nobodys = !site.values.iter().any(|q| {
                        q.value == me.value && at < q.offset + q.size && q.offset < at + 4
                    });
                    if nobodys {
                        continue;
                    }
                }
            }
            // A caller's register matters where the caller's code reads it
            // (main's caller, the runtime's start-up frame, needs none back
            // but the return address and frame pointer).
            if let Explanation::CallersValue {
                of: Loc::Reg { reg },
            } = e
            {
                let geometry = Some(*reg) == dst_isa.link_register() || *reg == dst_isa.fp();
                let caller_reads = theirs.get(k + 1).is_some_and(|c| {
                    dst_exe.certificate_at(c.pc).is_some_and(|cert| {
                        cert.live.iter().any(|(l, e)| {
                            *l == (Loc::Reg { reg: *reg })
                                && !matches!(
                                    e,
                                    Explanation::Clobbered
                                        | Explanation::Undefined
                                        | Explanation::CallResult
                                        | Explanation::CallersValue { .. }
                                )
                        })
                    })
                });
                if !geometry && !caller_reads {
                    continue;
                }
            }
            let (got, want) = match *loc {
                Loc::Reg { reg } => {
                    let got = if k == 0 {
                        built.registers.get(&reg).copied()
                    } else {
                        None // held in a save slot of an inner frame: below
                    };
                    (got, real.registers.get(&reg).copied())
                }
                Loc::Slot { offset } => {
                    let at = mine.cfa.wrapping_add(offset as u64);
                    let i = (at - built.low) as usize;
                    let got = u32::from_le_bytes(built.bytes[i..i + 4].try_into().unwrap());
                    let want = truth.read_memory(at, 4).unwrap();
                    (
                        Some(u64::from(got)),
                        Some(u64::from(u32::from_le_bytes(want.try_into().unwrap()))),
                    )
                }
            };
            if let (Some(got), Some(want)) = (got, want) {
                assert_eq!(
                    got, want,
                    "{what}: frame #{k} {loc:?} ({e:?}): translated {got:#x}, native {want:#x}"
                );
                checked += 1;
            }
        }
    }
    // Each live jmp_buf as the other ISA's own setjmp filled it: its stack
    // pointer, return address and every register the code after setjmp
    // reads there.
    let layout = dst_isa.jmp_buf();
    for (address, bytes) in &built.jmp_bufs {
        let native = truth.read_memory(*address, layout.size).unwrap();
        let word = |b: &[u8], at: usize| u64::from_le_bytes(b[at..at + 8].try_into().unwrap());
        let pc = word(bytes, layout.pc);
        assert_eq!(
            pc,
            word(&native, layout.pc),
            "{what}: jmp_buf at {address:#x}: pc"
        );
        assert_eq!(
            word(bytes, layout.sp),
            word(&native, layout.sp),
            "{what}: jmp_buf at {address:#x}: sp"
        );
        let cert = dst_exe.certificate_at(pc).unwrap();
        for &(reg, at) in layout.registers {
            let read = cert.live.iter().any(|(l, e)| {
                *l == (Loc::Reg { reg })
                    && !matches!(
                        e,
                        Explanation::Clobbered
                            | Explanation::Undefined
                            | Explanation::CallResult
                            | Explanation::CallersValue { .. }
                    )
            });
            if read {
                assert_eq!(
                    word(bytes, at),
                    word(&native, at),
                    "{what}: jmp_buf at {address:#x}: register {reg}"
                );
                checked += 1;
            }
        }
        checked += 2;
    }
    // Frame 0's callee-saved registers and the stack pointer, as resumed.
    for &r in dst_isa.callee_saved().iter().chain([dst_isa.sp()].iter()) {
        if let (Some(got), Some(want)) = (built.registers.get(&r), theirs[0].registers.get(&r)) {
            let needed = dst_exe
                .certificate_at(theirs[0].pc)
                .unwrap()
                .live
                .iter()
                .any(|(l, e)| {
                    *l == (Loc::Reg { reg: r })
                        && !matches!(e, Explanation::Clobbered | Explanation::Undefined)
                });
            if needed || r == dst_isa.sp() {
                assert_eq!(got, want, "{what}: resume register {r}");
            }
        }
    }
    checked
}

fn build(dir: &Path, fixture_name: &str) -> PathBuf {
    let src = fixture(&format!("checkpoint/{fixture_name}.c"))
        .display()
        .to_string();
    cc(dir, &["-O2", "-o", fixture_name, &src]);
    dir.join(fixture_name)
}

/// The translated stack of a three-deep call chain and of a program with
/// an open file and a heap, at several hits, both directions, matches what
/// the other ISA's own checkpoint at the same hit holds.
#[test]
fn translated_frames_match_the_other_isas_own_checkpoint() {
    let dir = tempdir();
    let mut checked = 0;
    for (name, args, hits) in [("chain", vec!["40"], vec![3u64, 77, 1000, 4321])] {
        let base = build(dir.path(), name);
        for hit in hits {
            let images: Vec<PathBuf> = Arch::ALL
                .iter()
                .map(|&a| {
                    let exe = PathBuf::from(format!("{}.{}", base.display(), a.name()));
                    checkpoint(dir.path(), &exe, a, hit, &args, None)
                })
                .collect();
            checked += compare(&base, Arch::X86_64, Arch::Aarch64, &images[0], &images[1]);
            checked += compare(&base, Arch::Aarch64, Arch::X86_64, &images[1], &images[0]);
        }
    }
    assert!(checked > 50, "only {checked} locations compared");
}

/// Landmark hits of a run of `base` on x86_64 (its statistics).
fn total_hits(dir: &Path, base: &Path, args: &[&str], stdin: Option<&Path>) -> u64 {
    let stats = dir.join("stats.json");
    let mut cmd = migrate();
    cmd.arg("run")
        .arg("--stats")
        .arg(&stats)
        .arg(base)
        .arg("--")
        .args(args);
    match stdin {
        Some(p) => cmd.stdin(std::fs::File::open(p).unwrap()),
        None => cmd.stdin(std::process::Stdio::null()),
    };
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&stats).unwrap()).unwrap();
    v["landmark_hits"].as_u64().unwrap()
}

/// The examples, at seeded random hits (in the first part of each run, so
/// the aarch64 checkpoints under qemu stay quick), both directions.
#[test]
fn translated_frames_of_the_examples_match_the_other_isas_own_checkpoints() {
    let dir = tempdir();
    let mut rng = 0x7a5e_11a7u64;
    let mut next = move |n: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        1 + rng % n
    };
    let mut checked = 0;
    let mut report = Vec::new();
    for (name, args, input) in [
        ("recursion", vec![], None),
        ("nbody", vec!["20000"], None),
        ("binarytrees", vec!["10"], None),
        ("sortfuncs", vec![], None),
        ("stackarrays", vec![], None),
        (
            "wordfreq",
            vec![],
            Some(repo().join("examples/wordfreq/input.txt")),
        ),
        ("setjmp", vec![], None),
        ("vecloop", vec![], None),
    ] {
        let src = repo().join(format!("examples/{name}/{name}.c"));
        cc(
            dir.path(),
            &["-O2", "-o", name, src.to_str().unwrap(), "-lm"],
        );
        let base = dir.path().join(name);
        let total = total_hits(dir.path(), &base, &args, input.as_deref());
        let mut here = 0;
        for _ in 0..3 {
            let hit = next(total.min(2_000_000));
            let images: Vec<PathBuf> = Arch::ALL
                .iter()
                .map(|&a| {
                    let exe = PathBuf::from(format!("{}.{}", base.display(), a.name()));
                    checkpoint(dir.path(), &exe, a, hit, &args, input.as_deref())
                })
                .collect();
            here += compare(&base, Arch::X86_64, Arch::Aarch64, &images[0], &images[1]);
            here += compare(&base, Arch::Aarch64, Arch::X86_64, &images[1], &images[0]);
        }
        report.push(format!("{name}: {here} locations"));
        checked += here;
    }
    eprintln!("{}", report.join("; "));
    assert!(checked > 200, "only {checked} locations compared");
}

/// gdb reads a translated image like one the other ISA took itself: the
/// same chain of functions, innermost first (gdb's unwinder is an
/// independent check of the translated return addresses and frames), both
/// directions; a translation to the image's own ISA is refused and leaves
/// no file.
#[test]
fn gdb_shows_the_same_call_chain_after_translation() {
    let dir = tempdir();
    let base = build(dir.path(), "chain");
    for (from, to, gdb) in [
        ("x86_64", "aarch64", "gdb-multiarch"),
        ("aarch64", "x86_64", "gdb"),
    ] {
        let image = dir.path().join(format!("{from}.core"));
        let out = migrate()
            .args(["run", "--arch", from, "--checkpoint-at", "4000", "--image"])
            .arg(&image)
            .arg(&base)
            .args(["--", "40"])
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let moved = dir.path().join(format!("{from}.moved.core"));
        let out = migrate()
            .args(["translate", "--to", to, "-o"])
            .arg(&moved)
            .arg(&image)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let exe = format!("{}.{to}", base.display());
        let bt = Command::new(gdb)
            .args(["-batch", "-nx", "-ex", "bt"])
            .arg(&exe)
            .arg(&moved)
            .output()
            .unwrap();
        let bt = String::from_utf8_lossy(&bt.stdout).into_owned();
        // (gdb prints frame #0 once when it loads the core, then in `bt`.)
        let mut names: Vec<&str> = bt
            .lines()
            .filter(|l| l.starts_with('#'))
            .filter_map(|l| {
                ["leaf", "middle", "main"]
                    .into_iter()
                    .find(|f| l.contains(&format!(" {f} (")))
            })
            .collect();
        names.dedup();
        assert_eq!(names, ["leaf", "middle", "main"], "{from} -> {to}:\n{bt}");
        // inspect says where a translated image came from.
        let shown = migrate().arg("inspect").arg(&moved).output().unwrap();
        let shown = String::from_utf8_lossy(&shown.stdout).into_owned();
        let want = format!("translated: from an {from} image, {}", image.display());
        assert!(shown.contains(&want), "{shown}");
        // --to the image's own ISA: a clear error, no file.
        let same = dir.path().join("same.core");
        let out = migrate()
            .args(["translate", "--to", from, "-o"])
            .arg(&same)
            .arg(&image)
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&format!("already an {from} image")), "{err}");
        assert!(!same.exists());
    }
}

/// `migrate run --migrate-at N --to ISA` moves a program mid-run with one
/// output stream and the program's exit code, both directions (by hit and
/// by time); `migrate restore --to ISA` continues an image on the other
/// ISA; `--to` the ISA it runs on is a clear error.
#[test]
fn run_and_restore_move_a_program_with_one_output_stream() {
    let dir = tempdir();
    let src = repo().join("examples/wordfreq/wordfreq.c");
    cc(
        dir.path(),
        &["-O2", "-o", "wordfreq", src.to_str().unwrap(), "-lm"],
    );
    let base = dir.path().join("wordfreq");
    let input = repo().join("examples/wordfreq/input.txt");
    let run = |args: &[&str]| {
        migrate()
            .arg("run")
            .args(args)
            .arg(&base)
            .stdin(std::fs::File::open(&input).unwrap())
            .output()
            .unwrap()
    };
    let plain = run(&[]);
    assert!(plain.status.success());
    for args in [
        &["--migrate-at", "2000000", "--to", "aarch64"][..],
        &[
            "--arch",
            "aarch64",
            "--migrate-at",
            "3500000",
            "--to",
            "x86_64",
        ],
        &[
            "--arch",
            "aarch64",
            "--migrate-after",
            "200ms",
            "--to",
            "x86_64",
        ],
    ] {
        let moved = run(args);
        let err = String::from_utf8_lossy(&moved.stderr);
        assert_eq!(moved.status.code(), Some(0), "{args:?}: {err}");
        assert!(moved.stdout == plain.stdout, "{args:?}: the output differs");
        assert!(err.is_empty(), "{args:?}: migrate said something: {err}");
    }
    let same = run(&["--migrate-at", "10", "--to", "x86_64"]);
    assert!(!same.status.success());
    assert!(String::from_utf8_lossy(&same.stderr).contains("already runs on x86_64"));

    let image = dir.path().join("w.core");
    let first = run(&[
        "--checkpoint-at",
        "3000000",
        "--image",
        image.to_str().unwrap(),
    ]);
    assert!(first.status.success());
    let rest = migrate()
        .args(["restore", "--to", "aarch64"])
        .arg(&image)
        .stdin(std::fs::File::open(&input).unwrap())
        .output()
        .unwrap();
    assert!(
        rest.status.success(),
        "{}",
        String::from_utf8_lossy(&rest.stderr)
    );
    assert!(
        [first.stdout, rest.stdout].concat() == plain.stdout,
        "restore --to: the output differs"
    );
}

/// `migrate checkpoint PID --to ISA` on a program already running: the
/// image written is for the other ISA, and restoring it there completes
/// the output.
#[test]
fn checkpoint_a_running_process_to_the_other_isa() {
    use std::io::{BufRead, BufReader, Read};
    let dir = tempdir();
    let base = build(dir.path(), "chain");
    let plain = migrate()
        .arg("run")
        .arg(&base)
        .args(["--", "20000"])
        .output()
        .unwrap();
    let mut child = migrate()
        .arg("run")
        .arg(&base)
        .args(["--", "20000", "wait"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    assert_eq!(first, "started\n");
    // The program is migrate's child.
    let children =
        std::fs::read_to_string(format!("/proc/{}/task/{}/children", child.id(), child.id()))
            .unwrap();
    let pid = children
        .split_whitespace()
        .next()
        .expect("the program runs");
    let moved = dir.path().join("moved.core");
    let ck = migrate()
        .args(["checkpoint", pid, "--to", "aarch64", "--image"])
        .arg(&moved)
        .output()
        .unwrap();
    assert!(
        ck.status.success(),
        "{}",
        String::from_utf8_lossy(&ck.stderr)
    );
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    child.wait().unwrap();
    assert!(
        !dir.path().join("moved.core.source").exists(),
        "the source image is left"
    );
    let restored = migrate().arg("restore").arg(&moved).output().unwrap();
    assert!(
        restored.status.success(),
        "{}",
        String::from_utf8_lossy(&restored.stderr)
    );
    assert_eq!(
        rest + &String::from_utf8_lossy(&restored.stdout),
        String::from_utf8_lossy(&plain.stdout)
    );
}

/// Round trips: x86_64 -> aarch64 -> x86_64 -> aarch64, each leg a
/// checkpoint of the restored program, translated and restored on the
/// other ISA (second and later restores are where other checkpointers
/// broke): the pieces' output together is the uninterrupted run's.
#[test]
fn a_program_moved_back_and_forth_three_times_prints_the_same() {
    let dir = tempdir();
    let src = repo().join("examples/binarytrees/binarytrees.c");
    cc(
        dir.path(),
        &["-O2", "-o", "bt", src.to_str().unwrap(), "-lm"],
    );
    let base = dir.path().join("bt");
    let plain = migrate()
        .arg("run")
        .arg(&base)
        .args(["--", "12"])
        .output()
        .unwrap();
    assert!(plain.status.success());
    let mut output = Vec::new();
    let first = dir.path().join("leg0.core");
    let out = migrate()
        .args(["run", "--checkpoint-at", "100000", "--image"])
        .arg(&first)
        .arg(&base)
        .args(["--", "12"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    output.extend(out.stdout);
    let mut image = first;
    let mut isa = "x86_64";
    for leg in 1..=3 {
        let to = if isa == "x86_64" { "aarch64" } else { "x86_64" };
        let moved = dir.path().join(format!("leg{leg}.moved.core"));
        let tr = migrate()
            .args(["translate", "--to", to, "-o"])
            .arg(&moved)
            .arg(&image)
            .output()
            .unwrap();
        assert!(
            tr.status.success(),
            "leg {leg}: {}",
            String::from_utf8_lossy(&tr.stderr)
        );
        let next = dir.path().join(format!("leg{leg}.core"));
        let mut cmd = migrate();
        cmd.arg("restore");
        if leg < 3 {
            cmd.args(["--checkpoint-at", "150000", "--image"])
                .arg(&next);
        }
        let out = cmd.arg(&moved).output().unwrap();
        assert!(
            out.status.success(),
            "leg {leg}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        output.extend(out.stdout);
        image = next;
        isa = to;
    }
    assert!(
        output == plain.stdout,
        "the output after three moves differs"
    );
}
