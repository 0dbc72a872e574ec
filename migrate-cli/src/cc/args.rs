//! Parses a C compiler command line the way `cc` would, so that
//! `make CC="migrate cc"` works unchanged.

use anyhow::{bail, Result};
use std::path::PathBuf;

/// What `migrate cc` was asked to do.
#[derive(Debug, Default, Clone)]
pub struct CcArgs {
    /// `-c`: compile each source to a bitcode object and stop.
    pub compile_only: bool,
    /// `-E`: preprocess only.
    pub preprocess_only: bool,
    /// `-o`.
    pub output: Option<PathBuf>,
    /// `-O` level as given: `0`..`3`, `s`, `z`; `0` if none (as cc).
    pub opt_level: String,
    /// `-g` given: full debug info (line tables are always kept).
    pub debug: bool,
    /// Flags for the front end: -I -D -U -std -W -f -include -isystem -M...
    pub frontend: Vec<String>,
    /// C sources to compile.
    pub sources: Vec<PathBuf>,
    /// Bitcode objects and archives to link.
    pub objects: Vec<PathBuf>,
    /// `-l` names, in order.
    pub libs: Vec<String>,
    /// `-L` directories.
    pub lib_dirs: Vec<PathBuf>,
    /// `-v`: print the commands run.
    pub verbose: bool,
    /// `-save-temps`: keep the work directory and say where it is.
    pub save_temps: bool,
    /// Flags accepted and ignored, reported once with `-v`.
    pub ignored: Vec<String>,
    /// `--landmarks=entry|loops|all|none`: where migration points go.
    pub landmarks: llvm_pass::landmarks::Policy,
    /// `--no-migration-codegen`: do not pass the backend options that keep
    /// hidden state out of call sites (faster loops, fewer migratable sites).
    pub no_migration_codegen: bool,
    /// `--no-unsafe-stack`: leave stack objects on the machine stack (for
    /// measuring what the unsafe stack costs; a pointer to one kept in
    /// memory then refuses migrations).
    pub no_unsafe_stack: bool,
    /// `-mllvm OPT`: options for the backends (llc-19) of both ISAs.
    pub backend: Vec<String>,
}

/// Options that take a value, either attached (`-Ifoo`) or next (`-I foo`).
const FRONTEND_WITH_VALUE: &[&str] = &[
    "-I",
    "-D",
    "-U",
    "-include",
    "-isystem",
    "-iquote",
    "-idirafter",
    "-MF",
    "-MT",
    "-MQ",
];
/// Flags accepted for compatibility with build systems, with no effect here.
const IGNORED: &[&str] = &[
    "-static",
    "-pthread",
    "-rdynamic",
    "-fPIC",
    "-fpic",
    "-fPIE",
    "-fpie",
    "-no-pie",
    "-pipe",
    "-s",
];
/// Libraries that are part of musl's libc.a.
pub const LIBC_PARTS: &[&str] = &[
    "c", "m", "pthread", "dl", "rt", "util", "xnet", "resolv", "crypt",
];

pub fn parse(raw: &[String]) -> Result<CcArgs> {
    let mut a = CcArgs {
        opt_level: "0".into(),
        ..Default::default()
    };
    let mut it = raw.iter().peekable();
    while let Some(arg) = it.next() {
        let mut value_of = |flag: &str| -> Result<String> {
            if arg.len() > flag.len() {
                Ok(arg[flag.len()..].to_string())
            } else {
                it.next()
                    .cloned()
                    .ok_or_else(|| anyhow::anyhow!("{flag} needs a value"))
            }
        };
        match arg.as_str() {
            "-c" => a.compile_only = true,
            "-E" => a.preprocess_only = true,
            "-v" => a.verbose = true,
            "-mllvm" => a.backend.push(it.next().cloned().ok_or_else(|| anyhow::anyhow!("-mllvm needs a value"))?),
            "-save-temps" | "--save-temps" => a.save_temps = true,
            s if s.starts_with("--landmarks=") => a.landmarks = s["--landmarks=".len()..].parse()?,
            "--no-migration-codegen" => a.no_migration_codegen = true,
            "--no-unsafe-stack" => a.no_unsafe_stack = true,
            "-g" | "-g3" | "-g2" | "-ggdb" => a.debug = true,
            "-g0" | "-g1" | "-gline-tables-only" => {}
            "-shared" => bail!("-shared: migratable programs are static executables; shared libraries are not supported"),
            "-S" => bail!("-S: migrate cc writes bitcode objects (-c) or executables, not assembly"),
            "-x" => {
                let lang = it.next().map(String::as_str).unwrap_or("");
                if lang != "c" {
                    bail!("-x {lang}: only C sources are supported");
                }
            }
            s if s.starts_with("-o") => a.output = Some(PathBuf::from(value_of("-o")?)),
            s if s.starts_with("-O") => a.opt_level = normalize_opt(&s[2..])?,
            s if s.starts_with("-L") => a.lib_dirs.push(PathBuf::from(value_of("-L")?)),
            s if s.starts_with("-l") => a.libs.push(value_of("-l")?),
            s if s.starts_with("-Wl,") || s == "-Xlinker" => {
                if s == "-Xlinker" {
                    it.next();
                }
                a.ignored.push(s.to_string());
            }
            s if IGNORED.contains(&s) => a.ignored.push(s.to_string()),
            s if s.starts_with("-march") || s.starts_with("-mtune") || s.starts_with("-mcpu") || s.starts_with("-m") => {
                bail!("{s}: target-specific flags are not supported: the program is built for x86_64 and aarch64 at once")
            }
            s if s == "-ffast-math" || s.starts_with("-ffp-contract") || s == "-Ofast" => {
                bail!("{s}: floating point must not depend on the ISA; migrate cc always uses -ffp-contract=off and no fast-math")
            }
            s if FRONTEND_WITH_VALUE.iter().any(|f| s.starts_with(f)) => {
                let flag = FRONTEND_WITH_VALUE.iter().filter(|f| s.starts_with(**f)).max_by_key(|f| f.len()).unwrap();
                let v = value_of(flag)?;
                a.frontend.push(format!("{flag}{v}"));
            }
            s if s.starts_with("-std=") || s.starts_with("-W") || s.starts_with("-f") || s.starts_with("-M")
                || s == "-w" || s == "-pedantic" || s == "-ansi" || s.starts_with("-pedantic") =>
            {
                a.frontend.push(s.to_string())
            }
            s if s.starts_with('-') => bail!("unknown option {s}"),
            s if s.ends_with(".c") => a.sources.push(PathBuf::from(s)),
            s if s.ends_with(".o") || s.ends_with(".bc") || s.ends_with(".a") || s.ends_with(".lo") => {
                a.objects.push(PathBuf::from(s))
            }
            s => bail!("{s}: unknown kind of input (expected .c, .o, .bc or .a)"),
        }
    }
    if a.sources.is_empty() && a.objects.is_empty() {
        bail!("no input files");
    }
    if a.compile_only && a.output.is_some() && a.sources.len() > 1 {
        bail!("-o with -c and several sources");
    }
    Ok(a)
}

fn normalize_opt(level: &str) -> Result<String> {
    match level {
        "" => Ok("1".into()),
        "0" | "1" | "2" | "3" | "s" | "z" => Ok(level.into()),
        "g" => Ok("1".into()),
        "fast" => bail!("-Ofast: floating point must not depend on the ISA"),
        _ => bail!("-O{level}: unknown optimization level"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<CcArgs> {
        parse(&s.split_whitespace().map(String::from).collect::<Vec<_>>())
    }

    #[test]
    fn typical_compile_and_link_lines() {
        let a = p("-O2 -Wall -I inc -DX=1 -c a.c -o a.o").unwrap();
        assert!(a.compile_only);
        assert_eq!(a.opt_level, "2");
        assert_eq!(a.frontend, ["-Wall", "-Iinc", "-DX=1"]);
        let b = p("-o prog a.o b.o libx.a -L. -lm -lfoo").unwrap();
        assert_eq!(b.objects.len(), 3);
        assert_eq!(b.libs, ["m", "foo"]);
        assert_eq!(b.opt_level, "0");
        assert_eq!(b.landmarks, llvm_pass::landmarks::Policy::All);
        let c = p("--landmarks=entry a.c").unwrap();
        assert_eq!(c.landmarks, llvm_pass::landmarks::Policy::Entry);
        assert!(p("--landmarks=sometimes a.c").is_err());
        assert!(!c.no_migration_codegen);
        assert!(
            p("--no-migration-codegen a.c")
                .unwrap()
                .no_migration_codegen
        );
        let d = p("-mllvm -disable-lsr a.c").unwrap();
        assert_eq!(d.backend, ["-disable-lsr"]);
    }

    #[test]
    fn refuses_isa_flags_and_fast_math() {
        assert!(p("-march=native a.c").is_err());
        assert!(p("-ffast-math a.c").is_err());
        assert!(p("-shared a.c").is_err());
        assert!(p("").is_err());
    }
}
