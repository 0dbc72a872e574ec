//! `migrate check`: do the two executables of a build carry corresponding
//! live-value records? Run by every `migrate cc` link, and on its own.

use crate::cc::link::output_path;
use anyhow::{Context as _, Result};
use migrate_format::callsites::FRAME_ID_BASE;
use migrate_format::certificates::{
    migratable_sites, Certificates, RecordOutcome, Refusal, RefusalKind,
};
use migrate_format::{Arch, PerArch};
use serde::Serialize;
use stack_translator::certify::certify_bytes;
use stack_translator::isa as tisa;
use stack_translator::records::{check, Executable, Report};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

/// How many mismatches a failed check shows.
const SHOWN: usize = 20;

/// The first mismatches of a failed check, one per line.
pub fn first_mismatches(report: &Report) -> String {
    let mut lines: Vec<String> = report.mismatches.iter().take(SHOWN).cloned().collect();
    if report.mismatches.len() > SHOWN {
        lines.push(format!("... and {} more", report.mismatches.len() - SHOWN));
    }
    lines.join("\n")
}

/// One line: what was checked.
pub fn summary(report: &Report) -> String {
    format!(
        "{} call sites ({} landmarks), {} frame records, {} recorded locations",
        report.call_sites, report.landmark_sites, report.frames, report.locations
    )
}

/// Certification results of one ISA's executable.
#[derive(Serialize)]
pub struct Certified {
    pub isa: Arch,
    /// Records (call-site copies) examined.
    pub records: usize,
    /// Of those, with every live location explained.
    pub certified: usize,
    /// Why the others are not, most frequent first: (reason, records).
    pub reasons: Vec<(String, usize)>,
}

/// Certifies every record of `exe`, the executable of `isa` at `path`,
/// whose bytes are `data`. If the file cannot be examined at all, every
/// record carries that reason.
pub fn certify(path: &Path, data: &[u8], isa: &dyn tisa::Isa, exe: &Executable) -> Certificates {
    let records = certify_bytes(path, data, isa, &exe.table).unwrap_or_else(|e| {
        // The message and its causes (`{:#}` of an anyhow::Error).
        let why = Refusal::new(
            RefusalKind::UnreadableExecutable,
            None,
            format!("{:#}", anyhow::Error::from(e)),
        );
        exe.records
            .values()
            .flatten()
            .filter(|r| r.id < FRAME_ID_BASE)
            .map(|r| RecordOutcome {
                id: r.id,
                record_address: r.address(),
                certificate: Err(why.clone()),
            })
            .collect()
    });
    Certificates {
        isa: isa.arch(),
        records,
    }
}

/// Certifies both executables of a build at once (one core each).
pub fn certify_both(
    paths: PerArch<&std::path::PathBuf>,
    data: PerArch<&[u8]>,
    exes: &PerArch<Executable>,
) -> PerArch<Certificates> {
    std::thread::scope(|s| {
        let handles = PerArch::new(|arch| {
            s.spawn(move || certify(paths[arch], data[arch], tisa::of(arch), &exes[arch]))
        });
        handles.map(|_, h| h.join().expect("certification thread panicked"))
    })
}

/// The migratable-sites flags of a build: call sites certified on both
/// ISAs whose frames can also be translated both ways (every value the
/// other ISA's code reads is one this ISA's frame keeps;
/// `stack_translator::translate::feasible`). Also returns how many
/// certified sites that second condition took away.
pub fn migratable(exes: &PerArch<Executable>, certs: &PerArch<Certificates>) -> (Vec<bool>, usize) {
    use stack_translator::translate::feasible::{obstacle, Certified};
    let mut sites = migratable_sites(exes[Arch::X86_64].table.sites.len(), certs.each_ref().0);
    let side = |arch: Arch| Certified {
        exe: &exes[arch],
        certificates: &certs[arch],
        isa: tisa::of(arch),
    };
    let mut untranslatable = 0;
    for site in &exes[Arch::X86_64].table.sites {
        let Some(flag) = sites.get_mut(site.id as usize) else {
            continue;
        };
        if *flag
            && Arch::ALL
                .iter()
                .any(|&a| obstacle(&side(a), &side(a.other()), site).is_some())
        {
            *flag = false;
            untranslatable += 1;
        }
    }
    (sites, untranslatable)
}

/// Counts certified records and groups the reasons of the others.
pub fn summarize(c: &Certificates) -> Certified {
    let mut reasons: BTreeMap<RefusalKind, usize> = BTreeMap::new();
    let mut certified = 0;
    for o in &c.records {
        match o.refusal_kind() {
            None => certified += 1,
            Some(kind) => *reasons.entry(kind).or_default() += 1,
        }
    }
    let mut reasons: Vec<(String, usize)> = reasons
        .into_iter()
        .map(|(kind, n)| (kind.to_string(), n))
        .collect();
    reasons.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    Certified {
        isa: c.isa,
        records: c.records.len(),
        certified,
        reasons,
    }
}

/// One line: how many call sites can migrate, and each ISA's certified
/// fraction of records.
pub fn sites_summary(sites: &[bool], both: &[Certified]) -> String {
    let n = sites.iter().filter(|m| **m).count();
    let per_isa: Vec<String> = both
        .iter()
        .map(|c| format!("{} {}", c.isa, percent(c.certified, c.records)))
        .collect();
    format!(
        "{n} of {} call sites migratable ({}); records certified: {}",
        sites.len(),
        percent(n, sites.len()),
        per_isa.join(", ")
    )
}

fn percent(part: usize, whole: usize) -> String {
    format!("{:.1}%", 100.0 * part as f64 / whole.max(1) as f64)
}

/// `migrate check BASE [--certify] [--json]`; returns the exit code.
///
/// With `--certify`, the certificates are computed afresh and compared with
/// the ones the build stored: a difference (an executable modified after
/// the build) fails the check.
pub fn main(base: &Path, certify_too: bool, json: bool) -> Result<i32> {
    let paths = PerArch::new(|arch| output_path(base, arch));
    let data = PerArch::try_new(|arch| {
        std::fs::read(&paths[arch])
            .with_context(|| format!("cannot read {}", paths[arch].display()))
    })?;
    let exes = PerArch::try_new(|arch| Executable::parse(&paths[arch], &data[arch], arch))?;
    let mut report = check(&exes.0);
    let mut certified = Vec::new();
    let mut sites = Vec::new();
    if certify_too && report.ok() {
        let fresh = certify_both(paths.each_ref(), data.each_ref().map(|_, d| &d[..]), &exes);
        sites = migratable(&exes, &fresh).0;
        for arch in Arch::ALL {
            report
                .mismatches
                .extend(stored_mismatch(&exes[arch], &fresh[arch], &sites));
        }
        certified = fresh.0.iter().map(summarize).collect();
    }
    // Written through a handle, not println!, so that a closed pipe
    // (`| head`) is an error main() treats as the end, not a panic.
    let mut out = std::io::stdout().lock();
    if json {
        let mut value = serde_json::to_value(&report)?;
        if certify_too {
            value["certificates"] = serde_json::to_value(&certified)?;
            value["migratable_sites"] = sites.iter().filter(|m| **m).count().into();
        }
        writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
    } else if report.ok() {
        writeln!(
            out,
            "ok: {}; records correspond in x86_64 and aarch64",
            summary(&report)
        )?;
        if certify_too {
            writeln!(out, "{}", sites_summary(&sites, &certified))?;
            for c in &certified {
                print_certified(&mut out, c)?;
            }
        }
    } else {
        writeln!(out, "{}", first_mismatches(&report))?;
        writeln!(
            out,
            "FAILED: {} mismatches in {}",
            report.mismatches.len(),
            summary(&report)
        )?;
    }
    Ok(if report.ok() { 0 } else { 1 })
}

/// Why the certificates and migratable sites `exe` carries are not the
/// ones just computed, if they are not.
fn stored_mismatch(exe: &Executable, fresh: &Certificates, sites: &[bool]) -> Option<String> {
    let rebuild = "(built by another version of migrate, or modified since: rebuild it)";
    match (&exe.certificates, &exe.sites) {
        (None, _) => Some(format!(
            "{}: no {} section {rebuild}",
            exe.isa,
            migrate_format::certificates::SECTION
        )),
        (Some(stored), _) if stored != fresh => Some(format!(
            "{}: the stored certificates differ from the code {rebuild}",
            exe.isa
        )),
        (_, Some(stored)) if stored != sites => Some(format!(
            "{}: the migratable-sites table differs from the certificates {rebuild}",
            exe.isa
        )),
        _ => None,
    }
}

fn print_certified(out: &mut impl Write, c: &Certified) -> std::io::Result<()> {
    writeln!(
        out,
        "{}: {} of {} records certified ({})",
        c.isa,
        c.certified,
        c.records,
        percent(c.certified, c.records)
    )?;
    for (why, n) in c.reasons.iter().take(SHOWN) {
        writeln!(out, "  {n:6}  {why}")?;
    }
    if c.reasons.len() > SHOWN {
        writeln!(out, "  ... and {} more kinds", c.reasons.len() - SHOWN)?;
    }
    Ok(())
}
