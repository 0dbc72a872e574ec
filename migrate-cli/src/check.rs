//! `migrate check`: do the two executables of a build carry corresponding
//! live-value records? Run by every `migrate cc` link, and on its own.

use crate::cc::link::output_path;
use crate::isa;
use anyhow::Result;
use serde::Serialize;
use stack_translator::certify::{certify_file, Explanation};
use stack_translator::isa as tisa;
use stack_translator::records::{check, check_files, Executable, Report};
use std::collections::BTreeMap;
use std::path::Path;

/// How many mismatches a failed check shows.
const SHOWN: usize = 20;

/// Checks the executables at `paths` (x86_64 first).
pub fn records(paths: [&Path; 2]) -> Result<Report> {
    check_files(paths, isa::ALL.map(|t| t.name()))
}

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
    pub isa: String,
    /// Records (call-site copies) examined.
    pub records: usize,
    /// Of those, with every live location explained.
    pub certified: usize,
    /// Why the others are not, most frequent first: (reason, records).
    pub reasons: Vec<(String, usize)>,
    /// Set when this ISA's executable could not be examined at all.
    pub unavailable: Option<String>,
}

/// Certifies every record of `exe`, the executable of `isa` at `path`.
pub fn certify(path: &Path, isa: &dyn tisa::Isa, exe: &Executable) -> Result<Certified> {
    let outcomes = match certify_file(path, isa, &exe.table) {
        Ok(o) => o,
        Err(e) => {
            return Ok(Certified {
                isa: isa.name().into(),
                records: 0,
                certified: 0,
                reasons: vec![],
                unavailable: Some(format!("{e:#}")),
            })
        }
    };
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    let mut certified = 0;
    for o in &outcomes {
        let why = match &o.certificate {
            Ok(c) if c.migratable() => {
                certified += 1;
                continue;
            }
            Ok(c) => c
                .live
                .iter()
                .find_map(|(_, e)| match e {
                    Explanation::Unknown { why } => Some(reason_kind(why)),
                    _ => None,
                })
                .unwrap_or_default(),
            Err(e) => reason_kind(e),
        };
        *reasons.entry(why).or_default() += 1;
    }
    let mut reasons: Vec<(String, usize)> = reasons.into_iter().collect();
    reasons.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    Ok(Certified {
        isa: isa.name().into(),
        records: outcomes.len(),
        certified,
        reasons,
        unavailable: None,
    })
}

/// A reason without its addresses, so that equal causes group together.
fn reason_kind(why: &str) -> String {
    why.split(" at 0x")
        .next()
        .unwrap_or(why)
        .split(" (")
        .next()
        .unwrap_or(why)
        .to_string()
}

/// `migrate check BASE [--certify] [--json]`; returns the exit code.
pub fn main(base: &Path, certify_too: bool, json: bool) -> Result<i32> {
    let paths = isa::ALL.map(|t| output_path(base, t));
    let exes = [
        Executable::read(&paths[0], tisa::ALL[0].name())?,
        Executable::read(&paths[1], tisa::ALL[1].name())?,
    ];
    let report = check(&exes);
    let certified = if certify_too && report.ok() {
        (0..2)
            .map(|i| certify(&paths[i], tisa::ALL[i], &exes[i]))
            .collect::<Result<Vec<_>>>()?
    } else {
        Vec::new()
    };
    if json {
        let mut value = serde_json::to_value(&report)?;
        if certify_too {
            value["certificates"] = serde_json::to_value(&certified)?;
        }
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else if report.ok() {
        println!(
            "ok: {}; records correspond in x86_64 and aarch64",
            summary(&report)
        );
        for c in &certified {
            print_certified(c);
        }
    } else {
        println!("{}", first_mismatches(&report));
        println!(
            "FAILED: {} mismatches in {}",
            report.mismatches.len(),
            summary(&report)
        );
    }
    Ok(if report.ok() { 0 } else { 1 })
}

fn print_certified(c: &Certified) {
    if let Some(why) = &c.unavailable {
        println!("{}: not certified: {why}", c.isa);
        return;
    }
    println!(
        "{}: {} of {} records certified ({:.1}%)",
        c.isa,
        c.certified,
        c.records,
        100.0 * c.certified as f64 / c.records.max(1) as f64
    );
    for (why, n) in c.reasons.iter().take(SHOWN) {
        println!("  {n:6}  {why}");
    }
    if c.reasons.len() > SHOWN {
        println!("  ... and {} more kinds", c.reasons.len() - SHOWN);
    }
}
