//! aarch64: the ISA the IR is produced for, so nothing needs bridging.

use super::IrIsa;
use crate::Result;
use inkwell::module::Module;
use inkwell::targets::{InitializationConfig, Target};
use migrate_format::Arch;

pub struct Aarch64;

impl IrIsa for Aarch64 {
    fn arch(&self) -> Arch {
        Arch::Aarch64
    }
    fn cpu(&self) -> &'static str {
        "generic"
    }
    fn features(&self) -> &'static str {
        "+fp-armv8,+neon,+v8a"
    }
    fn initialize(&self) {
        Target::initialize_aarch64(&InitializationConfig::default());
    }
    fn bridge_abi(&self, _module: &Module) -> Result<()> {
        Ok(())
    }
}
