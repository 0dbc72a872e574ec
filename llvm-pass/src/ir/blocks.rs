//! Blocks: a function's basic blocks, their instructions and successors,
//! the loops of its control-flow graph; a module's instructions.

use super::{is_function, is_instruction, opcode, Block, Value};
use inkwell::llvm_sys::core::*;
use inkwell::llvm_sys::LLVMOpcode;
use inkwell::module::Module;
use std::collections::HashMap;

/// Every instruction of every defined function, in module order.
pub fn instructions(module: &Module) -> Vec<Value> {
    let mut out = Vec::new();
    // SAFETY: `module` is borrowed, hence live; the walk reads its function
    // list, ending at null.
    let mut f = unsafe { LLVMGetFirstFunction(module.as_mut_ptr()) };
    while !f.is_null() {
        for bb in blocks(f) {
            out.extend(block_instructions(bb));
        }
        // SAFETY: `f` is a live function of the module.
        f = unsafe { LLVMGetNextFunction(f) };
    }
    out
}

/// A function's basic blocks, in layout order (none for a declaration).
/// Panics if `f` is not a function.
pub fn blocks(f: Value) -> Vec<Block> {
    assert!(is_function(f), "blocks of a value that is no function");
    let mut out = Vec::new();
    // SAFETY: `f` is a live function, the class the C API casts it to.
    let mut bb = unsafe { LLVMGetFirstBasicBlock(f) };
    while !bb.is_null() {
        out.push(bb);
        // SAFETY: `bb` is a live block of `f`; the list ends at null.
        bb = unsafe { LLVMGetNextBasicBlock(bb) };
    }
    out
}

/// The instructions of one block, in order.
pub fn block_instructions(bb: Block) -> Vec<Value> {
    let mut out = Vec::new();
    // SAFETY: `bb` is a live block (the handle invariant, see `ir`).
    let mut inst = unsafe { LLVMGetFirstInstruction(bb) };
    while !inst.is_null() {
        out.push(inst);
        // SAFETY: `inst` is a live instruction of `bb`; the list ends at null.
        inst = unsafe { LLVMGetNextInstruction(inst) };
    }
    out
}

/// The instruction after `inst` in its block (`None` after the last).
/// Panics if `inst` is not an instruction.
pub fn next_instruction(inst: Value) -> Option<Value> {
    assert!(
        is_instruction(inst),
        "successor of a value that is no instruction"
    );
    // SAFETY: `inst` is a live instruction, the class the C API casts it to.
    let next = unsafe { LLVMGetNextInstruction(inst) };
    (!next.is_null()).then_some(next)
}

/// The block an instruction is in. Panics if `inst` is not an
/// instruction.
pub fn parent_block(inst: Value) -> Block {
    assert!(
        is_instruction(inst),
        "block of a value that is no instruction"
    );
    // SAFETY: `inst` is a live instruction, the class the C API casts it to.
    unsafe { LLVMGetInstructionParent(inst) }
}

/// `bb`'s terminator (`None` while the block is unfinished).
pub fn terminator(bb: Block) -> Option<Value> {
    // SAFETY: `bb` is a live block (the handle invariant, see `ir`).
    let term = unsafe { LLVMGetBasicBlockTerminator(bb) };
    (!term.is_null()).then_some(term)
}

/// The first instruction of `bb` that is not a PHI or landing pad.
pub fn first_insertion_point(bb: Block) -> Option<Value> {
    block_instructions(bb).into_iter().find(|i| {
        !matches!(
            opcode(*i),
            Some(LLVMOpcode::LLVMPHI | LLVMOpcode::LLVMLandingPad)
        )
    })
}

/// The blocks `bb`'s terminator can branch to.
pub fn successors(bb: Block) -> Vec<Block> {
    let Some(term) = terminator(bb) else {
        return Vec::new();
    };
    // SAFETY: `term` is a live terminator instruction, the class the C API
    // expects.
    let n = unsafe { LLVMGetNumSuccessors(term) };
    (0..n)
        .map(|i| {
            // SAFETY: `term` is a live terminator with `n` > `i` successors.
            unsafe { LLVMGetSuccessor(term, i) }
        })
        .collect()
}

/// For a conditional `br`: (its condition, the block if true, the block
/// if false); `None` for any other value.
pub fn conditional_branch(inst: Value) -> Option<(Value, Block, Block)> {
    if opcode(inst) != Some(LLVMOpcode::LLVMBr) {
        return None;
    }
    // SAFETY: `inst` is a live `br` instruction (`BranchInst`, the class the
    // C API casts it to).
    if unsafe { LLVMIsConditional(inst) } == 0 {
        return None;
    }
    // SAFETY: `inst` is a live conditional branch: it has a condition and
    // two successors.
    unsafe {
        Some((
            LLVMGetCondition(inst),
            LLVMGetSuccessor(inst, 0),
            LLVMGetSuccessor(inst, 1),
        ))
    }
}

/// The successors of each of `blocks` (entry first), as indices into it.
pub fn successor_indices(blocks: &[Block]) -> Vec<Vec<usize>> {
    let index: HashMap<Block, usize> = blocks.iter().enumerate().map(|(i, b)| (*b, i)).collect();
    blocks
        .iter()
        .map(|b| {
            successors(*b)
                .into_iter()
                .filter_map(|s| index.get(&s).copied())
                .collect()
        })
        .collect()
}

/// For each of `blocks` (entry first), the blocks with a back edge to it
/// in a depth-first walk from the entry (indices): the latches of the loop
/// it heads, empty if it heads none.
pub fn back_edges(blocks: &[Block]) -> Vec<Vec<usize>> {
    let succ = successor_indices(blocks);
    let mut latches: Vec<Vec<usize>> = vec![Vec::new(); blocks.len()];
    // 0 = unvisited, 1 = on the DFS stack, 2 = done.
    let mut state = vec![0u8; blocks.len()];
    let mut stack: Vec<(usize, usize)> = Vec::new();
    if !blocks.is_empty() {
        state[0] = 1;
        stack.push((0, 0));
    }
    while let Some((b, next)) = stack.last_mut() {
        let b = *b;
        if let Some(&s) = succ[b].get(*next) {
            *next += 1;
            match state[s] {
                0 => {
                    state[s] = 1;
                    stack.push((s, 0));
                }
                1 => latches[s].push(b),
                _ => {}
            }
        } else {
            state[b] = 2;
            stack.pop();
        }
    }
    latches
}

/// For each block of `blocks` (entry first), whether it is the target of a
/// back edge in a depth-first walk from the entry: a loop header.
pub fn loop_headers(blocks: &[Block]) -> Vec<bool> {
    back_edges(blocks).iter().map(|l| !l.is_empty()).collect()
}
