//! Plain per-ISA builds (`clang-19 -O2`, static musl, default linker layout):
//! the baseline benchmarks compare migratable builds against.

use crate::isa::Toolchain;
use crate::tools;
use anyhow::Result;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Compiles `sources` natively for `t` with `flags` (e.g. `-O2`) and links a
/// static musl executable at `out`, the way a user would without migration.
pub fn build(t: &dyn Toolchain, sources: &[PathBuf], flags: &[&str], out: &Path) -> Result<()> {
    let resource = tools::clang_resource_dir()?;
    let work = tempfile::Builder::new()
        .prefix("migrate-baseline-")
        .tempdir()?;
    let mut objects = Vec::new();
    for (i, src) in sources.iter().enumerate() {
        let obj = work.path().join(format!("{i}.o"));
        tools::run(
            Command::new("clang-19")
                .arg(format!("--target={}", t.ir().triple()))
                .args(["-nostdinc", "-isystem"])
                .arg(format!("{resource}/include"))
                .arg("-isystem")
                .arg(format!("/usr/include/{}-linux-musl", t.name()))
                .args(flags)
                .args([
                    "-ffp-contract=off",
                    "-fno-pic",
                    "-ffunction-sections",
                    "-fdata-sections",
                    "-c",
                ])
                .arg(src)
                .arg("-o")
                .arg(&obj),
            false,
        )?;
        objects.push(obj);
    }
    tools::run(&mut crate::isa::static_link(t, None, &objects, out), false)?;
    Ok(())
}
