//! Where the third-party C sources the tests and benchmarks build come from:
//! crates that cargo downloads (dev-dependencies), located via cargo metadata.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Root directory of a downloaded dependency crate.
///
/// Filtered to the host platform: a fresh cargo home holds only the crates
/// this platform builds, and unfiltered metadata resolves every target's
/// (Windows-only crates among them), which `--offline` cannot download.
pub fn crate_dir(repo: &Path, name: &str) -> PathBuf {
    let host = host_triple();
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--offline"])
        .args(["--filter-platform", &host])
        .current_dir(repo)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let manifest = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("{name} is a dev-dependency"))["manifest_path"]
        .as_str()
        .unwrap()
        .to_string();
    PathBuf::from(manifest).parent().unwrap().to_path_buf()
}

/// The triple rustc builds for by default (`host:` in `rustc -vV`).
fn host_triple() -> String {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(rustc).arg("-vV").output().unwrap();
    assert!(out.status.success(), "rustc -vV failed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("rustc -vV prints its host")
        .trim()
        .to_string()
}

/// Lua 5.4's sources (from lua-src) and the C files that make the library,
/// without the stand-alone programs (`lua_main.c` in the fixtures is ours).
pub fn lua_sources(repo: &Path) -> (PathBuf, Vec<PathBuf>) {
    let crate_dir = crate_dir(repo, "lua-src");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&crate_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("lua-5.4")
        })
        .collect();
    dirs.sort();
    let dir = dirs.pop().expect("lua-5.4 sources in lua-src");
    let mut sources: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "c"))
        .filter(|p| {
            !matches!(
                p.file_name().unwrap().to_str().unwrap(),
                "luac.c" | "onelua.c" | "lua.c"
            )
        })
        .collect();
    sources.sort();
    (dir, sources)
}

/// The directory with SQLite's amalgamation (`sqlite3.c`, `sqlite3.h`) from
/// libsqlite3-sys.
pub fn sqlite_dir(repo: &Path) -> PathBuf {
    crate_dir(repo, "libsqlite3-sys").join("sqlite3")
}
