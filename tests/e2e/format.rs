//! The formats the tools and the runtime share (migrate-format), checked
//! against the runtime itself: an image landmark-rt wrote reads back and,
//! with every note encoded again in Rust, is the same file; an image the
//! Rust writer wrote is restored by the runtime and the program finishes
//! exactly as an uninterrupted run; the header the runtime was built with
//! is the one migrate-format generates.

use crate::common::*;
use migrate_format::image::{FileKind, Image, ImageWriter};
use std::fs::File;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn input(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("input.txt");
    let text: String = (0..600)
        .map(|i| format!("line {i}: {}\n", "xyz".repeat(i % 17)))
        .collect();
    std::fs::write(&path, text).unwrap();
    path
}

fn run_in(cwd: &Path, stdin: &Path, args: &[&str]) -> Output {
    migrate()
        .current_dir(cwd)
        .args(args)
        .stdin(Stdio::from(File::open(stdin).unwrap()))
        .output()
        .unwrap()
}

#[test]
fn runtime_images_rewrite_byte_identically_and_rust_written_images_restore() {
    let dir = tempdir();
    let src = fixture("checkpoint/notes.c");
    cc(dir.path(), &["-O2", "-o", "notes", src.to_str().unwrap()]);
    let base = dir.path().join("notes");
    let stdin = input(dir.path());
    for isa in ISAS {
        let plain_dir = tempdir();
        let plain = run_in(
            plain_dir.path(),
            &stdin,
            &["run", "--arch", isa, base.to_str().unwrap()],
        );
        assert!(
            plain.status.success(),
            "{}",
            String::from_utf8_lossy(&plain.stderr)
        );
        let want = (plain.stdout.clone(), files_in(plain_dir.path()));

        for n in [40, 700] {
            let cwd = tempdir();
            let image_path = cwd.path().join("runtime.core");
            let first = run_in(
                cwd.path(),
                &stdin,
                &[
                    "run",
                    "--arch",
                    isa,
                    "--checkpoint-at",
                    &n.to_string(),
                    "--image",
                    image_path.to_str().unwrap(),
                    base.to_str().unwrap(),
                ],
            );
            assert!(
                first.status.success(),
                "{}",
                String::from_utf8_lossy(&first.stderr)
            );

            let image = Image::read(&image_path).unwrap();
            assert_eq!(image.arch.name(), isa);
            // Every note has something in it.
            assert!(
                image
                    .files
                    .iter()
                    .any(|f| f.kind == FileKind::Regular && f.path.ends_with("/notes.out")),
                "{:?}",
                image.files
            );
            let signals: Vec<u32> = image.signals.iter().map(|s| s.signo).collect();
            assert!(
                signals.contains(&10) || signals.contains(&13),
                "{signals:?}"
            );
            assert!(image.frames.len() >= 2, "{:?}", image.frames);
            assert_eq!(image.frames[0].call_site, image.state.call_site);

            // Read, every note encoded again, written: the same bytes.
            let runtime_bytes = std::fs::read(&image_path).unwrap();
            let rebuilt = ImageWriter::rebuilt(&image).to_bytes().unwrap();
            assert!(
                rebuilt == runtime_bytes,
                "{isa} hit {n}: the Rust writer's image differs from the runtime's ({} vs {} bytes)",
                rebuilt.len(),
                runtime_bytes.len()
            );

            // Written by Rust to a new file, the runtime's one removed:
            // restored, the program ends as it would have.
            let rust_path = cwd.path().join("rust.core");
            ImageWriter::rebuilt(&image).write_to(&rust_path).unwrap();
            drop(image);
            std::fs::remove_file(&image_path).unwrap();
            let rest = migrate()
                .arg("restore")
                .arg(&rust_path)
                .stdin(Stdio::from(File::open(&stdin).unwrap()))
                .output()
                .unwrap();
            assert!(
                rest.status.success(),
                "{}",
                String::from_utf8_lossy(&rest.stderr)
            );
            std::fs::remove_file(&rust_path).unwrap();
            let mut stdout = first.stdout.clone();
            stdout.extend_from_slice(&rest.stdout);
            assert_eq!(
                (stdout, files_in(cwd.path())),
                want,
                "{isa}: checkpointed at hit {n}, restored from the Rust-written image"
            );
        }
    }
}

/// The header landmark-rt was compiled with is the one migrate-format
/// generates now (the build script writes it; nothing on the C side is a
/// copy kept by hand).
#[test]
fn the_runtime_was_built_with_the_generated_header() {
    assert_eq!(landmark_rt::FORMAT_H, migrate_format::c_header::generate());
    let rt = repo().join("landmark-rt");
    let out = Command::new("grep")
        .args([
            "-rnE",
            "MIGFRAME|MIGSITES|\"LANDMARK_|0x3f00000000|struct image_state \\{",
        ])
        .arg(rt.join("src"))
        .arg(rt.join("arch"))
        .output()
        .unwrap();
    assert!(
        out.stdout.is_empty(),
        "format constants written by hand in landmark-rt:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// landmark-rt formats its messages, file names and reports with its own
/// snprintf (format.c: musl's printf would cost every program ~11 KiB of
/// code per ISA): for each conversion it supports, it writes what libc's
/// snprintf writes, truncation and return value included, on both ISAs.
#[test]
fn the_runtime_formats_as_snprintf_does() {
    let dir = tempdir();
    let src = fixture("runtime/format.c");
    cc(dir.path(), &["-O2", "-o", "format", src.to_str().unwrap()]);
    let out = same_on_both(&dir.path().join("format"), &[], b"");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "0 differences\n");
}
