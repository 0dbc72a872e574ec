//! `migrate inspect BASE --callsites [--json]`: every recorded call site of
//! a build, with both ISAs' locations side by side.

use crate::cc::link::output_path;
use anyhow::{bail, Result};
use migrate_format::callsites::{Base, CallKind, CallSite, Frame};
use migrate_format::certificates::{Explanation, Loc};
use migrate_format::{Arch, PerArch};
use serde::Serialize;
use stack_translator::isa as tisa;
use stack_translator::records::{site_description, Executable};
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

/// One call site, as printed and as JSON.
#[derive(Serialize)]
struct SiteView {
    id: u64,
    function: String,
    kind: String,
    source: Option<String>,
    /// Addresses of the record's point, per ISA (x86_64 first): more than
    /// one where the backend duplicated the call. Locations are the first
    /// copy's.
    record_addresses: [Vec<u64>; 2],
    values: Vec<PartView>,
    /// In-use fixed-size allocations: (index, size, frame address per ISA).
    allocas: Vec<AllocaView>,
    derived: Vec<String>,
    /// Per ISA, the certificate of the first record copy: every location
    /// live at the return address and what it holds.
    certificates: [CertView; 2],
}

#[derive(Serialize, Default)]
struct CertView {
    migratable: bool,
    /// (location, explanation) pairs.
    live: Vec<(String, String)>,
    /// Why there is no certificate, if there is none.
    error: Option<String>,
}

#[derive(Serialize)]
struct PartView {
    value: u32,
    offset: u32,
    size: u32,
    ty: String,
    pointer: bool,
    dynamic_alloca: bool,
    /// Where the part is at the record's point, per ISA.
    locations: [Option<String>; 2],
}

#[derive(Serialize)]
struct AllocaView {
    index: u32,
    size: u64,
    locations: [Option<String>; 2],
}

/// Runs the command; returns the exit code.
pub fn main(base: &Path, callsites: bool, function: Option<&str>, json: bool) -> Result<i32> {
    if !callsites {
        // Not an image file (main sends those to inspect_image): say what
        // the path is.
        let built = Arch::ALL.iter().any(|a| output_path(base, *a).is_file());
        if base.is_dir() {
            bail!("{} is a directory, not a checkpoint image", base.display());
        } else if built {
            bail!(
                "{} is a build: say what to inspect (--callsites), or give a checkpoint image",
                base.display()
            );
        } else if !base.exists() {
            bail!(
                "{}: no such file (give a checkpoint image, or a build's base name with --callsites)",
                base.display()
            );
        }
        bail!("{}: not a checkpoint image", base.display());
    }
    let paths = PerArch::new(|arch| output_path(base, arch));
    let exes = PerArch::try_new(|arch| Executable::read(&paths[arch], arch))?.0;
    let table = &exes[0].table;
    let certs =
        Arch::ALL.map(|arch| certificates(&paths[arch], tisa::of(arch), &exes[arch.index()]));
    let views: Vec<SiteView> = table
        .sites
        .iter()
        .filter(|s| function.is_none_or(|f| s.function == f))
        .map(|s| view(s, table.frame_of(&s.function), &exes, &certs))
        .collect();
    if let (Some(f), true) = (function, views.is_empty()) {
        bail!("no recorded call site in a function named {f}");
    }
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &views)?;
        writeln!(out)?;
        return Ok(0);
    }
    writeln!(out, "{:<18} {:<24} aarch64", "", "x86_64")?;
    for (site, v) in table
        .sites
        .iter()
        .filter(|s| function.is_none_or(|f| s.function == f))
        .zip(&views)
    {
        print_site(&mut out, site, v)?;
    }
    Ok(0)
}

/// Certificates of the first copy of every call site of one executable, by
/// ID: the ones the build stored, or (an executable from an older build)
/// computed now.
fn certificates(path: &Path, isa: &dyn tisa::Isa, exe: &Executable) -> HashMap<u64, CertView> {
    let computed;
    let outcomes = match &exe.certificates {
        Some(stored) => &stored.records,
        None => {
            computed = match std::fs::read(path) {
                Ok(data) => crate::check::certify(path, &data, isa, exe),
                Err(_) => return HashMap::new(),
            };
            &computed.records
        }
    };
    let mut out = HashMap::new();
    for o in outcomes {
        out.entry(o.id).or_insert_with(|| match &o.certificate {
            Ok(c) => CertView {
                migratable: c.migratable(),
                live: c
                    .live
                    .iter()
                    .map(|(loc, e)| (loc_name(isa, *loc), explain(isa, e)))
                    .collect(),
                error: None,
            },
            Err(e) => CertView {
                error: Some(e.to_string()),
                ..Default::default()
            },
        });
    }
    out
}

fn loc_name(isa: &dyn tisa::Isa, loc: Loc) -> String {
    match loc {
        Loc::Reg { reg } => isa.register_name(reg),
        Loc::Slot { offset } => format!("[cfa{offset:+}]"),
    }
}

fn explain(isa: &dyn tisa::Isa, e: &Explanation) -> String {
    match e {
        Explanation::Recorded { part, plus: 0 } => format!("part {part}"),
        Explanation::Recorded { part, plus } => format!("part {part} {plus:+}"),
        Explanation::Scaled {
            part,
            times,
            plus,
            frame,
        } => {
            let cfa = if *frame { "cfa + " } else { "" };
            match plus {
                0 => format!("{cfa}part {part} * {times}"),
                _ => format!("{cfa}part {part} * {times} {plus:+}"),
            }
        }
        Explanation::CallResult => "call result".into(),
        Explanation::Clobbered => "clobbered".into(),
        Explanation::Undefined => "undefined (never written)".into(),
        Explanation::Canary => "the stack-protector guard".into(),
        Explanation::Narrow { part, at: 0, size } => format!("low {size} bytes of part {part}"),
        Explanation::Narrow { part, at, size } => {
            format!("low {size} bytes of part {part} at byte {at}")
        }
        Explanation::Extended {
            part,
            size,
            signed,
            to32,
            times,
            plus,
            frame,
            half,
        } => {
            let how = match (signed, to32) {
                (false, _) => "zero",
                (true, false) => "sign",
                (true, true) => "sign (to 32 bits)",
            };
            let mut text = format!("low {size} bytes of part {part}, {how}-extended");
            if *times != 1 {
                text += &format!(", * {times}");
            }
            if *plus != 0 {
                text += &format!(", {plus:+}");
            }
            if *frame {
                text += ", + cfa";
            }
            if *half != 0 {
                text += &format!(", bytes {}-{}", 4 * half, 4 * half + 3);
            }
            text
        }
        Explanation::Sum { a, b, times, plus } => {
            let mut text = format!("part {a} + part {b}");
            if *times != 1 {
                text += &format!(" * {times}");
            }
            if *plus != 0 {
                text += &format!(" {plus:+}");
            }
            text
        }
        Explanation::Constant { value } => format!("constant {value:#x}"),
        Explanation::Splat { value } => format!("constant {value:#x} in every lane"),
        Explanation::FrameAddress { offset } => format!("frame address cfa{offset:+}"),
        Explanation::AllocaContents { alloca } => format!("alloca {alloca}"),
        Explanation::Upper { of, part: 1 } => {
            format!("upper half of {}", explain(isa, of))
        }
        Explanation::Upper { of, part } => {
            format!(
                "bytes {}-{} of {}",
                4 * part,
                4 * part + 3,
                explain(isa, of)
            )
        }
        Explanation::CallersValue { of } => format!("caller's {}", loc_name(isa, *of)),
        Explanation::Unknown { why } => format!("UNKNOWN: {why}"),
    }
}

fn view(
    site: &CallSite,
    frame: Option<&Frame>,
    exes: &[Executable; 2],
    certs: &[HashMap<u64, CertView>; 2],
) -> SiteView {
    let copies = |i: usize, id: u64| exes[i].records.get(&id).map_or(&[][..], |c| &c[..]);
    let records = [0, 1].map(|i| copies(i, site.id).first());
    let values = site
        .values
        .iter()
        .enumerate()
        .map(|(k, p)| PartView {
            value: p.value,
            offset: p.offset,
            size: p.size,
            ty: p.ty.clone(),
            pointer: p.pointer,
            dynamic_alloca: p.dynamic_alloca,
            locations: [0, 1].map(|i| {
                records[i]
                    .and_then(|r| r.locations.get(k))
                    .map(|l| l.render(tisa::of(Arch::ALL[i])))
            }),
        })
        .collect();
    let frame_records = frame.map(|f| [0, 1].map(|i| copies(i, f.id).first()));
    let allocas = site
        .allocas
        .iter()
        .map(|&a| AllocaView {
            index: a,
            size: frame
                .and_then(|f| f.allocas.get(a as usize))
                .copied()
                .unwrap_or(0),
            locations: [0, 1].map(|i| {
                frame_records
                    .and_then(|r| r[i])
                    .and_then(|r| r.locations.get(a as usize))
                    .map(|l| l.render(tisa::of(Arch::ALL[i])))
            }),
        })
        .collect();
    let derived = site
        .derived
        .iter()
        .map(|d| {
            let base = match &d.base {
                Base::Alloca(a) => format!("alloca {a}"),
                Base::Value(v) => format!("value {v}"),
                Base::Symbol(s) => s.clone(),
            };
            format!("value {} = {base} {:+}", d.value, d.offset)
        })
        .collect();
    SiteView {
        id: site.id,
        function: site.function.clone(),
        kind: match &site.kind {
            CallKind::Direct(f) => format!("call {f}"),
            CallKind::Indirect => "indirect call".into(),
            CallKind::Landmark(id) => format!("landmark {id}"),
            CallKind::ReturnsTwice(f) => format!("call {f} (returns twice)"),
        },
        source: site.location.as_ref().map(|(f, l)| format!("{f}:{l}")),
        record_addresses: [0, 1].map(|i| copies(i, site.id).iter().map(|r| r.address()).collect()),
        values,
        allocas,
        derived,
        certificates: [0, 1].map(|i| {
            certs[i].get(&site.id).map_or_else(
                || CertView {
                    error: Some("no record".into()),
                    ..Default::default()
                },
                |c| CertView {
                    migratable: c.migratable,
                    live: c.live.clone(),
                    error: c.error.clone(),
                },
            )
        }),
    }
}

fn print_site(out: &mut impl Write, site: &CallSite, v: &SiteView) -> Result<()> {
    let addr = |a: &[u64]| match a {
        [] => "-".to_string(),
        [one] => format!("{one:#x}"),
        [first, rest @ ..] => format!("{first:#x} (+{} copies)", rest.len()),
    };
    writeln!(out, "{}", site_description(site))?;
    writeln!(
        out,
        "  record at        {:<24} {}",
        addr(&v.record_addresses[0]),
        addr(&v.record_addresses[1])
    )?;
    let loc = |l: &Option<String>| l.clone().unwrap_or_else(|| "-".into());
    for p in &v.values {
        let what = format!(
            "v{}{} {}{}",
            p.value,
            if p.offset > 0 {
                format!("+{}", p.offset)
            } else {
                String::new()
            },
            p.ty,
            if p.dynamic_alloca { " (vla)" } else { "" }
        );
        writeln!(
            out,
            "  {:<16} {:<24} {}",
            what,
            loc(&p.locations[0]),
            loc(&p.locations[1])
        )?;
    }
    for a in &v.allocas {
        writeln!(
            out,
            "  {:<16} {:<24} {}",
            format!("alloca {} [{}]", a.index, a.size),
            loc(&a.locations[0]),
            loc(&a.locations[1])
        )?;
    }
    for d in &v.derived {
        writeln!(out, "  {d}")?;
    }
    for (isa, c) in Arch::ALL.map(tisa::of).iter().zip(&v.certificates) {
        let verdict = match (&c.error, c.migratable) {
            (Some(e), _) => format!("not migratable: {e}"),
            (None, true) => "migratable".into(),
            (None, false) => "NOT migratable".into(),
        };
        writeln!(out, "  {} at the return address: {verdict}", isa.name())?;
        let line: Vec<String> = c.live.iter().map(|(l, e)| format!("{l}={e}")).collect();
        if !line.is_empty() {
            writeln!(out, "    {}", line.join(", "))?;
        }
    }
    Ok(())
}
