//! Certifies every record of an executable: reads its ELF file, decodes
//! each function that has records, and certifies them.

use super::{Function, RecordOutcome, Refusal, RefusalKind};
use crate::isa::{Isa, Memory};
use crate::machine::{Flow, MInst};
use crate::stackmaps::Record;
use crate::{Error, Result};
use std::collections::{BTreeMap, HashMap, HashSet};

/// The loaded sections of an ELF file, for reading jump tables.
struct Image<'d> {
    sections: Vec<(u64, &'d [u8])>,
    stack_guard: Option<u64>,
}

impl Memory for Image<'_> {
    fn read(&self, address: u64, len: usize) -> Option<&[u8]> {
        self.sections.iter().find_map(|(start, data)| {
            let off = address.checked_sub(*start)? as usize;
            data.get(off..off.checked_add(len)?)
        })
    }

    fn stack_guard(&self) -> Option<u64> {
        self.stack_guard
    }
}

/// Functions of at least this many bytes of code are analysed one at a
/// time in the process ([`LARGE_FUNCTION`]).
const LARGE_FUNCTION_BYTES: u64 = 32 * 1024;

/// Held while a large function is analysed and certified: the analysis
/// keeps a value map per basic block (150-200 MB for SQLite's interpreter
/// loop) and `migrate cc` certifies both ISAs at once, in the same order,
/// so their largest functions would otherwise be in memory together. Its
/// memory is given back afterwards ([`crate::return_free_memory`]): with
/// both, `migrate cc` of SQLite peaks at about 500 MB instead of 860.
static LARGE_FUNCTION: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Calls to functions that never return get no successor: the bytes after
/// them are other code (LLVM emits nothing for the `unreachable` after
/// such a call), whose registers must not look live at the call.
fn mark_noreturn_calls(insts: &mut [MInst], noreturn: &HashSet<u64>) {
    for m in insts {
        if matches!(m.flow, Flow::Call { target: Some(t) } if noreturn.contains(&t)) {
            m.flow = Flow::Stop;
        }
    }
}

/// Certifies every record (frame records excepted) of the executable at
/// `path`, built for `isa`.
pub fn certify_file(
    path: &std::path::Path,
    isa: &dyn Isa,
    table: &migrate_format::callsites::CallSiteTable,
) -> Result<Vec<RecordOutcome>> {
    let data = std::fs::read(path).map_err(Error::read(path))?;
    certify_bytes(path, &data, isa, table)
}

/// [`certify_file`] of an executable already read (`path` for messages).
pub fn certify_bytes(
    path: &std::path::Path,
    data: &[u8],
    isa: &dyn Isa,
    table: &migrate_format::callsites::CallSiteTable,
) -> Result<Vec<RecordOutcome>> {
    use object::{Object, ObjectSection, ObjectSymbol, SymbolKind};
    let file = object::File::parse(data).map_err(Error::elf(path, "not an ELF file"))?;
    let image = Image {
        sections: file
            .sections()
            .filter(|s| s.address() != 0)
            .filter_map(|s| Some((s.address(), s.data().ok()?)))
            .collect(),
        stack_guard: file
            .symbols()
            .find(|s| s.name() == Ok("__stack_chk_guard"))
            .map(|s| s.address()),
    };
    let maps = match file.section_by_name(crate::stackmaps::SECTION) {
        Some(s) => {
            let bytes = s.data().map_err(Error::elf(path, "unreadable records"))?;
            crate::stackmaps::StackMaps::parse(bytes).map_err(Error::stack_maps(path))?
        }
        None => return Ok(Vec::new()),
    };
    let functions: BTreeMap<u64, u64> = file
        .symbols()
        .filter(|s| s.kind() == SymbolKind::Text && s.is_definition() && s.size() > 0)
        .map(|s| (s.address(), s.size()))
        .collect();
    let noreturn: HashSet<u64> = file
        .symbols()
        .filter(|s| s.kind() == SymbolKind::Text && s.is_definition())
        .filter(|s| {
            s.name().is_ok_and(|n| {
                table
                    .noreturn
                    .binary_search_by(|f| f.as_str().cmp(n))
                    .is_ok()
            })
        })
        .map(|s| s.address())
        .collect();
    // A va_list points into its function's frame (the register save area,
    // the caller's stack arguments), whose layout differs between the ISAs:
    // every record of such a function is refused, so a migration waits for
    // it to return.
    let va_list_starts: HashSet<u64> = file
        .symbols()
        .filter(|s| s.kind() == SymbolKind::Text && s.is_definition())
        .filter(|s| {
            s.name().is_ok_and(|n| {
                table
                    .va_list_functions
                    .binary_search_by(|f| f.as_str().cmp(n))
                    .is_ok()
            })
        })
        .map(|s| s.address())
        .collect();
    let mut by_function: BTreeMap<u64, Vec<&Record>> = BTreeMap::new();
    let mut frame_records: HashMap<u64, &Record> = HashMap::new();
    for r in &maps.records {
        if r.id < migrate_format::callsites::FRAME_ID_BASE {
            by_function.entry(r.function).or_default().push(r);
        } else {
            frame_records.insert(r.function, r);
        }
    }
    let mut out = Vec::new();
    for (start, records) in by_function {
        let large = functions
            .get(&start)
            .is_some_and(|&size| size >= LARGE_FUNCTION_BYTES);
        // (A thread that panicked holding it left nothing to repair.)
        let _one_at_a_time =
            large.then(|| LARGE_FUNCTION.lock().unwrap_or_else(|e| e.into_inner()));
        let analysed = functions
            .get(&start)
            .ok_or_else(|| Refusal::new(RefusalKind::NoFunctionSymbol, Some(start), ""))
            .and_then(|&size| {
                let code = image
                    .read(start, size as usize)
                    .ok_or_else(|| Refusal::new(RefusalKind::FunctionNotLoaded, Some(start), ""))?;
                let mut insts = isa.decode(code, start, &image).map_err(|e| {
                    Refusal::new(RefusalKind::Undecodable, Some(start), e.to_string())
                })?;
                mark_noreturn_calls(&mut insts, &noreturn);
                let frame = frame_records
                    .get(&start)
                    .and_then(|fr| Some((*fr, &table.frame(fr.id)?.allocas[..])));
                Function::new(isa, insts, &image, frame)
            });
        let allocas = match &analysed {
            Ok(f) => f.allocas().to_vec(),
            Err(_) => Vec::new(),
        };
        for r in records {
            let certificate = match &analysed {
                _ if va_list_starts.contains(&start) => Err(Refusal::new(
                    RefusalKind::VaListInFrame,
                    Some(start),
                    "the function calls va_start",
                )),
                Ok(f) => f.certify(r, &allocas),
                Err(e) => Err(e.clone()),
            };
            out.push(RecordOutcome {
                id: r.id,
                record_address: r.address(),
                certificate,
            });
        }
        if large {
            drop(analysed);
            crate::return_free_memory();
        }
    }
    Ok(out)
}
