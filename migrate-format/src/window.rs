//! The migration window (DESIGN.md decision 5): everything a migrating
//! program owns lives in `[WINDOW_START, WINDOW_END)`, at the same addresses
//! on both ISAs and below 2^39:
//! - `WINDOW_START`: the executable (code, data, bss), then the brk heap;
//! - `ARENA_START..ARENA_END`: every anonymous mmap (musl's malloc groups,
//!   the program's own mappings; the runtime's `heap.c`);
//! - `UNSAFE_STACK_TOP - size`: the unsafe stack, where the program's
//!   escaping stack objects live (`unsafe_stack.c`; llvm-pass's
//!   `unsafe_stack`);
//! - `STACK_TOP - size`: the program's stack, argv and envp (`startup.c`).
//!
//! qemu-user keeps its guest mappings from 2^38 up, so the window ends
//! there; natively nothing else is mapped below 2^39 with address
//! randomization off.

/// Where the executables are linked (the layout planner's base).
pub const WINDOW_START: u64 = 0x1000_0000;
/// The anonymous-mapping arena: 4 GiB ...
pub const ARENA_START: u64 = 0x1_0000_0000;
/// ... to 248 GiB.
pub const ARENA_END: u64 = 0x3e_0000_0000;
/// The largest size of each of the two stacks (RLIMIT_STACK is capped).
pub const MAX_STACK_SIZE: u64 = 1 << 30;
/// The top of the unsafe stack (250 GiB).
pub const UNSAFE_STACK_TOP: u64 = 0x3e_8000_0000;
/// The top of the program's stack (252 GiB).
pub const STACK_TOP: u64 = 0x3f_0000_0000;
/// The end of the window (2^38).
pub const WINDOW_END: u64 = 0x40_0000_0000;
/// Image file offsets of memory are multiples of this plus the address's
/// remainder, so restore can map them on kernels with pages up to 64 KiB.
pub const IMAGE_ALIGN: u64 = crate::arch::MAX_PAGE_SIZE;

const _: () = assert!(WINDOW_START < ARENA_START && ARENA_END < STACK_TOP);
const _: () = assert!(ARENA_END + MAX_STACK_SIZE <= UNSAFE_STACK_TOP);
const _: () = assert!(UNSAFE_STACK_TOP + MAX_STACK_SIZE <= STACK_TOP - MAX_STACK_SIZE);
const _: () = assert!(STACK_TOP < WINDOW_END && WINDOW_END <= 1 << 39);
