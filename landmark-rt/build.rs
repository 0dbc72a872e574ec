//! Builds the C runtime for both ISAs with clang-19 against each ISA's musl
//! headers and packs each into a static archive that `migrate cc` links.
//! Portable sources are `src/*.c`; ISA-specific ones `arch/<isa>/*.c`.

use std::path::{Path, PathBuf};
use std::process::Command;

const ISAS: [(&str, &str); 2] = [
    ("x86_64", "x86_64-unknown-linux-musl"),
    ("aarch64", "aarch64-unknown-linux-musl"),
];

fn c_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "c"));
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
    for (isa, triple) in ISAS {
        let mut sources = c_files(&root.join("src"));
        sources.extend(c_files(&root.join("arch").join(isa)));
        let mut objects = Vec::new();
        for src in &sources {
            let obj = out.join(format!(
                "{isa}-{}.o",
                src.file_stem().unwrap().to_string_lossy()
            ));
            run(Command::new("clang-19")
                .arg(format!("--target={triple}"))
                .args(["-nostdinc", "-O2", "-g", "-fno-pic", "-ffp-contract=off"])
                .args([
                    "-ffunction-sections",
                    "-fdata-sections",
                    "-fno-stack-protector",
                ])
                .args(["-Wall", "-Werror", "-std=c11"])
                .arg("-isystem")
                .arg(format!("{}/include", resource.trim()))
                .arg("-isystem")
                .arg(format!("/usr/include/{isa}-linux-musl"))
                .arg("-I")
                .arg(root.join("include"))
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
