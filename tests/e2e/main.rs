//! End-to-end tests: real programs built with `migrate cc` and run on both
//! ISAs (aarch64 under qemu-aarch64). Every test checks output that could
//! differ; none skips: scripts/setup.sh installs what they need.

// First: its macros are used by the modules after it.
#[macro_use]
mod common;

mod abi;
mod checkpoint;
mod cli;
mod crash;
mod dynamic;
mod examples;
mod format;
mod gadgets;
mod images;
mod landmarks;
mod libc;
mod lua;
mod makefile;
mod mtd;
mod mutation;
mod prior_art;
mod records;
mod sqlite;
mod thirdparty;
mod translate;
mod unsupported;
mod verify;
