//! What an x86_64 instruction computes, where the certifier can follow
//! it ([`Op`]): copies and constants, address arithmetic, extensions,
//! scaling and sums, zeroing idioms.

use super::{based, dwarf, RSP};
use crate::machine::{Mem, Op, Place, Reg};
use iced_x86::{Instruction, Mnemonic, OpKind, Register};

/// What the result of `ins` is, where it can be followed. A zeroing idiom
/// (`xor %eax,%eax`) reads nothing: its register leaves `reads`.
pub(super) fn value_op(ins: &Instruction, reads: &mut Vec<Reg>) -> Op {
    let reg0 = (ins.op_count() >= 1 && ins.op0_kind() == OpKind::Register)
        .then(|| dwarf(ins.op0_register()))
        .flatten();
    let full64 =
        ins.op_count() >= 1 && ins.op0_kind() == OpKind::Register && ins.op0_register().is_gpr64();
    match ins.mnemonic() {
        Mnemonic::Mov
        | Mnemonic::Movaps
        | Mnemonic::Movapd
        | Mnemonic::Movups
        | Mnemonic::Movdqa
        | Mnemonic::Movq
        | Mnemonic::Movsd
        | Mnemonic::Movss
            if ins.op_count() == 2 =>
        {
            move_or_constant(ins)
        }
        Mnemonic::Lea if full64 => address_arithmetic(ins, reg0),
        // Extensions of a register (`movslq %edi,%rdx`, `movzbl %r14b,%eax`),
        // and sign-extending loads (`movslq -0x10(%rbp),%rax`).
        Mnemonic::Movsx | Mnemonic::Movsxd | Mnemonic::Movzx
            if ins.op_count() == 2
                && ins.op0_kind() == OpKind::Register
                && ins.op0_register().size() >= 4
                && (ins.op1_kind() == OpKind::Register || ins.mnemonic() != Mnemonic::Movzx) =>
        {
            extension(ins, reg0)
        }
        // A zero-extending load of one or two bytes (a spilled i8 or i16).
        Mnemonic::Movzx
            if ins.op_count() == 2
                && ins.op1_kind() == OpKind::Memory
                && ins.op0_register().size() >= 4 =>
        {
            zero_extending_load(ins, reg0)
        }
        // `imul $k,%src,%dst` and `shl $k,%reg`, 64-bit.
        Mnemonic::Imul
            if full64
                && ins.op_count() == 3
                && ins.op1_kind() == OpKind::Register
                && ins.op1_register().is_gpr64() =>
        {
            multiply_by_constant(ins, reg0)
        }
        Mnemonic::Shl if full64 && ins.op_count() == 2 && ins.op1_kind() == OpKind::Immediate8 => {
            shift_left(ins, reg0)
        }
        // A 64-bit register plus or minus another.
        Mnemonic::Add | Mnemonic::Sub
            if full64 && ins.op1_kind() == OpKind::Register && ins.op1_register().is_gpr64() =>
        {
            add_register(ins, reg0)
        }
        // A 64-bit register plus or minus a constant (`add $8,%rax`: the
        // next element's address, kept across a call).
        Mnemonic::Add | Mnemonic::Sub
            if full64
                && ins.op0_kind() == OpKind::Register
                && matches!(
                    ins.op1_kind(),
                    OpKind::Immediate8to64 | OpKind::Immediate32to64
                ) =>
        {
            add_constant(ins, reg0)
        }
        // xor r, r is how x86 writes zero (pxor/xorps/xorpd for vectors).
        Mnemonic::Xor | Mnemonic::Pxor | Mnemonic::Xorps | Mnemonic::Xorpd
            if ins.op_count() == 2
                && ins.op0_kind() == OpKind::Register
                && ins.op1_kind() == OpKind::Register
                && ins.op0_register() == ins.op1_register() =>
        {
            reads.retain(|r| Some(*r) != reg0);
            zero(reg0)
        }
        _ => Op::Other,
    }
}

/// `mov` and the vector moves: a copy between registers and stack slots,
/// or a constant.
fn move_or_constant(ins: &Instruction) -> Op {
    let place = |k: u32| match ins.op_kind(k) {
        OpKind::Register => dwarf(ins.op_register(k)).map(Place::Reg),
        OpKind::Memory => memory_operand(ins).map(Place::Mem),
        _ => None,
    };
    // 32-bit writes zero the upper half: a 32-bit value moved
    // through `movl` keeps its value. 8- and 16-bit ones merge.
    let width_ok = ins.op0_kind() != OpKind::Register
        || !ins.op0_register().is_gpr()
        || ins.op0_register().size() >= 4;
    // The stack-protector guard, in musl's thread descriptor.
    if ins.op0_kind() == OpKind::Register
        && ins.op0_register().is_gpr64()
        && ins.op1_kind() == OpKind::Memory
        && ins.memory_segment() == Register::FS
        && ins.memory_base() == Register::None
        && ins.memory_index() == Register::None
        && ins.memory_displacement64() == 0x28
    {
        if let Some(dst) = dwarf(ins.op0_register()) {
            return Op::Canary { dst };
        }
    }
    match (place(0), place(1), ins.op1_kind()) {
        (Some(dst), _, OpKind::Immediate32to64 | OpKind::Immediate64) => Op::Const {
            dst,
            value: ins.immediate(1) as i64,
        },
        // A 32-bit write zero-extends. An 8- or 16-bit one keeps
        // the upper bits, but only the low ones are the IR value
        // (an i8 or i16): the constant is what matters.
        (Some(dst), _, OpKind::Immediate32 | OpKind::Immediate16 | OpKind::Immediate8) => {
            Op::Const {
                dst,
                value: ins.immediate(1) as i64,
            }
        }
        (Some(dst), Some(src), _) if width_ok => Op::Copy { dst, src },
        _ => Op::Other,
    }
}

/// `lea`: a constant address, a register plus a constant, one register
/// scaled, or the sum of two.
fn address_arithmetic(ins: &Instruction, reg0: Option<Reg>) -> Op {
    match (reg0, ins.memory_base(), ins.memory_index()) {
        (Some(dst), Register::RIP, Register::None) => Op::Const {
            dst: Place::Reg(dst),
            value: ins.ip_rel_memory_address() as i64,
        },
        (Some(dst), Register::None, Register::None) => Op::Const {
            dst: Place::Reg(dst),
            value: ins.memory_displacement64() as i64,
        },
        (Some(dst), base, Register::None) => match dwarf(base) {
            Some(b) => Op::AddrOf {
                dst,
                base: b,
                disp: ins.memory_displacement64() as i64,
            },
            None => Op::Other,
        },
        // One register scaled: `lea 0(,%rax,8)`, `lea (%rax,%rax,8)`.
        (Some(dst), base, index) if base == Register::None || base == index => match dwarf(index) {
            Some(src) if index.is_gpr64() => Op::Scale {
                dst,
                src,
                times: ins.memory_index_scale() as i64 + i64::from(base != Register::None),
                plus: ins.memory_displacement64() as i64,
            },
            _ => Op::Other,
        },
        // Two registers: `lea -0x60(%rbp,%rax,8),%rbx`.
        (Some(dst), base, index) if base.is_gpr64() && index.is_gpr64() => {
            match (dwarf(base), dwarf(index)) {
                (Some(b), Some(x)) => Op::AddRegs {
                    dst,
                    base: b,
                    index: x,
                    times: ins.memory_index_scale() as i64,
                    disp: ins.memory_displacement64() as i64,
                },
                _ => Op::Other,
            }
        }
        _ => Op::Other,
    }
}

/// `movsx`, `movsxd`, `movzx` of a register, or a sign-extending load.
fn extension(ins: &Instruction, reg0: Option<Reg>) -> Op {
    let signed = ins.mnemonic() != Mnemonic::Movzx;
    let (src, size) = match ins.op1_kind() {
        OpKind::Register => (
            dwarf(ins.op1_register()).map(Place::Reg),
            ins.op1_register().size(),
        ),
        _ => (
            memory_operand(ins).map(Place::Mem),
            ins.memory_size().size(),
        ),
    };
    // `movslq %edi,%rdi` has no high-byte register (ah) source;
    // those are not dwarf registers and give None here.
    let high_byte = ins.op1_kind() == OpKind::Register
        && matches!(
            ins.op1_register(),
            Register::AH | Register::BH | Register::CH | Register::DH
        );
    match (reg0, src) {
        (Some(dst), Some(src)) if !high_byte && size < 8 => Op::Extend {
            dst,
            src,
            size: size as u8,
            signed,
            to32: ins.op0_register().size() == 4,
        },
        _ => Op::Other,
    }
}

/// `movzx` from memory: the reload of a spilled i8 or i16.
fn zero_extending_load(ins: &Instruction, reg0: Option<Reg>) -> Op {
    match (reg0, memory_operand(ins)) {
        (Some(dst), Some(mem)) => Op::Copy {
            dst: Place::Reg(dst),
            src: Place::Mem(mem),
        },
        _ => Op::Other,
    }
}

/// `imul $k,%src,%dst`, 64-bit.
fn multiply_by_constant(ins: &Instruction, reg0: Option<Reg>) -> Op {
    match (reg0, dwarf(ins.op1_register())) {
        (Some(dst), Some(src)) => Op::Scale {
            dst,
            src,
            times: ins.immediate(2) as i64,
            plus: 0,
        },
        _ => Op::Other,
    }
}

/// `shl $k,%reg`, 64-bit: a multiplication by 2^k.
fn shift_left(ins: &Instruction, reg0: Option<Reg>) -> Op {
    match reg0 {
        Some(dst) if ins.immediate(1) < 63 => Op::Scale {
            dst,
            src: dst,
            times: 1i64 << ins.immediate(1),
            plus: 0,
        },
        _ => Op::Other,
    }
}

/// `add`/`sub` of a 64-bit register to another.
fn add_register(ins: &Instruction, reg0: Option<Reg>) -> Op {
    match (reg0, dwarf(ins.op1_register())) {
        (Some(dst), Some(other)) if dst != RSP => Op::AddRegs {
            dst,
            base: dst,
            index: other,
            times: if ins.mnemonic() == Mnemonic::Add {
                1
            } else {
                -1
            },
            disp: 0,
        },
        _ => Op::Other,
    }
}

/// `add`/`sub` of a constant to a 64-bit register.
fn add_constant(ins: &Instruction, reg0: Option<Reg>) -> Op {
    match reg0 {
        Some(dst) if dst != RSP => {
            let k = ins.immediate(1) as i64;
            Op::AddrOf {
                dst,
                base: dst,
                disp: if ins.mnemonic() == Mnemonic::Add {
                    k
                } else {
                    -k
                },
            }
        }
        _ => Op::Other,
    }
}

/// The zero a zeroing idiom writes.
fn zero(reg0: Option<Reg>) -> Op {
    match reg0 {
        Some(dst) => Op::Const {
            dst: Place::Reg(dst),
            value: 0,
        },
        None => Op::Other,
    }
}

/// The memory operand of `ins`, if it is a base register plus a constant.
fn memory_operand(ins: &Instruction) -> Option<Mem> {
    based(
        ins.memory_base(),
        ins.memory_index(),
        ins.memory_displacement64(),
        ins.memory_size().size(),
    )
}
