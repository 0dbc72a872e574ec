//! Which ISA: the one type every crate joins on.

use std::fmt;
use std::str::FromStr;

/// An instruction set the toolchain builds for and migrates between.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
pub enum Arch {
    #[cfg_attr(
        feature = "clap",
        value(name = "x86_64", alias = "x86-64", alias = "amd64")
    )]
    X86_64,
    #[cfg_attr(feature = "clap", value(name = "aarch64", alias = "arm64"))]
    Aarch64,
}

/// The ISA whose headers and ABI the single IR is produced for (DESIGN.md
/// decision 3: its `long double`, IEEE quad, can be lowered on both ISAs;
/// x86's 80-bit one cannot be lowered for aarch64).
pub const IR_ARCH: Arch = Arch::Aarch64;

/// The largest page size of any ISA: segment and image alignment, so that
/// layouts and images work on every kernel either ISA runs.
pub const MAX_PAGE_SIZE: u64 = {
    let (a, b) = (Arch::X86_64.max_page_size(), Arch::Aarch64.max_page_size());
    if a > b {
        a
    } else {
        b
    }
};

impl Arch {
    /// Both, in the order every pair ([`PerArch`]) keeps them.
    pub const ALL: [Arch; 2] = [Arch::X86_64, Arch::Aarch64];

    /// The name used in file names (`prog.x86_64`), messages and JSON.
    pub const fn name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Aarch64 => "aarch64",
        }
    }

    /// The LLVM target triple the backends lower for (static musl).
    pub const fn triple(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64-unknown-linux-musl",
            Arch::Aarch64 => "aarch64-unknown-linux-musl",
        }
    }

    /// Debian's multiarch name, for the musl headers and libraries
    /// (`/usr/include/<it>`, `/usr/lib/<it>`).
    pub const fn musl_multiarch(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64-linux-musl",
            Arch::Aarch64 => "aarch64-linux-musl",
        }
    }

    /// ELF `e_machine`.
    pub const fn elf_machine(self) -> u16 {
        match self {
            Arch::X86_64 => object::elf::EM_X86_64,
            Arch::Aarch64 => object::elf::EM_AARCH64,
        }
    }

    /// The largest page size the ISA's Linux kernels use (aarch64 kernels
    /// can have 64 KiB pages): layouts and images align to it.
    pub const fn max_page_size(self) -> u64 {
        match self {
            Arch::X86_64 => 0x1000,
            Arch::Aarch64 => 0x10000,
        }
    }

    /// The ISA with this ELF `e_machine`.
    pub fn from_elf_machine(machine: u16) -> Option<Arch> {
        Arch::ALL.into_iter().find(|a| a.elf_machine() == machine)
    }

    /// The other one: where a migration goes.
    pub const fn other(self) -> Arch {
        match self {
            Arch::X86_64 => Arch::Aarch64,
            Arch::Aarch64 => Arch::X86_64,
        }
    }

    /// Position in [`Arch::ALL`] and in every [`PerArch`].
    pub const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown ISA name; its message lists the known ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown ISA {0:?} (expected x86_64 or aarch64)")]
pub struct UnknownArch(pub String);

impl FromStr for Arch {
    type Err = UnknownArch;
    fn from_str(s: &str) -> Result<Arch, UnknownArch> {
        Arch::ALL
            .into_iter()
            .find(|a| a.name() == s)
            .ok_or_else(|| UnknownArch(s.to_string()))
    }
}

/// One `T` per ISA, indexed by [`Arch`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PerArch<T>(pub [T; 2]);

impl<T> PerArch<T> {
    /// Builds each ISA's value.
    pub fn new(mut f: impl FnMut(Arch) -> T) -> PerArch<T> {
        PerArch([f(Arch::X86_64), f(Arch::Aarch64)])
    }

    /// The same built by a fallible function: the first error wins.
    pub fn try_new<E>(mut f: impl FnMut(Arch) -> Result<T, E>) -> Result<PerArch<T>, E> {
        Ok(PerArch([f(Arch::X86_64)?, f(Arch::Aarch64)?]))
    }

    /// (ISA, value) pairs in [`Arch::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = (Arch, &T)> {
        Arch::ALL.into_iter().zip(self.0.iter())
    }

    pub fn map<U>(self, mut f: impl FnMut(Arch, T) -> U) -> PerArch<U> {
        let [a, b] = self.0;
        PerArch([f(Arch::X86_64, a), f(Arch::Aarch64, b)])
    }

    /// References to both values.
    pub fn each_ref(&self) -> PerArch<&T> {
        PerArch([&self.0[0], &self.0[1]])
    }
}

impl<T> std::ops::Index<Arch> for PerArch<T> {
    type Output = T;
    fn index(&self, arch: Arch) -> &T {
        &self.0[arch.index()]
    }
}

impl<T> std::ops::IndexMut<Arch> for PerArch<T> {
    fn index_mut(&mut self, arch: Arch) -> &mut T {
        &mut self.0[arch.index()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_machines_and_pairs() {
        for a in Arch::ALL {
            assert_eq!(a.name().parse::<Arch>().unwrap(), a);
            assert_eq!(Arch::from_elf_machine(a.elf_machine()), Some(a));
            assert_eq!(a.other().other(), a);
            assert_eq!(Arch::ALL[a.index()], a);
        }
        let err = "arm64".parse::<Arch>().unwrap_err();
        assert!(err.to_string().contains("x86_64 or aarch64"), "{err}");
        let pair = PerArch::new(|a| a.name().len());
        assert_eq!(pair[Arch::X86_64], 6);
        assert_eq!(pair[Arch::Aarch64], 7);
    }
}
