//! The link step: bitcode objects to two layout-identical executables.

use super::args::{CcArgs, LIBC_PARTS};
use super::elf_edit;
use crate::isa::{self, Toolchain};
use crate::layout::{map, plan, script};
use crate::tools;
use anyhow::{anyhow, bail, Context as _, Result};
use inkwell::context::Context;
use inkwell::module::{Linkage, Module};
use migrate_format::callsites::SECTION as CALLSITE_SECTION;
use migrate_format::certificates::{Certificates, SECTION as CERTIFICATE_SECTION};
use migrate_format::frames::SECTION as FRAMES_SECTION;
use migrate_format::{sites, Arch, PerArch};
use stack_translator::layout::{Exempt, Manifest, MANIFEST_SECTION};
use stack_translator::records::{check, Executable};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Links `bitcode` (files) plus the archives named on the command line into
/// `BASE.x86_64` and `BASE.aarch64`, using `work` for intermediate files.
/// Either both outputs are written and pass the layout check, or neither
/// output is touched.
pub fn link(args: &CcArgs, bitcode: &[PathBuf], base: &Path, work: &Path) -> Result<()> {
    let ctx = Context::create();
    let modules = bitcode
        .iter()
        .map(|p| llvm_pass::load_bitcode(&ctx, p))
        .collect::<Result<Vec<_>, _>>()?;
    let program = llvm_pass::link(modules)?;
    for archive in archives(args)? {
        link_needed_members(&ctx, &program, &archive)?;
    }
    // Last, as libc.a would be: the libc functions we compile ourselves, so
    // that their frames have landmarks and records too.
    let libc = work.join("libc-instrumented.a");
    std::fs::write(&libc, landmark_rt::instrumented_libc(args.opt_level != "0"))?;
    link_needed_members(&ctx, &program, &libc)?;
    let prepared = llvm_pass::prepare(&program, args.landmarks, !args.no_unsafe_stack)?;
    if args.verbose {
        eprintln!(
            "migrate cc: {} landmarks ({:?}), {} recorded call sites",
            prepared.landmarks,
            args.landmarks,
            prepared.callsites.sites.len()
        );
    }
    let callsite_table = prepared.callsites.encode();

    for t in isa::all() {
        let dir = work.join(t.name());
        std::fs::create_dir_all(&dir)?;
        llvm_pass::write_for_isa(&program, t.ir(), &dir.join("prog.bc"))?;
        std::fs::write(dir.join("liblandmark.a"), landmark_rt::archive(t.arch()))?;
    }
    drop(program);
    drop(ctx);
    // The module's memory, back before the backends and the certifier run.
    stack_translator::return_free_memory();

    let opt = match args.opt_level.as_str() {
        "s" | "z" => "2",
        l => l,
    };
    each_isa(|t| {
        let dir = work.join(t.name());
        tools::run(
            Command::new("llc-19")
                .arg(format!("-O{opt}"))
                .arg(format!("-mtriple={}", t.ir().triple()))
                .arg(format!("-mcpu={}", t.ir().cpu()))
                .args([
                    "-filetype=obj",
                    "-function-sections",
                    "-data-sections",
                    "-relocation-model=static",
                ])
                .args(t.llc_flags())
                .args(if args.no_migration_codegen {
                    &[][..]
                } else {
                    HIDDEN_STATE_FLAGS
                })
                .args(&args.backend)
                .arg(dir.join("prog.bc"))
                .arg("-o")
                .arg(dir.join("prog.o")),
            args.verbose,
        )
        .map(|_| ())
    })?;

    // First link: where would the linker put things on its own?
    each_isa(|t| {
        ld(
            t,
            work,
            None,
            &work.join(t.name()).join("free.elf"),
            args.verbose,
        )
    })?;
    let maps = PerArch::try_new(|arch| -> Result<Vec<map::InputSection>> {
        let path = work.join(arch.name()).join("free.elf.map");
        map::parse(&std::fs::read_to_string(&path)?).with_context(|| format!("{}", path.display()))
    })?;
    let plan = plan::plan(maps.each_ref())?;

    // Second link: at the planned addresses, to temporary names beside the outputs.
    let outputs = PerArch::new(|arch| output_path(base, arch));
    let temps =
        PerArch::new(|arch| output_path(base, arch).with_extension(format!("{}.tmp", arch.name())));
    let result = (|| {
        for arch in Arch::ALL {
            std::fs::write(
                work.join(arch.name()).join("layout.ld"),
                script::render(&plan, arch),
            )?;
        }
        let exempt = plan.exempt.iter().map(|(symbol, reason)| Exempt {
            symbol: symbol.clone(),
            reason: reason.clone(),
        });
        let manifest = serde_json::to_vec_pretty(&Manifest {
            exempt: exempt.collect(),
        })?;
        each_isa(|t| {
            ld(
                t,
                work,
                Some(&work.join(t.name()).join("layout.ld")),
                &temps[t.arch()],
                args.verbose,
            )
        })?;
        // Each executable is read once, checked and certified in memory,
        // and written once.
        let linked = PerArch::try_new(|arch| -> Result<Vec<u8>> {
            let path = &temps[arch];
            let data =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            elf_edit::add_sections(
                path,
                &data,
                &[
                    (MANIFEST_SECTION, &manifest),
                    (CALLSITE_SECTION, &callsite_table),
                ],
            )
        })?;
        let bytes = PerArch::new(|arch| (temps[arch].as_path(), &linked[arch][..]));
        let report = stack_translator::layout::compare_bytes(bytes)?;
        if !report.ok() {
            bail!(
                "layout check failed: {} mismatches between the two executables:\n{}",
                report.mismatches.len(),
                report.mismatches.join("\n")
            );
        }
        let exes = PerArch::try_new(|arch| Executable::parse(&temps[arch], &linked[arch], arch))?;
        let records = check(&exes.0);
        if !records.ok() {
            bail!(
                "record check failed: {} mismatches between the two executables' live-value records:\n{}",
                records.mismatches.len(),
                crate::check::first_mismatches(&records)
            );
        }
        if args.verbose {
            eprintln!(
                "migrate cc: records correspond: {}",
                crate::check::summary(&records)
            );
        }
        let done = store_certificates(&temps, linked, &exes, args.verbose)?;
        for arch in Arch::ALL {
            let tmp = &temps[arch];
            std::fs::write(tmp, &done[arch])
                .with_context(|| format!("cannot write {}", tmp.display()))?;
        }
        for arch in Arch::ALL {
            let out = &outputs[arch];
            std::fs::rename(&temps[arch], out)
                .with_context(|| format!("cannot write {}", out.display()))?;
        }
        Ok(())
    })();
    if result.is_err() {
        for (_, tmp) in temps.iter() {
            let _ = std::fs::remove_file(tmp);
        }
    }
    result
}

/// Certifies both executables (`linked`, to be written at `temps`), adds
/// each one's certificates and frame table as sections and fills in the
/// migratable-sites table of both; prints how many call sites can migrate.
/// Returns the finished executables.
fn store_certificates(
    temps: &PerArch<PathBuf>,
    mut linked: PerArch<Vec<u8>>,
    exes: &PerArch<Executable>,
    verbose: bool,
) -> Result<PerArch<Vec<u8>>> {
    let certs =
        crate::check::certify_both(temps.each_ref(), linked.each_ref().map(|_, d| &d[..]), exes);
    let (sites, untranslatable) = crate::check::migratable(exes, &certs);
    let blob = sites::encode(&sites);
    let mut done = PerArch::<Vec<u8>>::default();
    for arch in Arch::ALL {
        let path = &temps[arch];
        let data = &mut linked[arch];
        let frames = frame_table(data, arch, &certs[arch], verbose)?;
        fill_sites_table(path, data, &blob)?;
        done[arch] = elf_edit::add_sections(
            path,
            data,
            &[
                (CERTIFICATE_SECTION, &certs[arch].encode()),
                (FRAMES_SECTION, &frames),
            ],
        )?;
    }
    if !sites.is_empty() {
        let summaries = certs.each_ref().0.map(crate::check::summarize);
        eprintln!(
            "migrate cc: {}",
            crate::check::sites_summary(&sites, &summaries)
        );
        if untranslatable > 0 && verbose {
            eprintln!(
                "migrate cc: {untranslatable} certified call sites are not migratable: the other \
                 ISA's code reads a value there that this ISA's frame does not keep"
            );
        }
    }
    Ok(done)
}

/// The frame table of one executable (stack-translator's frames.rs): how
/// landmark-rt steps from each certified call site to its caller.
fn frame_table(data: &[u8], arch: Arch, certs: &Certificates, verbose: bool) -> Result<Vec<u8>> {
    let sites = certs
        .records
        .iter()
        .filter_map(|r| r.certificate.as_ref().ok())
        .map(|c| (c.return_address, c.id));
    let isa = stack_translator::isa::of(arch);
    let (rules, skipped) = stack_translator::frames::build(data, isa, sites)?;
    if verbose {
        for why in &skipped {
            eprintln!("migrate cc: {arch}: not in the frame table: {why}");
        }
    }
    Ok(migrate_format::frames::encode(&rules))
}

/// Overwrites the reserved migratable-sites table in `data`, the bytes of
/// the executable at `path` (not yet in place: a temporary name), with
/// `blob`.
fn fill_sites_table(path: &Path, data: &mut [u8], blob: &[u8]) -> Result<()> {
    let file = object::File::parse(&*data)?;
    let Some((offset, size)) = sites::range_in(&file)? else {
        return Ok(()); // no landmarks: nothing reads it
    };
    if size != blob.len() {
        bail!(
            "internal error: {} has a {size}-byte migratable-sites table, expected {}",
            path.display(),
            blob.len()
        );
    }
    data[offset..offset + size].copy_from_slice(blob);
    Ok(())
}

/// `BASE.<isa>`.
pub fn output_path(base: &Path, arch: Arch) -> PathBuf {
    let mut s = base.as_os_str().to_owned();
    s.push(".");
    s.push(arch.name());
    PathBuf::from(s)
}

/// Runs `f` for both ISAs at once (two cores, two independent backends).
fn each_isa(f: impl Fn(&dyn Toolchain) -> Result<()> + Sync) -> Result<()> {
    std::thread::scope(|s| {
        let handles: Vec<_> = isa::all().into_iter().map(|t| s.spawn(|| f(t))).collect();
        handles
            .into_iter()
            .try_for_each(|h| h.join().map_err(|_| anyhow!("build thread panicked"))?)
    })
}

/// Backend options that keep machine-level values the IR never had (the
/// certificate's "hidden state") out of registers and slots live across
/// calls, on both ISAs. Measured on Lua at -O2 (certified records, x86_64 /
/// aarch64): none 88.9% / 83.6%; `-disable-lsr` 92.0 / 91.8;
/// `-disable-machine-licm` 88.7 / 88.6; both 92.3 / 93.7. Runtime cost on
/// x86_64 (codegen_options bench, geomean): lsr 1.015, machine-licm 0.992.
/// `-disable-constant-hoisting` (85.4 / 83.6) and `-disable-cgp` (80.6 /
/// 64.7) made things worse and are not used.
const HIDDEN_STATE_FLAGS: &[&str] = &["-disable-lsr", "-disable-machine-licm"];

/// Added to the default layout of the first link (the aligned link's own
/// script keeps the records too).
const KEEP_RECORDS: &str =
    "SECTIONS { .llvm_stackmaps : { KEEP(*(.llvm_stackmaps)) } } INSERT AFTER .rodata;\n";

/// Links one ISA's executable, writing its map into `work`.
fn ld(
    t: &dyn Toolchain,
    work: &Path,
    script: Option<&Path>,
    out: &Path,
    verbose: bool,
) -> Result<()> {
    let dir = work.join(t.name());
    let crt1 = start_file(t, &dir)?;
    let mut cmd = isa::static_link(
        t,
        Some(&crt1),
        &[dir.join("prog.o"), dir.join("liblandmark.a")],
        out,
    );
    let map = dir.join(format!(
        "{}.map",
        out.file_name().unwrap_or_default().to_string_lossy()
    ));
    cmd.args(["-z", "norelro", "--build-id=sha1", "-z"])
        .arg(format!("max-page-size={:#x}", t.max_page_size()))
        .arg(format!("-Map={}", map.display()));
    match script {
        Some(script) => cmd.arg("-T").arg(script),
        None => {
            // Nothing references the records; keep them from --gc-sections.
            let keep = dir.join("keep-records.ld");
            std::fs::write(&keep, KEEP_RECORDS)?;
            cmd.arg("-T").arg(keep)
        }
    };
    tools::run(&mut cmd, verbose).map(|_| ())
}

/// musl's crt1.o with its call of `main` pointed at landmark-rt's
/// `__landmark_main`, which moves main onto a stack in the migration window
/// (landmark-rt/src/startup.c). Not the linker's --wrap=main: that would
/// also redirect the records' references to main.
fn start_file(t: &dyn Toolchain, dir: &Path) -> Result<PathBuf> {
    let out = dir.join("crt1.o");
    if !out.exists() {
        elf_edit::rename_symbol(
            &t.musl_lib_dir().join("crt1.o"),
            &out,
            "main",
            "__landmark_main",
        )?;
    }
    Ok(out)
}

/// Archives to search, in command-line order: `.a` inputs, then `-l` names
/// found in `-L` directories. musl's own libraries are all in libc.a.
fn archives(args: &CcArgs) -> Result<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> = args
        .objects
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "a"))
        .cloned()
        .collect();
    for lib in &args.libs {
        if LIBC_PARTS.contains(&lib.as_str()) {
            continue;
        }
        let file = format!("lib{lib}.a");
        let found = args
            .lib_dirs
            .iter()
            .map(|d| d.join(&file))
            .find(|p| p.exists());
        match found {
            Some(p) => out.push(p),
            None => bail!(
                "-l{lib}: no {file} in the -L directories; libraries must be built with migrate cc \
                 (static archives of bitcode objects)"
            ),
        }
    }
    Ok(out)
}

fn exported(m: &Module, defined: bool) -> HashSet<String> {
    let mut out = HashSet::new();
    for f in m.get_functions() {
        let is_def = f.count_basic_blocks() > 0;
        let name = f.get_name().to_string_lossy();
        if is_def == defined && !name.starts_with("llvm.") && f.get_linkage() != Linkage::Internal {
            out.insert(name.into_owned());
        }
    }
    for g in m.get_globals() {
        let is_def = g.get_initializer().is_some();
        if is_def == defined
            && g.get_linkage() != Linkage::Internal
            && g.get_linkage() != Linkage::Private
        {
            out.insert(g.get_name().to_string_lossy().into_owned());
        }
    }
    out
}

/// Links in the members of a bitcode archive that define something the
/// program still needs, until nothing more is needed (archive semantics).
fn link_needed_members<'ctx>(
    ctx: &'ctx Context,
    program: &Module<'ctx>,
    archive: &Path,
) -> Result<()> {
    let data =
        std::fs::read(archive).with_context(|| format!("cannot read {}", archive.display()))?;
    let ar = object::read::archive::ArchiveFile::parse(&*data)
        .map_err(|e| anyhow!("{}: not an archive: {e}", archive.display()))?;
    // Each member with what it defines, computed once.
    let mut members: Vec<Option<(String, Module<'ctx>, HashSet<String>)>> = Vec::new();
    for member in ar.members() {
        let member = member.map_err(|e| anyhow!("{}: {e}", archive.display()))?;
        let name = String::from_utf8_lossy(member.name()).into_owned();
        let bytes = member
            .data(&*data)
            .map_err(|e| anyhow!("{}({name}): {e}", archive.display()))?;
        if name == "/" || name == "//" || name.starts_with("__.SYMDEF") {
            continue;
        }
        if !llvm_pass::is_bitcode(bytes) {
            bail!(
                "{}({name}) is a native object: every object must be built with migrate cc",
                archive.display()
            );
        }
        let label = format!("{}({name})", archive.display());
        let module = llvm_pass::load_bitcode_bytes(ctx, bytes, &label)?;
        let defines = exported(&module, true);
        members.push(Some((label, module, defines)));
    }
    loop {
        let needed = exported(program, false);
        let pick = members.iter().position(|m| {
            m.as_ref()
                .is_some_and(|(_, _, defines)| !defines.is_disjoint(&needed))
        });
        let Some(i) = pick else { return Ok(()) };
        let (label, module, _) = members[i].take().unwrap();
        program
            .link_in_module(module)
            .map_err(|e| anyhow!("linking {label}: {}", e.to_string()))?;
    }
}
