//! Builds the C runtime for both ISAs with clang-19 against each ISA's musl
//! headers and packs each into a static archive that `migrate cc` links.
//! Portable sources are `src/*.c`; ISA-specific ones `arch/<isa>/*.c`. Their
//! formats come from `migrate_format.h`, generated here from the
//! migrate-format crate.
//!
//! It also compiles the musl sources listed in `musl/SOURCES` to bitcode
//! for the single IR (aarch64, as `migrate cc` does) and packs them into an
//! archive of bitcode members, which `migrate cc` links like a user library
//! so those libc functions go through the landmark pass.

use std::path::{Path, PathBuf};
use std::process::Command;

use migrate_format::arch::IR_ARCH;
use migrate_format::Arch;

/// The C and assembly (`.S`) sources in `dir`.
fn c_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "c" || e == "S"));
    files.sort();
    files
}

fn run(cmd: &mut Command) {
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e} (run scripts/setup.sh)"));
    assert!(status.success(), "{cmd:?} failed");
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=arch");
    println!("cargo:rerun-if-changed=include");
    let resource = String::from_utf8(
        Command::new("clang-19")
            .arg("-print-resource-dir")
            .output()
            .expect("clang-19 missing: run scripts/setup.sh")
            .stdout,
    )
    .unwrap();
    build_instrumented_libc(&root, &out, resource.trim());
    // Every format shared with the tools, generated from migrate-format.
    let generated = out.join("include");
    std::fs::create_dir_all(&generated).unwrap();
    std::fs::write(
        generated.join("migrate_format.h"),
        migrate_format::c_header::generate(),
    )
    .unwrap();
    for arch in Arch::ALL {
        let (isa, triple) = (arch.name(), arch.triple());
        let mut sources = c_files(&root.join("src"));
        sources.extend(c_files(&root.join("arch").join(isa)));
        let mut objects = Vec::new();
        for src in &sources {
            // One member name on both ISAs: the layout aligner matches
            // same-named statics of different files by archive member.
            let dir = out.join(isa);
            std::fs::create_dir_all(&dir).unwrap();
            let obj = dir.join(format!(
                "{}.{}.o",
                src.file_stem().unwrap().to_string_lossy(),
                src.extension().unwrap().to_string_lossy()
            ));
            run(Command::new("clang-19")
                .arg(format!("--target={triple}"))
                .args(["-nostdinc", opt_level(src), "-g", "-fno-pic"])
                .arg("-ffp-contract=off")
                .args([
                    "-ffunction-sections",
                    "-fdata-sections",
                    "-fno-stack-protector",
                ])
                .args(["-Wall", "-Werror"])
                // The runtime's statics must sit at one address on both ISAs
                // (a restored process reads them from the image): AArch64's
                // global merging would pack them into one section there only.
                .args((arch == Arch::Aarch64).then_some("-mno-global-merge"))
                .args(
                    src.extension()
                        .is_some_and(|e| e == "c")
                        .then_some("-std=c11"),
                )
                .arg("-isystem")
                .arg(format!("{}/include", resource.trim()))
                .arg("-isystem")
                .arg(format!("/usr/include/{}", arch.musl_multiarch()))
                .arg("-I")
                .arg(root.join("include"))
                .arg("-I")
                .arg(&generated)
                .arg("-c")
                .arg(src)
                .arg("-o")
                .arg(&obj));
            objects.push(obj);
        }
        let archive = out.join(format!("liblandmark-{isa}.a"));
        let _ = std::fs::remove_file(&archive);
        run(Command::new("llvm-ar-19")
            .arg("rcs")
            .arg(&archive)
            .args(&objects));
    }
}

/// The runtime is in every migratable executable, and most of it runs once
/// per checkpoint or restore, where system calls dominate: it is built for
/// size (issue 15: its fixed cost 43 -> 24 KiB per ISA). The hot parts are
/// built for speed: hashing every byte of a checkpoint's memory, and the
/// landmark hit path that statistics mode takes at every landmark.
fn opt_level(src: &Path) -> &'static str {
    let hot = ["xxh64.c", "landmark.c"];
    if hot.iter().any(|h| src.ends_with(h)) {
        "-O2"
    } else {
        "-Oz"
    }
}

/// The musl release whose C the instrumented libc comes from: the same as
/// Debian's musl-dev, fetched by scripts/setup.sh.
const MUSL_DIR: &str = "../third_party/musl-1.2.3";

/// The sources `musl/SOURCES` lists, to bitcode, into
/// `OUT_DIR/libc-instrumented-O{0,2}.a`: at -O0 llc's fast register
/// allocator runs out of registers on optimized code with stackmaps, so
/// -O0 programs get an -O0 copy.
fn build_instrumented_libc(root: &Path, out: &Path, resource: &str) {
    println!("cargo:rerun-if-changed=musl");
    println!("cargo:rerun-if-changed={MUSL_DIR}/.complete");
    let musl = root.join(MUSL_DIR);
    assert!(
        musl.join(".complete").is_file(),
        "musl sources missing at {}: run scripts/setup.sh",
        musl.display()
    );
    let musl = musl.canonicalize().unwrap();
    let list = std::fs::read_to_string(root.join("musl/SOURCES")).unwrap();
    for opt in ["0", "2"] {
        build_libc_archive(root, out, resource, &musl, &list, opt);
    }
}

fn build_libc_archive(root: &Path, out: &Path, resource: &str, musl: &Path, list: &str, opt: &str) {
    let mut members = Vec::new();
    for rel in list
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let src = musl.join(rel);
        let bc = out.join(format!("musl-O{opt}-{}.bc", rel.replace('/', "-")));
        // musl's own flags (its Makefile), then the IR flags `migrate cc`'s
        // front end uses; include order as musl's, with our atomic.h first.
        let mut cmd = Command::new("clang-19");
        cmd.args([
            format!("--target={}", IR_ARCH.triple()).as_str(),
            "-nostdinc",
        ])
        .args(["-std=c99", "-ffreestanding", "-D_XOPEN_SOURCE=700"])
        .arg(format!("-O{opt}"))
        .args(["-gline-tables-only", "-fno-pic", "-fno-pie"])
        .args(["-ffp-contract=off", "-fno-fast-math", "-Wall", "-Werror"])
        // Debug info names `musl-1.2.3/src/...`, not this machine's path.
        .arg(format!("-ffile-prefix-map={}=musl-1.2.3", musl.display()));
        for dir in ["arch/aarch64", "arch/generic", "src/include"] {
            cmd.arg("-I").arg(musl.join(dir));
        }
        cmd.arg("-I").arg(root.join("musl/include"));
        for dir in ["src/internal", "include"] {
            cmd.arg("-I").arg(musl.join(dir));
        }
        run(cmd
            .args([
                "-isystem",
                &format!("/usr/include/{}", IR_ARCH.musl_multiarch()),
                "-isystem",
            ])
            .arg(format!("{resource}/include"))
            .args(["-emit-llvm", "-c"])
            .arg(&src)
            .arg("-o")
            .arg(&bc));
        members.push(bc);
    }
    let archive = out.join(format!("libc-instrumented-O{opt}.a"));
    let _ = std::fs::remove_file(&archive);
    run(Command::new("llvm-ar-19")
        .arg("rc")
        .arg(&archive)
        .args(&members));
}
