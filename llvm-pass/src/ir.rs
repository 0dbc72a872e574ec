//! Thin helpers over the LLVM C API for walking a module's instructions.
//!
//! inkwell covers modules, targets and bitcode well but not instruction-level
//! inspection (callees that are inline asm, debug locations, constant strings),
//! so those few operations go through `llvm_sys` here, in one place.

use inkwell::llvm_sys::core::*;
use inkwell::llvm_sys::prelude::*;

/// A raw LLVM value (instruction, function, global).
pub type Value = LLVMValueRef;
use inkwell::llvm_sys::{LLVMOpcode, LLVMTypeKind};
use inkwell::module::Module;
use std::ffi::CStr;

/// The instructions of one block, in order.
pub fn block_instructions(bb: LLVMBasicBlockRef) -> Vec<Value> {
    let mut out = Vec::new();
    unsafe {
        let mut inst = LLVMGetFirstInstruction(bb);
        while !inst.is_null() {
            out.push(inst);
            inst = LLVMGetNextInstruction(inst);
        }
    }
    out
}

/// Every instruction of every defined function, in module order.
pub fn instructions(module: &Module) -> Vec<LLVMValueRef> {
    let mut out = Vec::new();
    unsafe {
        let mut f = LLVMGetFirstFunction(module.as_mut_ptr());
        while !f.is_null() {
            for bb in blocks(f) {
                out.extend(block_instructions(bb));
            }
            f = LLVMGetNextFunction(f);
        }
    }
    out
}

/// True for call, invoke and callbr instructions.
pub fn is_call(inst: LLVMValueRef) -> bool {
    unsafe {
        matches!(
            LLVMGetInstructionOpcode(inst),
            LLVMOpcode::LLVMCall | LLVMOpcode::LLVMInvoke | LLVMOpcode::LLVMCallBr
        )
    }
}

pub fn called_value(call: LLVMValueRef) -> LLVMValueRef {
    unsafe { LLVMGetCalledValue(call) }
}

pub fn is_inline_asm(v: LLVMValueRef) -> bool {
    unsafe { !LLVMIsAInlineAsm(v).is_null() }
}

/// The function a call calls directly, if it does.
pub fn direct_callee(call: LLVMValueRef) -> Option<LLVMValueRef> {
    let v = called_value(call);
    unsafe { (!LLVMIsAFunction(v).is_null()).then_some(v) }
}

pub fn name(v: LLVMValueRef) -> String {
    unsafe {
        let mut len = 0usize;
        let p = LLVMGetValueName2(v, &mut len);
        if p.is_null() {
            return String::new();
        }
        String::from_utf8_lossy(std::slice::from_raw_parts(p as *const u8, len)).into_owned()
    }
}

pub fn is_declaration(f: LLVMValueRef) -> bool {
    unsafe { LLVMIsDeclaration(f) != 0 }
}

/// Arguments of a call (without the callee operand).
pub fn call_args(call: LLVMValueRef) -> Vec<LLVMValueRef> {
    unsafe {
        let n = LLVMGetNumArgOperands(call);
        (0..n).map(|i| LLVMGetOperand(call, i)).collect()
    }
}

pub fn type_of(v: LLVMValueRef) -> LLVMTypeRef {
    unsafe { LLVMTypeOf(v) }
}

pub fn type_kind(t: LLVMTypeRef) -> LLVMTypeKind {
    unsafe { LLVMGetTypeKind(t) }
}

/// The called function type: (return type, number of fixed parameters, is variadic).
pub fn call_signature(call: LLVMValueRef) -> (LLVMTypeRef, usize, bool) {
    unsafe {
        let fty = LLVMGetCalledFunctionType(call);
        (
            LLVMGetReturnType(fty),
            LLVMCountParamTypes(fty) as usize,
            LLVMIsFunctionVarArg(fty) != 0,
        )
    }
}

/// Source file and line of an instruction, from its debug location.
pub fn location(inst: LLVMValueRef) -> Option<(String, u32)> {
    unsafe {
        let mut len = 0u32;
        let p = LLVMGetDebugLocFilename(inst, &mut len);
        if p.is_null() || len == 0 {
            return None;
        }
        let file =
            String::from_utf8_lossy(std::slice::from_raw_parts(p as *const u8, len as usize))
                .into_owned();
        Some((file, LLVMGetDebugLocLine(inst)))
    }
}

/// The bytes of a constant C string a pointer operand refers to, if it does.
pub fn constant_string(v: LLVMValueRef) -> Option<Vec<u8>> {
    unsafe {
        if LLVMIsAGlobalVariable(v).is_null() {
            return None;
        }
        let init = LLVMGetInitializer(v);
        if init.is_null() || LLVMIsConstantString(init) == 0 {
            return None;
        }
        let mut len = 0usize;
        let p = LLVMGetAsString(init, &mut len);
        Some(std::slice::from_raw_parts(p as *const u8, len).to_vec())
    }
}

/// Module-level inline assembly, if any.
pub fn module_asm(module: &Module) -> String {
    unsafe {
        let mut len = 0usize;
        let p = LLVMGetModuleInlineAsm(module.as_mut_ptr(), &mut len);
        if p.is_null() {
            return String::new();
        }
        String::from_utf8_lossy(std::slice::from_raw_parts(p as *const u8, len)).into_owned()
    }
}

/// The module's source file name, for diagnostics without a line.
pub fn source_file(module: &Module) -> String {
    unsafe {
        let mut len = 0usize;
        let p = LLVMGetSourceFileName(module.as_mut_ptr(), &mut len);
        if p.is_null() {
            return String::from("<module>");
        }
        CStr::from_ptr(p).to_string_lossy().into_owned()
    }
}

/// A function's basic blocks, in layout order.
pub fn blocks(f: Value) -> Vec<LLVMBasicBlockRef> {
    let mut out = Vec::new();
    unsafe {
        let mut bb = LLVMGetFirstBasicBlock(f);
        while !bb.is_null() {
            out.push(bb);
            bb = LLVMGetNextBasicBlock(bb);
        }
    }
    out
}

/// The blocks `bb`'s terminator can branch to.
pub fn successors(bb: LLVMBasicBlockRef) -> Vec<LLVMBasicBlockRef> {
    unsafe {
        let term = LLVMGetBasicBlockTerminator(bb);
        if term.is_null() {
            return Vec::new();
        }
        (0..LLVMGetNumSuccessors(term))
            .map(|i| LLVMGetSuccessor(term, i))
            .collect()
    }
}

/// The successors of each of `blocks` (entry first), as indices into it.
pub fn successor_indices(blocks: &[LLVMBasicBlockRef]) -> Vec<Vec<usize>> {
    let index: std::collections::HashMap<LLVMBasicBlockRef, usize> =
        blocks.iter().enumerate().map(|(i, b)| (*b, i)).collect();
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
pub fn back_edges(blocks: &[LLVMBasicBlockRef]) -> Vec<Vec<usize>> {
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
pub fn loop_headers(blocks: &[LLVMBasicBlockRef]) -> Vec<bool> {
    back_edges(blocks).iter().map(|l| !l.is_empty()).collect()
}

pub fn terminator(bb: LLVMBasicBlockRef) -> Value {
    unsafe { LLVMGetBasicBlockTerminator(bb) }
}

/// The first instruction of `bb` that is not a PHI or landing pad.
pub fn first_insertion_point(bb: LLVMBasicBlockRef) -> Value {
    unsafe {
        let mut inst = LLVMGetFirstInstruction(bb);
        while !inst.is_null()
            && matches!(
                LLVMGetInstructionOpcode(inst),
                LLVMOpcode::LLVMPHI | LLVMOpcode::LLVMLandingPad
            )
        {
            inst = LLVMGetNextInstruction(inst);
        }
        inst
    }
}
