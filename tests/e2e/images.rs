//! Checkpoint images beyond the round trip (issue 4): what gdb and `migrate
//! inspect` see in them, the other triggers (`--keep-running`, `migrate
//! checkpoint PID`, `--checkpoint-after`), and every bad input: each gives
//! a clear error and a non-zero exit, and a refused checkpoint leaves the
//! program running to its normal end.

use crate::common::*;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn build(dir: &Path, fixture_name: &str, extra: &[&str]) -> PathBuf {
    let src = fixture(&format!("checkpoint/{fixture_name}.c"));
    let mut args = vec!["-O2", "-o", fixture_name];
    args.extend_from_slice(extra);
    let src = src.display().to_string();
    args.push(&src);
    cc(dir, &args);
    dir.join(fixture_name)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `migrate run --checkpoint-at N --image IMG BASE -- ARGS` on `isa`.
fn checkpoint(isa: &str, base: &Path, n: u64, image: &Path, args: &[&str]) -> Output {
    migrate()
        .args(["run", "--arch", isa, "--checkpoint-at", &n.to_string()])
        .arg("--image")
        .arg(image)
        .arg(base)
        .arg("--")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn restore(image: &Path, extra: &[&str]) -> Output {
    migrate()
        .arg("restore")
        .args(extra)
        .arg(image)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn plain_run(isa: &str, base: &Path, args: &[&str]) -> Output {
    migrate()
        .args(["run", "--arch", isa])
        .arg(base)
        .arg("--")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// Runs an executable without `migrate` (aarch64 under qemu-aarch64).
fn direct(isa: &str, exe: &str) -> Command {
    if isa == "aarch64" {
        let mut c = Command::new("qemu-aarch64");
        c.arg(exe);
        c
    } else {
        Command::new(exe)
    }
}

/// The program's own stderr: the run's, without migrate's report line.
fn program_stderr(out: &Output) -> String {
    let all = text(&out.stderr);
    match all.rsplit_once("migrate: checkpoint written to ") {
        Some((before, _)) => before.to_string(),
        None => all,
    }
}

#[test]
fn gdb_shows_the_call_chain_of_an_image() {
    let dir = tempdir();
    let base = build(dir.path(), "chain", &[]);
    let mut heap_starts = Vec::new();
    for (isa, gdb) in [("x86_64", "gdb"), ("aarch64", "gdb-multiarch")] {
        let image = dir.path().join(format!("chain.{isa}.core"));
        let out = checkpoint(isa, &base, 4000, &image, &[]);
        assert!(out.status.success(), "{isa}: {}", text(&out.stderr));
        let exe = format!("{}.{isa}", base.display());
        let bt = Command::new(gdb)
            .args(["-batch", "-nx", "-ex", "bt"])
            .arg(&exe)
            .arg(&image)
            .output()
            .unwrap();
        let bt = text(&bt.stdout);
        let frames: Vec<&str> = bt.lines().filter(|l| l.starts_with('#')).collect();
        let order: Vec<&str> = ["leaf", "middle", "main"]
            .into_iter()
            .filter(|f| frames.iter().any(|l| l.contains(&format!(" {f} ("))))
            .collect();
        assert_eq!(order, ["leaf", "middle", "main"], "{isa} backtrace:\n{bt}");
        let pos = |f: &str| {
            frames
                .iter()
                .position(|l| l.contains(&format!(" {f} (")))
                .unwrap()
        };
        assert!(
            pos("leaf") < pos("middle") && pos("middle") < pos("main"),
            "{isa}:\n{bt}"
        );

        // migrate inspect names the same frames and the landmark.
        let json = migrate()
            .args(["inspect", "--json"])
            .arg(&image)
            .output()
            .unwrap();
        assert!(json.status.success(), "{}", text(&json.stderr));
        let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
        assert_eq!(v["isa"], isa);
        assert_eq!(v["executable_matches"], true);
        let names: Vec<&str> = v["frames"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["function"].as_str().unwrap_or("?"))
            .collect();
        assert_eq!(names, ["leaf", "middle", "main"], "{isa}");
        assert!(v["landmark"]["description"]
            .as_str()
            .unwrap()
            .contains("in leaf"));
        assert_eq!(v["landmark"]["hits"], 4000);
        let kinds: Vec<&str> = v["regions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["kind"].as_str().unwrap())
            .collect();
        assert!(
            kinds.contains(&"stack") && kinds.contains(&"data"),
            "{kinds:?}"
        );
        heap_starts.push(v["state"]["brk_start"].as_u64().unwrap());
        let text_view = migrate().arg("inspect").arg(&image).output().unwrap();
        let shown = text(&text_view.stdout);
        assert!(
            shown.contains("build-id:") && shown.contains("middle"),
            "{shown}"
        );
    }
    // The executables end at the same address, so the brk heap starts at
    // the same place on both ISAs.
    assert_eq!(heap_starts[0], heap_starts[1]);
}

#[test]
fn keep_running_finishes_and_leaves_a_restorable_image() {
    let dir = tempdir();
    let base = build(dir.path(), "chain", &[]);
    for isa in ISAS {
        let reference = plain_run(isa, &base, &[]);
        let image = dir.path().join(format!("keep.{isa}.core"));
        let out = migrate()
            .args([
                "run",
                "--arch",
                isa,
                "--checkpoint-at",
                "3000",
                "--keep-running",
            ])
            .arg("--image")
            .arg(&image)
            .arg(&base)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(text(&out.stdout), text(&reference.stdout), "{isa}");
        assert_eq!(program_stderr(&out), text(&reference.stderr), "{isa}");
        let restored = restore(&image, &[]);
        assert!(restored.status.success(), "{}", text(&restored.stderr));
        let tail = text(&restored.stdout);
        assert!(
            !tail.is_empty() && text(&reference.stdout).ends_with(&tail),
            "{isa}: the restored run printed {tail:?}"
        );
    }
}

#[test]
fn checkpoint_a_running_process_and_after_a_delay() {
    let dir = tempdir();
    let base = build(dir.path(), "chain", &[]);
    // Long enough (about 2 s under qemu) that `migrate checkpoint` finds the
    // program still running on a loaded machine (3000 rounds once ended
    // first).
    let args = ["10000", "wait"];
    for isa in ISAS {
        let reference = plain_run(isa, &base, &args);
        assert!(reference.status.success());
        // Started without migrate run: the runtime makes itself migratable.
        let exe = format!("{}.{isa}", base.display());
        let mut cmd = direct(isa, &exe);
        only_standard_streams(&mut cmd);
        let mut child = cmd
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        assert_eq!(first, "started\n");
        let image = dir.path().join(format!("pid.{isa}.core"));
        let ck = migrate()
            .arg("checkpoint")
            .arg(child.id().to_string())
            .arg("--image")
            .arg(&image)
            .output()
            .unwrap();
        assert!(ck.status.success(), "{isa}: {}", text(&ck.stderr));
        assert!(text(&ck.stderr).contains("checkpoint written"));
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
        assert!(child.wait().unwrap().success());
        let restored = restore(&image, &[]);
        assert!(restored.status.success(), "{}", text(&restored.stderr));
        assert_eq!(
            first + &rest + &text(&restored.stdout),
            text(&reference.stdout),
            "{isa}: migrate checkpoint PID"
        );

        // The timer trigger.
        let image = dir.path().join(format!("after.{isa}.core"));
        let out = migrate()
            .args(["run", "--arch", isa, "--checkpoint-after", "50ms"])
            .arg("--image")
            .arg(&image)
            .arg(&base)
            .arg("--")
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(out.status.success(), "{isa}: {}", text(&out.stderr));
        let restored = restore(&image, &[]);
        assert_eq!(
            text(&out.stdout) + &text(&restored.stdout),
            text(&reference.stdout),
            "{isa}: --checkpoint-after"
        );
    }
    // Not a migratable program: refused before any signal is sent.
    let mut sleeper = Command::new("sleep").arg("5").spawn().unwrap();
    let ck = migrate()
        .arg("checkpoint")
        .arg(sleeper.id().to_string())
        .output()
        .unwrap();
    assert!(!ck.status.success());
    assert!(
        text(&ck.stderr).contains("not run a program built with `migrate cc`"),
        "{}",
        text(&ck.stderr)
    );
    sleeper.kill().unwrap();
    sleeper.wait().unwrap();
}

/// Closes every inherited descriptor but stdin, stdout and stderr in the
/// child (as `migrate run` does): a pipe inherited from whatever started
/// the test suite would make the runtime refuse the checkpoint.
fn only_standard_streams(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: close_range(2) is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32);
            Ok(())
        });
    }
}

/// A checkpoint the runtime must refuse: the program runs to its end, the
/// reason is on stderr, `migrate run` fails, and no image is left.
/// `fresh`: a file to (re)create before each run (the program deletes it).
fn refused(isa: &str, base: &Path, args: &[&str], fresh: Option<&Path>, reason: &str) {
    let images = tempdir();
    let image = images.path().join("refused.core");
    let recreate = || {
        if let Some(f) = fresh {
            std::fs::write(f, "x\n").unwrap();
        }
    };
    recreate();
    let reference = plain_run(isa, base, args);
    assert!(reference.status.success(), "{}", text(&reference.stderr));
    recreate();
    let out = checkpoint(isa, base, 100, &image, args);
    let err = text(&out.stderr);
    assert!(!out.status.success(), "{isa} {args:?}: {err}");
    assert!(
        err.contains("checkpoint failed, the program keeps running"),
        "{err}"
    );
    assert!(
        err.contains(reason),
        "{isa} {args:?}: want {reason:?} in {err}"
    );
    assert!(err.contains("no checkpoint was taken"), "{err}");
    assert_eq!(text(&out.stdout), text(&reference.stdout), "{isa} {args:?}");
    assert!(
        files_in(images.path()).is_empty(),
        "{isa} {args:?}: a refused checkpoint left files behind"
    );
}

#[test]
fn unsupported_resources_are_refused_and_the_program_keeps_running() {
    let dir = tempdir();
    let base = build(dir.path(), "resources", &[]);
    for isa in ISAS {
        refused(isa, &base, &["socket"], None, "is a socket");
        refused(isa, &base, &["pipe"], None, "is a pipe or FIFO");
        refused(isa, &base, &["thread"], None, "second thread");
        let victim = dir.path().join("victim.txt");
        refused(
            isa,
            &base,
            &["deleted", victim.to_str().unwrap()],
            Some(&victim),
            "was deleted while open",
        );
    }
}

#[test]
fn bad_images_and_missing_files_are_clear_errors() {
    let dir = tempdir();
    let base = build(dir.path(), "resources", &[]);
    let other = tempdir();
    let other_base = build(other.path(), "resources", &["-DOTHER_BUILD=1"]);
    for isa in ISAS {
        let data = dir.path().join("data.txt");
        std::fs::write(&data, "line one\n").unwrap();
        let image = dir.path().join(format!("good.{isa}.core"));
        let args = ["file", data.to_str().unwrap()];
        let out = checkpoint(isa, &base, 200, &image, &args);
        assert!(out.status.success(), "{isa}: {}", text(&out.stderr));
        let good = std::fs::read(&image).unwrap();

        // Truncated, and corrupted in the header, in the notes, the version:
        // as they are, refused by the checksum; with the checksum made to
        // match, by what is wrong.
        let refused = |bytes: &[u8], want: &str, flags: &[&str]| {
            let bad = dir.path().join("bad.core");
            std::fs::write(&bad, bytes).unwrap();
            for cmd in ["restore", "inspect"] {
                let out = migrate().arg(cmd).args(flags).arg(&bad).output().unwrap();
                assert!(!out.status.success(), "{isa} {cmd} {want}");
                let err = text(&out.stderr);
                assert!(err.contains(want), "{isa} {cmd}: want {want:?} in {err}");
                assert!(!err.contains("panicked"), "{err}");
                assert!(
                    out.stdout.is_empty() || cmd == "inspect",
                    "{isa}: nothing ran"
                );
            }
        };
        let fails = |bytes: &[u8], want: &str| {
            refused(bytes, "do not match their checksum", &[]);
            let mut sealed = bytes.to_vec();
            migrate_format::image::integrity::seal(&mut sealed, false).unwrap();
            refused(&sealed, want, &[]);
        };
        refused(&good[..good.len() / 2], "truncated", &[]);
        refused(&good[..100], "truncated", &[]);
        let mut bytes = good.clone();
        bytes[..4].copy_from_slice(b"JUNK");
        refused(&bytes, "not an ELF file", &[]);
        // A bit of memory flipped: caught by --verify (restore maps memory
        // without reading it, so only then).
        let parsed = migrate_format::image::Image::read(&image).unwrap();
        let saved = parsed.segments.iter().find(|s| s.saved).unwrap();
        let mut bytes = good.clone();
        bytes[saved.offset as usize + 123] ^= 4;
        let want = format!(
            "the memory at {:#x}-{:#x} does not match its checksum",
            saved.address,
            saved.address + saved.size
        );
        refused(&bytes, &want, &["--verify"]);
        let notes = u64::from_le_bytes(good[64 + 8..64 + 16].try_into().unwrap()) as usize;
        let mut bytes = good.clone();
        bytes[notes..notes + 4].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
        fails(&bytes, "corrupt notes");
        let at = good
            .windows(9)
            .position(|w| w == b"LANDMARK\0")
            .expect("a LANDMARK note");
        let mut bytes = good.clone();
        // The state note is the first LANDMARK note: its version follows the
        // name (padded to 12 bytes).
        bytes[at + 12..at + 16].copy_from_slice(&99u32.to_le_bytes());
        fails(&bytes, "another version of landmark-rt");

        // Another build of the same program.
        let out = restore(
            &image,
            &["--exe", &format!("{}.{isa}", other_base.display())],
        );
        assert!(!out.status.success());
        assert!(
            text(&out.stderr).contains("is not the build the image was taken from"),
            "{}",
            text(&out.stderr)
        );
        // The runtime checks too, for a restore started without migrate.
        let exe = format!("{}.{isa}", other_base.display());
        let mut direct = direct(isa, &exe);
        only_standard_streams(&mut direct);
        let out = direct
            .env(migrate_format::env::RESTORE, &image)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(125), "{}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains("another build"),
            "{}",
            text(&out.stderr)
        );

        // The good image restores, and then fails once its file is gone.
        let ok = restore(&image, &[]);
        assert!(ok.status.success(), "{isa}: {}", text(&ok.stderr));
        assert_eq!(
            text(&out_stdout_of(&base, isa, &args)),
            text(&ok.stdout),
            "{isa}: the restored run"
        );
        std::fs::remove_file(&data).unwrap();
        let gone = restore(&image, &[]);
        assert!(!gone.status.success());
        assert!(
            text(&gone.stderr).contains("data.txt open (file descriptor 3), and it is gone"),
            "{}",
            text(&gone.stderr)
        );
    }
    // Not an image at all.
    let out = migrate()
        .arg("restore")
        .arg(format!("{}.x86_64", base.display()))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("not a checkpoint image"));
}

fn out_stdout_of(base: &Path, isa: &str, args: &[&str]) -> Vec<u8> {
    plain_run(isa, base, args).stdout
}

#[test]
fn a_program_can_ask_for_its_own_checkpoint() {
    // benches/programs/heapfill.c calls landmark_request_checkpoint (from
    // <migrate.h>, which `migrate cc` provides) when given "checkpoint".
    let dir = tempdir();
    let src = repo().join("benches/programs/heapfill.c");
    cc(
        dir.path(),
        &["-O2", "-o", "heapfill", src.to_str().unwrap()],
    );
    let base = dir.path().join("heapfill");
    for isa in ISAS {
        let reference = plain_run(isa, &base, &["3"]);
        assert!(reference.status.success());
        let image = dir.path().join(format!("asked.{isa}.core"));
        let out = migrate()
            .args(["run", "--arch", isa, "--image"])
            .arg(&image)
            .arg(&base)
            .args(["--", "3", "checkpoint"])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(out.status.success(), "{isa}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains("checkpoint written"), "{isa}");
        let restored = restore(&image, &[]);
        assert_eq!(
            text(&out.stdout) + &text(&restored.stdout),
            text(&reference.stdout),
            "{isa}"
        );
        let v: serde_json::Value = serde_json::from_slice(
            &migrate()
                .args(["inspect", "--json"])
                .arg(&image)
                .output()
                .unwrap()
                .stdout,
        )
        .unwrap();
        // The 3 MiB heap is in the image (musl's malloc took it with brk).
        let heap: u64 = v["regions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["kind"].as_str().unwrap().contains("heap") && r["saved"] == true)
            .map(|r| r["end"].as_u64().unwrap() - r["start"].as_u64().unwrap())
            .sum();
        assert!(heap >= 3 << 20, "{isa}: {heap} bytes of heap saved");
    }
}

#[test]
fn a_restored_program_checkpoints_again() {
    // Three checkpoints in a row, each restored, same ISA: the output of
    // the four pieces is the uninterrupted run's.
    let dir = tempdir();
    let base = build(dir.path(), "chain", &[]);
    for isa in ISAS {
        let reference = plain_run(isa, &base, &["200"]);
        let images: Vec<PathBuf> = (0..3)
            .map(|i| dir.path().join(format!("hop{i}.{isa}.core")))
            .collect();
        let first = checkpoint(isa, &base, 20000, &images[0], &["200"]);
        assert!(first.status.success(), "{isa}: {}", text(&first.stderr));
        let mut stdout = text(&first.stdout);
        for hop in 1..3 {
            let out = migrate()
                .args(["restore", "--checkpoint-at", "30000", "--image"])
                .arg(&images[hop])
                .arg(&images[hop - 1])
                .stdin(Stdio::null())
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{isa} hop {hop}: {}",
                text(&out.stderr)
            );
            assert!(text(&out.stderr).contains("checkpoint written"), "{isa}");
            stdout += &text(&out.stdout);
        }
        let last = restore(&images[2], &[]);
        assert!(last.status.success(), "{isa}: {}", text(&last.stderr));
        stdout += &text(&last.stdout);
        assert_eq!(stdout, text(&reference.stdout), "{isa}");
    }
}

/// Landmark hits of a run with `--stats`.
fn landmark_hits(isa: &str, base: &Path) -> u64 {
    let dir = tempdir();
    let stats = dir.path().join("stats.json");
    let out = migrate()
        .args(["run", "--arch", isa, "--stats"])
        .arg(&stats)
        .arg(base)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&stats).unwrap()).unwrap();
    json["landmark_hits"].as_u64().unwrap()
}

/// When no checkpoint comes, `migrate run` says why, with the counts: the
/// hit was never reached, or it was and no landmark after it had a whole
/// migratable stack (only unmigratable call sites, or a libc frame below
/// migratable ones).
#[test]
fn no_checkpoint_says_why_with_the_counts() {
    let dir = tempdir();
    let lone = build(dir.path(), "unmigratable_loop", &["--no-migration-codegen"]);
    // Entry landmarks everywhere: the callback and the function it calls
    // have no loops or cycles of their own, so by default no landmark is
    // inside the walk.
    let callback = build(dir.path(), "libc_callback", &["--landmarks=entry"]);
    let images = tempdir();
    let image = images.path().join("never.core");
    for isa in ISAS {
        // The loop's landmark, once per iteration (main, not recursive,
        // has no entry landmark).
        let hits = landmark_hits(isa, &lone);
        assert_eq!(hits, 1000, "{isa}");
        let out = checkpoint(isa, &lone, hits + 5, &image, &[]);
        assert!(!out.status.success());
        assert!(
            text(&out.stderr).contains(&format!(
                "no checkpoint was taken: the program ended (exit code 0) after {hits} landmark \
                 hits, before landmark hit {}",
                hits + 5
            )),
            "{isa}: {}",
            text(&out.stderr)
        );
        // The loop's landmark is never migratable.
        let out = checkpoint(isa, &lone, 2, &image, &[]);
        let err = text(&out.stderr);
        assert!(!out.status.success(), "{isa}: {err}");
        assert!(
            err.contains(&format!(
                "the program reached landmark hit 2, but from then until the program ended (exit \
                 code 0) no landmark had every frame at a migratable call site: {} landmark hits \
                 came, none at a call site certified migratable (`migrate inspect --callsites {}` \
                 shows why each is not)",
                hits - 1,
                lone.display()
            )),
            "{isa}: {err}"
        );
        // Inside the walk, every hit is at a migratable call site under
        // libc's twalk: deferred to the end, which never comes.
        let hits = landmark_hits(isa, &callback);
        let out = checkpoint(isa, &callback, hits - 10, &image, &[]);
        let err = text(&out.stderr);
        assert!(!out.status.success(), "{isa}: {err}");
        assert!(
            err.contains(
                "11 landmark hits came, 11 at a call site certified migratable but each with an \
                 older frame that was not"
            ),
            "{isa}: {err}"
        );
        assert!(files_in(images.path()).is_empty(), "{isa}");
    }
}

/// The processes whose parent is `pid`.
fn children_of(pid: u32) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|child| {
            std::fs::read_to_string(format!("/proc/{child}/stat"))
                .ok()
                .and_then(|s| {
                    let rest = s.rsplit_once(')')?.1.split_whitespace().nth(1)?.to_string();
                    rest.parse::<u32>().ok()
                })
                == Some(pid)
        })
        .collect()
}

/// True once process `pid` has ended (gone, or a zombie waiting for init).
fn ended(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(s) => s
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

/// Kills `migrate` (SIGKILL) once its program runs; the program must end
/// with it, not run on orphaned.
fn killing_migrate_kills_its_program(mut supervisor: std::process::Child, what: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let program = loop {
        if let Some(&p) = children_of(supervisor.id()).first() {
            break p;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: no program started"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    // Let it get going (under qemu, past start-up or the restore).
    std::thread::sleep(std::time::Duration::from_millis(300));
    supervisor.kill().unwrap();
    supervisor.wait().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !ended(program) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let orphaned = !ended(program);
    if orphaned {
        // SAFETY: kill(2) of a process this test started.
        unsafe { libc::kill(program as libc::pid_t, libc::SIGKILL) };
    }
    assert!(
        !orphaned,
        "{what}: the program ran on after migrate was killed"
    );
}

#[test]
fn a_killed_migrate_leaves_no_program_running() {
    let dir = tempdir();
    let base = build(dir.path(), "chain", &[]);
    // Long enough to outlive the test by far if nothing stopped it.
    let args = ["100000000", "wait"];
    for isa in ISAS {
        let run = migrate()
            .args(["run", "--arch", isa])
            .arg(&base)
            .arg("--")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        killing_migrate_kills_its_program(run, &format!("{isa}: migrate run"));

        let image = dir.path().join(format!("long.{isa}.core"));
        let out = checkpoint(isa, &base, 200, &image, &args);
        assert!(out.status.success(), "{isa}: {}", text(&out.stderr));
        let restore = migrate()
            .arg("restore")
            .arg(&image)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        killing_migrate_kills_its_program(restore, &format!("{isa}: migrate restore"));
    }
}

/// A temporary image left by a writer that is gone (killed while writing,
/// with its `migrate`) is removed by the next run that writes that image;
/// one whose writer still runs is left alone.
#[test]
fn temporary_images_of_dead_writers_are_removed() {
    let dir = tempdir();
    let base = build(dir.path(), "chain", &[]);
    let image = dir.path().join("img.core");
    let mut gone = Command::new("true").spawn().unwrap();
    let dead = gone.id();
    gone.wait().unwrap();
    let stale = dir.path().join(format!("img.core.tmp.{dead}"));
    let live = dir
        .path()
        .join(format!("img.core.tmp.{}", std::process::id()));
    std::fs::write(&stale, b"half an image").unwrap();
    std::fs::write(&live, b"being written").unwrap();
    let out = checkpoint("x86_64", &base, 10, &image, &["20"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(image.is_file());
    assert!(
        !stale.exists(),
        "the dead writer's temporary image is still there"
    );
    assert!(
        live.exists(),
        "a running writer's temporary image was removed"
    );
}

/// An image whose ELF machine was changed to the other ISA is refused
/// before anything runs (it used to start the aarch64 executable as a
/// shell script).
#[test]
fn an_image_of_the_wrong_isa_for_its_executable_is_refused() {
    let dir = tempdir();
    let base = build(dir.path(), "chain", &[]);
    let image = dir.path().join("a64.core");
    let out = checkpoint("aarch64", &base, 50, &image, &["20"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut bytes = std::fs::read(&image).unwrap();
    bytes[18..20].copy_from_slice(&62u16.to_le_bytes()); // EM_X86_64
    std::fs::write(&image, &bytes).unwrap();
    let out = restore(&image, &[]);
    let err = text(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("do not match their checksum"), "{err}");
    assert!(out.stdout.is_empty(), "nothing ran: {}", text(&out.stdout));
    // With the checksum made to match, the checks behind it.
    migrate_format::image::integrity::seal(&mut bytes, false).unwrap();
    std::fs::write(&image, &bytes).unwrap();
    let out = restore(&image, &[]);
    let err = text(&out.stderr);
    assert!(!out.status.success());
    // The reader sees aarch64 registers in an image that says x86_64;
    // restore would also refuse an x86_64 image for an aarch64 executable.
    assert!(
        err.contains("aarch64 registers in an x86_64 image")
            || err.contains("an x86_64 image, but") && err.contains("is an aarch64 executable"),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "nothing ran: {}", text(&out.stdout));
    // The right image with the other ISA's executable.
    let image = dir.path().join("x86.core");
    let out = checkpoint("x86_64", &base, 50, &image, &["20"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let a64 = format!("{}.aarch64", base.display());
    let out = restore(&image, &["--exe", &a64]);
    let err = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("an x86_64 image, but") && err.contains("is an aarch64 executable"),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "nothing ran: {}", text(&out.stdout));
}

/// Images that read well but do not fit their executable, or whose
/// registers disagree with their stack walk, are refused before anything
/// runs, by `migrate restore` and by the runtime itself: memory over the
/// executable's code, a frame at a return address that is no call site of
/// the executable, a moved stack pointer (issue 12, item 1).
#[test]
fn images_that_do_not_fit_their_executable_are_refused() {
    let dir = tempdir();
    let base = build(dir.path(), "chain", &[]);
    for isa in ISAS {
        let image = dir.path().join(format!("fit.{isa}.core"));
        let out = checkpoint(isa, &base, 300, &image, &["20"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let good = std::fs::read(&image).unwrap();
        let parsed = migrate_format::image::Image::read(&image).unwrap();
        assert!(parsed.frames.len() >= 3, "{isa}: {:?}", parsed.frames);
        let exe = std::fs::read(format!("{}.{isa}", base.display())).unwrap();
        parsed.check_against(&exe).unwrap();

        // The first saved segment moved onto the executable's first page.
        let mut bad = good.clone();
        let phdr = (1..parsed.segments.len() + 1)
            .map(|k| 64 + k * 56)
            .find(|&at| u64::from_le_bytes(bad[at + 32..at + 40].try_into().unwrap()) != 0)
            .unwrap();
        bad[phdr + 16..phdr + 24].copy_from_slice(&0x1000_0000u64.to_le_bytes());
        // An outer frame's return address off by one.
        let mut wrong_frame = good.clone();
        let pc = parsed.frames[1].pc.to_le_bytes();
        let frames_at = wrong_frame
            .windows(16)
            .position(|w| w[..8] == pc && w[8..] == parsed.frames[1].sp.to_le_bytes())
            .unwrap();
        wrong_frame[frames_at..frames_at + 8]
            .copy_from_slice(&(parsed.frames[1].pc + 1).to_le_bytes());
        // The stack pointer register moved by 16 bytes.
        let mut moved_sp = good.clone();
        let sp = parsed.frames[0].sp;
        let reg = moved_sp
            .windows(8)
            .position(|w| w == sp.to_le_bytes())
            .unwrap();
        assert!(reg < frames_at, "the registers come before the frames note");
        moved_sp[reg..reg + 8].copy_from_slice(&(sp + 16).to_le_bytes());
        // Each refused by migrate restore, and by the runtime itself when
        // started without migrate (before anything is mapped: status 125).
        for (bytes, why, runtime_why) in [
            (
                bad,
                "over the executable's code",
                "memory over the executable's code",
            ),
            (
                wrong_frame,
                "is not at a call site of its executable",
                "not at a call site of this executable",
            ),
            (
                moved_sp,
                "disagree with the innermost frame",
                "registers disagree with its innermost frame",
            ),
        ] {
            // Past the checksum, to the checks behind it.
            let mut bytes = bytes;
            migrate_format::image::integrity::seal(&mut bytes, false).unwrap();
            std::fs::write(&image, &bytes).unwrap();
            let out = restore(&image, &[]);
            let err = text(&out.stderr);
            assert!(!out.status.success(), "{isa}: {why}");
            assert!(err.contains(why), "{isa}: want {why:?} in {err}");
            assert!(out.stdout.is_empty(), "{isa}: nothing ran");
            let exe = format!("{}.{isa}", base.display());
            let mut cmd = direct(isa, &exe);
            only_standard_streams(&mut cmd);
            let out = cmd
                .env(migrate_format::env::RESTORE, &image)
                .stdin(Stdio::null())
                .output()
                .unwrap();
            let err = text(&out.stderr);
            assert_eq!(out.status.code(), Some(125), "{isa}: {runtime_why}: {err}");
            assert!(
                err.contains(runtime_why),
                "{isa}: want {runtime_why:?} in {err}"
            );
            assert!(out.stdout.is_empty(), "{isa}: nothing ran");
        }
    }
}
