//! `migrate check`: do the two executables of a build carry corresponding
//! live-value records? Run by every `migrate cc` link, and on its own.

use crate::cc::link::output_path;
use crate::isa;
use anyhow::Result;
use stack_translator::records::{check_files, Report};
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

/// `migrate check BASE [--json]`; returns the exit code.
pub fn main(base: &Path, json: bool) -> Result<i32> {
    let paths = isa::ALL.map(|t| output_path(base, t));
    let report = records([&paths[0], &paths[1]])?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else if report.ok() {
        println!(
            "ok: {}; records correspond in x86_64 and aarch64",
            summary(&report)
        );
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
