//! An ISA-neutral summary of decoded machine instructions: just what the
//! call-site certificates need (control flow, which registers and stack
//! slots an instruction reads and writes, how it moves the stack pointer,
//! and the few operations whose result is known: copies, constants,
//! addresses). Each ISA's decoder (`isa/`) produces these.

/// A register, by its DWARF number (the numbering stackmaps use).
pub type Reg = u16;

/// Where control goes after an instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flow {
    /// The next instruction.
    Next,
    /// A call; execution continues at the next instruction (the return
    /// address). `target` when direct.
    Call { target: Option<u64> },
    /// An unconditional jump (a tail call when it leaves the function).
    Jump(u64),
    /// A conditional branch to `target`, else the next instruction.
    Branch(u64),
    /// An indirect jump to one of these addresses (a jump table);
    /// `None` when the targets are unknown.
    Switch(Option<Vec<u64>>),
    /// Return to the caller.
    Return,
    /// Execution stops here (a trap, `ud2`, `brk`).
    Stop,
}

/// A memory access, relative to a base register.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mem {
    pub base: Reg,
    pub disp: i64,
    pub size: u32,
}

/// What an instruction computes, where the certificate can follow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Nothing known beyond its reads and writes.
    Other,
    /// `dst :=` the stack-protector guard (x86_64 `mov %fs:0x28,%reg`; on
    /// aarch64 a load from `__stack_chk_guard`, recognised from values).
    Canary { dst: Reg },
    /// `dst := src` (register or memory on either side).
    Copy { dst: Place, src: Place },
    /// Two copies at once (aarch64 `stp`/`ldp`), sources read before
    /// either destination is written.
    CopyPair {
        first: (Place, Place),
        second: (Place, Place),
    },
    /// `dst := value` (PC-relative addresses are resolved to constants).
    Const { dst: Place, value: i64 },
    /// Every 64-bit lane of the vector register `dst` := `lane` (aarch64
    /// `fmov v0.2d, #1.0`): unlike a [`Op::Const`], whose scalar write
    /// zeroes bytes 8-15, the upper half repeats the lower.
    Splat { dst: Reg, lane: i64 },
    /// `dst`'s 16 bits at `shift` := `value` (aarch64 `movk`, building a
    /// constant piece by piece).
    SetBits { dst: Reg, value: u16, shift: u8 },
    /// `dst := base + disp` (a frame address when base is the stack or
    /// frame pointer, a pointer derived from a value otherwise).
    AddrOf { dst: Reg, base: Reg, disp: i64 },
    /// `dst := src | bits` (aarch64 `orr xd, xs, #imm`: LLVM forms
    /// `&slot + 4` this way when it knows the low bits of an aligned frame
    /// address are zero).
    OrBits { dst: Reg, src: Reg, bits: u64 },
    /// `dst := base + index * times + disp`, 64-bit (x86
    /// `lea 8(%rbp,%r12),%r14`, `add %rbp,%r14`; aarch64
    /// `add x8, x9, x10, lsl #3`, `sub x8, x9, x10`).
    AddRegs {
        dst: Reg,
        base: Reg,
        index: Reg,
        times: i64,
        disp: i64,
    },
    /// `dst := src * times + plus`, 64-bit (x86 `imul $40,%rdx,%rax`,
    /// `shl $5,%rax`, `lea (%rax,%rax,8),%rax`).
    Scale {
        dst: Reg,
        src: Reg,
        times: i64,
        plus: i64,
    },
    /// `dst := the low `size` bytes of src, zero- or sign-extended` to 64
    /// bits (x86 `movslq`, `movsbl`, `movzbl %al,%ecx`; aarch64 `sxtw`,
    /// `uxtb`, `ldrsw`). A 32-bit destination also ends zero-extended
    /// above, which only matters for sign extension: `movsbl` to a 32-bit
    /// register is `size` 1 and `to32`.
    Extend {
        dst: Reg,
        src: Place,
        size: u8,
        signed: bool,
        to32: bool,
    },
}

/// A register or a memory location, for [`Op::Copy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Reg(Reg),
    Mem(Mem),
}

/// One decoded instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MInst {
    pub address: u64,
    pub len: u32,
    pub flow: Flow,
    /// Registers read.
    pub reads: Vec<Reg>,
    /// Registers written.
    pub writes: Vec<Reg>,
    /// Memory read, when the address is a base register plus a constant.
    pub loads: Vec<Mem>,
    /// Memory written, when the address is a base register plus a constant.
    pub stores: Vec<Mem>,
    /// Added to the stack pointer before the memory accesses (push,
    /// pre-indexed stores) and after them (pop, post-indexed loads).
    pub sp_before: i64,
    pub sp_after: i64,
    /// After this instruction the stack pointer is the frame pointer plus
    /// this (`lea -0x28(%rbp), %rsp`, `mov sp, x29`).
    pub sp_from_fp: Option<i64>,
    /// After this instruction the frame pointer is the stack pointer plus
    /// this (`mov %rsp, %rbp`, `add x29, sp, #16`).
    pub fp_from_sp: Option<i64>,
    /// The stack pointer changes in a way the decoder cannot follow
    /// (stack realignment, a variable-sized allocation).
    pub sp_unknown: bool,
    pub op: Op,
    /// For an indirect jump whose targets the decoder could not see: the
    /// register holding the address of a table of 8-byte absolute targets
    /// (computed goto with the table address kept in a register); the
    /// certificate resolves it from the register's value.
    pub table_base: Option<Reg>,
    /// Registers of `reads` and `writes` accessed only in part, with the
    /// bytes ([`BYTE0`] ...); the others are accessed whole. Writing the low
    /// byte of a register leaves the rest alone without reading it.
    pub narrow_reads: Vec<(Reg, u8)>,
    pub narrow_writes: Vec<(Reg, u8)>,
    /// A base register the access also steps (aarch64 pre- and post-index
    /// addressing, `ldr w8, [x9], #4`): register := register + amount.
    pub writeback: Option<(Reg, i64)>,
    /// Assembly text, for messages.
    pub text: String,
}

/// Byte groups of a register, for [`MInst::narrow_reads`] and
/// [`MInst::narrow_writes`]: byte 0, byte 1, bytes 2-3, bytes 4 and up.
pub const BYTE0: u8 = 1;
pub const BYTE1: u8 = 2;
pub const BYTES2_3: u8 = 4;
pub const BYTES4_UP: u8 = 8;

impl MInst {
    /// An instruction at `address` with no effects yet (decoders fill in).
    pub fn new(address: u64, len: u32, text: String) -> Self {
        MInst {
            address,
            len,
            flow: Flow::Next,
            reads: Vec::new(),
            writes: Vec::new(),
            loads: Vec::new(),
            stores: Vec::new(),
            sp_before: 0,
            sp_after: 0,
            sp_from_fp: None,
            fp_from_sp: None,
            sp_unknown: false,
            op: Op::Other,
            table_base: None,
            narrow_reads: Vec::new(),
            narrow_writes: Vec::new(),
            writeback: None,
            text,
        }
    }

    /// The address of the next instruction (a call's return address).
    pub fn next(&self) -> u64 {
        self.address + self.len as u64
    }
}
