//! The layout aligner: one address for every object on both ISAs.
//!
//! `migrate cc` links each ISA once without constraints and reads the link
//! maps ([`map`]), computes a common placement ([`plan`]), writes one linker
//! script per ISA ([`script`]) and links again with it.

pub mod map;
pub mod plan;
pub mod script;
