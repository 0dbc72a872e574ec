//! Lua 5.4 (sources from the lua-src crate) built with migrate cc runs a
//! workload identically on both ISAs.

use crate::common::*;
use std::path::PathBuf;
use std::process::Command;

/// The Lua 5.4 source directory inside the lua-src crate cargo downloaded.
pub fn lua_src_dir() -> PathBuf {
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--offline"])
        .current_dir(repo())
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
        .find(|p| p["name"] == "lua-src")
        .expect("lua-src is a dev-dependency")["manifest_path"]
        .as_str()
        .unwrap()
        .to_string();
    let crate_dir = PathBuf::from(manifest).parent().unwrap().to_path_buf();
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
    dirs.pop().expect("lua-5.4 sources in lua-src")
}

/// Builds Lua with migrate cc into `dir/lua`; returns the base path.
pub fn build_lua(dir: &std::path::Path, opt: &str) -> PathBuf {
    let src = lua_src_dir();
    let mut args: Vec<String> = vec![
        opt.into(),
        "-DLUA_USE_POSIX".into(),
        format!("-I{}", src.display()),
    ];
    args.extend(["-o".into(), "lua".into()]);
    args.push(fixture("lua/lua_main.c").display().to_string());
    let mut sources: Vec<String> = std::fs::read_dir(&src)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "c"))
        .filter(|p| {
            !matches!(
                p.file_name().unwrap().to_str().unwrap(),
                "luac.c" | "onelua.c" | "lua.c"
            )
        })
        .map(|p| p.display().to_string())
        .collect();
    sources.sort();
    args.extend(sources);
    args.push("-lm".into());
    cc(dir, &args.iter().map(String::as_str).collect::<Vec<_>>());
    dir.join("lua")
}

#[test]
fn lua_workload_identical_on_both_isas() {
    let dir = tempdir();
    let base = build_lua(dir.path(), "-O2");
    check_layout(&base);
    let script = fixture("lua/workload.lua");
    let r = same_on_both(&base, &[script.to_str().unwrap(), "200"], b"");
    let out = String::from_utf8(r.stdout).unwrap();
    assert_eq!(r.code, Some(0), "{out}");
    assert!(out.contains("sorted\t10000\t6\t99992\t71471447"), "{out}");
    assert!(out.contains("closures\t1105500"), "{out}");
    assert!(out.contains("pcall\tfalse\ttable\t7"), "{out}");
    assert!(out.contains("gc\t200\t20000"), "{out}");
    assert!(out.contains("harmonic\t10.480728217229"), "{out}");
}
