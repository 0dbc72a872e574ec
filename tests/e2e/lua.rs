//! Lua 5.4 (sources from the lua-src crate) built with migrate cc runs a
//! workload identically on both ISAs.

use crate::common::*;
use std::path::PathBuf;

/// Builds Lua with migrate cc into `dir/lua`; returns the base path.
pub fn build_lua(dir: &std::path::Path, opt: &str) -> PathBuf {
    let (src, sources) = crate::thirdparty::lua_sources(&repo());
    let mut args: Vec<String> = vec![
        opt.into(),
        "-DLUA_USE_POSIX".into(),
        format!("-I{}", src.display()),
    ];
    args.extend(["-o".into(), "lua".into()]);
    args.push(fixture("lua/lua_main.c").display().to_string());
    args.extend(sources.iter().map(|p| p.display().to_string()));
    args.push("-lm".into());
    cc(dir, &args.iter().map(String::as_str).collect::<Vec<_>>());
    dir.join("lua")
}

#[test]
fn lua_workload_identical_on_both_isas() {
    workload_at("-O2");
}

/// The other optimization levels (each build runs the record check).
#[test]
fn lua_at_o0() {
    workload_at("-O0");
}

#[test]
fn lua_at_o1() {
    workload_at("-O1");
}

#[test]
fn lua_at_o3() {
    workload_at("-O3");
}

fn workload_at(opt: &str) {
    let dir = tempdir();
    let base = build_lua(dir.path(), opt);
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
