//! Parses the link map that ld.lld writes with `-Map`.
//!
//! The map is the linker's own account of which input sections it kept, from
//! which file or archive member, with their sizes, alignments and symbols:
//! exactly what the aligner needs, and nothing we would have to re-derive
//! from archive-member selection rules.
//!
//! ```text
//!              VMA              LMA     Size Align Out     In      Symbol
//!           201f00           201f00       43    16 .text
//!           201f00           201f00       43    16         prog.o:(.text.main)
//!           201f00           201f00       43     1                 main
//! ```

use anyhow::{bail, Context, Result};

/// One input section the linker kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputSection {
    /// Output section it went to in this link (`.text`, `.rodata`, ...).
    pub output: String,
    /// Address of that output section; 0 for sections not loaded (debug info).
    pub output_vma: u64,
    /// `path` or `archive(member)`, as lld prints it; `<internal>` for
    /// sections the linker made itself.
    pub file: String,
    /// Section name in the input file.
    pub section: String,
    pub size: u64,
    pub align: u64,
    /// Its address in this link.
    pub vma: u64,
    /// Symbols defined in it with their addresses, in map order.
    pub symbols: Vec<(String, u64)>,
}

const IN_INDENT: usize = 8;
const SYM_INDENT: usize = 16;

/// Parses a whole map file.
pub fn parse(text: &str) -> Result<Vec<InputSection>> {
    let mut out: Vec<InputSection> = Vec::new();
    let mut current_output = String::new();
    let mut current_vma = 0;
    // lld prints thread-local symbols as offsets from the TLS segment, which
    // starts at the first TLS output section; convert them to addresses.
    let mut tls_base: Option<u64> = None;
    for (n, line) in text.lines().enumerate().skip(1) {
        let parsed =
            parse_line(line).with_context(|| format!("link map line {}: {line:?}", n + 1))?;
        let Some((vma, size, align, rest)) = parsed else {
            continue;
        };
        let indent = rest.len() - rest.trim_start().len();
        let name = rest.trim_start();
        if indent == 0 {
            current_output = name.to_string();
            current_vma = vma;
            if is_tls(name) && tls_base.is_none() {
                tls_base = Some(vma);
            }
        } else if indent == IN_INDENT {
            let (file, section) = split_input(name)?;
            out.push(InputSection {
                output: current_output.clone(),
                output_vma: current_vma,
                file,
                section,
                size,
                align,
                vma,
                symbols: Vec::new(),
            });
        } else if indent == SYM_INDENT {
            if let Some(last) = out.last_mut() {
                let address = match tls_base {
                    Some(base) if is_tls(&last.output) => base + vma,
                    _ => vma,
                };
                last.symbols.push((name.to_string(), address));
            }
        }
    }
    Ok(out)
}

fn is_tls(output: &str) -> bool {
    output == ".tdata" || output == ".tbss"
}

/// Splits the four number columns from the name column.
fn parse_line(line: &str) -> Result<Option<(u64, u64, u64, &str)>> {
    // Columns: VMA (16) LMA (17) Size (9) Align (6), then a space.
    const NAME_COL: usize = 16 + 1 + 16 + 1 + 8 + 1 + 5 + 1;
    if line.len() <= NAME_COL {
        return Ok(None);
    }
    let nums: Vec<&str> = line[..NAME_COL].split_whitespace().collect();
    if nums.len() != 4 {
        bail!("expected four numeric columns");
    }
    let hex = |s: &str| u64::from_str_radix(s, 16).with_context(|| format!("bad number {s:?}"));
    Ok(Some((
        hex(nums[0])?,
        hex(nums[2])?,
        nums[3].parse::<u64>()?,
        &line[NAME_COL..],
    )))
}

/// `file:(section)` or `file:(section+0x10)` into (file, section).
fn split_input(s: &str) -> Result<(String, String)> {
    let Some(open) = s.rfind(":(") else {
        bail!("no ':(' in input section {s:?}")
    };
    let file = s[..open].to_string();
    let mut section = s[open + 2..].trim_end_matches(')').to_string();
    if let Some(plus) = section.find("+0x") {
        section.truncate(plus);
    }
    Ok((file, section))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAP: &str = "             VMA              LMA     Size Align Out     In      Symbol
          2001e0           2001e0      c7a    32 .rodata
          2001e0           2001e0       5d     1         <internal>:(.rodata.str1.1)
          200250           200250       48     4         /usr/lib/x86_64-linux-musl/libc.a(vfprintf.lo):(.rodata.pop_arg)
          200e60           200e60       44     8 .eh_frame
          200e60           200e60       40     1         prog.o:(.eh_frame+0x0)
          201f00           201f00       43    16 .text
          201f00           201f00       43    16         prog.o:(.text.main)
          201f00           201f00       43     1                 main
";

    #[test]
    fn thread_local_symbols_get_addresses() {
        let map = "             VMA              LMA     Size Align Out     In      Symbol
          2069d0           2069d0        c     8 .tdata
          2069d8           2069d8        4     4         prog.o:(.tdata.counter)
               8                8        4     1                 counter
          2069e0           2069e0      200     8 .tbss
          2069e0           2069e0      200     8         prog.o:(.tbss.big)
              10               10      200     1                 big
";
        let v = parse(map).unwrap();
        assert_eq!(v[0].symbols, vec![("counter".to_string(), 0x2069d8)]);
        assert_eq!(v[1].symbols, vec![("big".to_string(), 0x2069e0)]);
    }

    #[test]
    fn parses_inputs_and_symbols() {
        let v = parse(MAP).unwrap();
        assert_eq!(v.len(), 4);
        assert_eq!(v[1].file, "/usr/lib/x86_64-linux-musl/libc.a(vfprintf.lo)");
        assert_eq!(v[1].section, ".rodata.pop_arg");
        assert_eq!((v[1].size, v[1].align), (0x48, 4));
        assert_eq!(v[2].section, ".eh_frame");
        assert_eq!(v[3].output, ".text");
        assert_eq!(v[3].symbols, vec![("main".to_string(), 0x201f00)]);
    }
}
