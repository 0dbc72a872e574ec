//! Every format the migrate tools and the landmark-rt runtime exchange,
//! in one place, each with a reader and a writer:
//!
//! | module | what | written by | read by |
//! |---|---|---|---|
//! | [`image`] | checkpoint images (ELF core files with our notes) | runtime (`image.c`), translator | `migrate inspect`/`restore`, translator, runtime (`restore.c`) |
//! | [`callsites`] | the call-site side table (`.migrate.callsites`) | llvm-pass | stack-translator, `migrate inspect` |
//! | [`certificates`] | certificates per record (`.migrate.certificates`) | `migrate cc` | `migrate check`/`inspect`, translator |
//! | [`sites`] | the migratable-sites bitmap (`__migrate_migratable`) | llvm-pass reserves, `migrate cc` fills | runtime (`landmark.c`) |
//! | [`frames`] | the frame table (`.migrate.frames`) | `migrate cc` | runtime (`frames.c`) |
//! | [`env`] | the `LANDMARK_*` environment variables | `migrate run`/`restore` | runtime |
//! | [`reports`] | statistics and checkpoint reports (JSON) | runtime | `migrate run`, tests |
//! | [`window`] | the migration window's addresses | — | layout planner, runtime |
//!
//! ISA identity is [`Arch`]. The runtime's C sees the same definitions
//! through a header generated from this crate at build time
//! ([`c_header::generate`]): no format constant or struct is written twice.

mod bytes;
#[macro_use]
mod c_struct;
pub mod arch;
pub mod c_header;
pub mod callsites;
pub mod certificates;
pub mod env;
pub mod error;
pub mod frames;
pub mod image;
pub mod reports;
pub mod sites;
pub mod window;

pub use arch::{Arch, PerArch};
pub use c_struct::CStruct;
pub use error::{Error, Result};
