//! Changes to linked files, with `object`'s ELF builder instead of
//! `llvm-objcopy` round trips: adding the non-loaded sections a build
//! carries (the builder keeps every loaded section at its file offset, so
//! nothing that runs moves), renaming a symbol.

use anyhow::{anyhow, bail, Context as _, Result};
use object::build::elf::{Builder, SectionData};
use std::path::Path;

/// The ELF file `data` (from `path`, named in messages) with `sections`
/// (name, contents; not loaded) added.
pub fn add_sections(path: &Path, data: &[u8], sections: &[(&str, &[u8])]) -> Result<Vec<u8>> {
    let mut b = Builder::read(data).map_err(|e| anyhow!("{}: cannot edit: {e}", path.display()))?;
    for (name, contents) in sections {
        if b.sections
            .iter()
            .any(|s| s.name.as_slice() == name.as_bytes())
        {
            bail!("{}: already has a {name} section", path.display());
        }
        let s = b.sections.add();
        s.name = name.as_bytes().into();
        s.sh_type = object::elf::SHT_PROGBITS;
        s.sh_flags = 0;
        s.sh_addralign = 1;
        s.data = SectionData::Data(contents.to_vec().into());
    }
    let mut out = Vec::new();
    b.write(&mut out)
        .map_err(|e| anyhow!("{}: cannot write the edited file: {e}", path.display()))?;
    Ok(out)
}

/// Copies the object file `input` to `output` with symbol `from` renamed
/// `to` (definitions and references alike).
pub fn rename_symbol(input: &Path, output: &Path, from: &str, to: &str) -> Result<()> {
    let data = std::fs::read(input).with_context(|| format!("cannot read {}", input.display()))?;
    let mut b =
        Builder::read(&data[..]).map_err(|e| anyhow!("{}: cannot edit: {e}", input.display()))?;
    let mut renamed = 0;
    for sym in b.symbols.iter_mut() {
        if sym.name.as_slice() == from.as_bytes() {
            sym.name = to.as_bytes().to_vec().into();
            renamed += 1;
        }
    }
    if renamed == 0 {
        bail!("{}: no symbol {from}", input.display());
    }
    let mut out = Vec::new();
    b.write(&mut out)
        .map_err(|e| anyhow!("{}: cannot write the edited file: {e}", output.display()))?;
    std::fs::write(output, out).with_context(|| format!("cannot write {}", output.display()))
}
