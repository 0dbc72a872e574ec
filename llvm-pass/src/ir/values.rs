//! Values: what kind a value is, its opcode, operands, callee, attributes,
//! name, debug location and constant value.

use super::{text, type_kind, Block, Type, Value};
use inkwell::attributes::Attribute;
use inkwell::llvm_sys::core::*;
use inkwell::llvm_sys::{
    LLVMAttributeFunctionIndex, LLVMIntPredicate, LLVMOpcode, LLVMTailCallKind, LLVMTypeKind,
};
use inkwell::module::Module;
use std::ffi::CStr;

/// Defines one `fn(Value) -> bool` per LLVM class test (`LLVMIsA*`).
macro_rules! class_tests {
    ($($(#[$doc:meta])* $vis:vis fn $name:ident => $llvm:ident;)*) => {$(
        $(#[$doc])*
        $vis fn $name(v: Value) -> bool {
            // SAFETY: `v` is live (the handle invariant, see `ir`); the
            // `LLVMIsA*` tests are `dyn_cast`s, defined for every value.
            unsafe { !$llvm(v).is_null() }
        }
    )*};
}

class_tests! {
    /// An instruction (of any opcode).
    pub fn is_instruction => LLVMIsAInstruction;
    /// A function's formal argument.
    pub fn is_argument => LLVMIsAArgument;
    /// A constant (including functions, globals and constant expressions).
    pub fn is_constant => LLVMIsAConstant;
    /// A function or global variable (or alias), which has a symbol.
    pub fn is_global_value => LLVMIsAGlobalValue;
    /// A function (defined or declared).
    pub fn is_function => LLVMIsAFunction;
    /// A stack allocation.
    pub fn is_alloca => LLVMIsAAllocaInst;
    /// A PHI node.
    pub fn is_phi => LLVMIsAPHINode;
    /// An integer comparison instruction.
    pub fn is_icmp => LLVMIsAICmpInst;
    /// A floating-point comparison instruction.
    pub fn is_fcmp => LLVMIsAFCmpInst;
    /// Inline assembly (as a callee).
    pub fn is_inline_asm => LLVMIsAInlineAsm;
    fn is_call_inst => LLVMIsACallInst;
    fn is_constant_expr => LLVMIsAConstantExpr;
    fn is_constant_int => LLVMIsAConstantInt;
    fn is_global_variable => LLVMIsAGlobalVariable;
    fn is_user => LLVMIsAUser;
}

/// The opcode of an instruction; `None` for any other value.
pub fn opcode(v: Value) -> Option<LLVMOpcode> {
    if !is_instruction(v) {
        return None;
    }
    // SAFETY: `v` is a live instruction (for other values the C API returns
    // 0, which is no `LLVMOpcode`).
    Some(unsafe { LLVMGetInstructionOpcode(v) })
}

/// The opcode of a constant expression; `None` for any other value.
pub fn constant_expr_opcode(v: Value) -> Option<LLVMOpcode> {
    if !is_constant_expr(v) {
        return None;
    }
    // SAFETY: `v` is a live constant expression, the class the C API casts
    // it to.
    Some(unsafe { LLVMGetConstOpcode(v) })
}

/// The predicate of an integer comparison instruction; `None` for any
/// other value.
pub fn icmp_predicate(v: Value) -> Option<LLVMIntPredicate> {
    if !is_icmp(v) {
        return None;
    }
    // SAFETY: `v` is a live `ICmpInst` (for other values the C API returns
    // 0, which is no `LLVMIntPredicate`).
    Some(unsafe { LLVMGetICmpPredicate(v) })
}

/// True for call, invoke and callbr instructions.
pub fn is_call(v: Value) -> bool {
    matches!(
        opcode(v),
        Some(LLVMOpcode::LLVMCall | LLVMOpcode::LLVMInvoke | LLVMOpcode::LLVMCallBr)
    )
}

/// The value of an integer constant, zero-extended to 64 bits; `None` if
/// `v` is not an integer constant.
pub fn constant_int(v: Value) -> Option<u64> {
    if !is_constant_int(v) {
        return None;
    }
    // SAFETY: `v` is a live `ConstantInt`, the class the C API casts it to.
    Some(unsafe { LLVMConstIntGetZExtValue(v) })
}

/// The value of an integer constant, sign-extended to 64 bits; `None` if
/// `v` is not an integer constant.
pub fn constant_int_signed(v: Value) -> Option<i64> {
    if !is_constant_int(v) {
        return None;
    }
    // SAFETY: `v` is a live `ConstantInt`, the class the C API casts it to.
    Some(unsafe { LLVMConstIntGetSExtValue(v) })
}

/// How many operands `v` has (none if it is not a `User`: an argument, a
/// basic block's value).
fn operand_count(v: Value) -> u32 {
    if !is_user(v) {
        return 0;
    }
    // SAFETY: `v` is a live `User`, the class the C API casts it to.
    let n = unsafe { LLVMGetNumOperands(v) };
    n as u32
}

/// Operand `i` of `v`. Panics if `v` has no such operand.
pub fn operand(v: Value, i: u32) -> Value {
    let n = operand_count(v);
    assert!(i < n, "operand {i} of a value with {n} operands");
    // SAFETY: `v` is a live `User` (it has operands) and `i` is in range.
    unsafe { LLVMGetOperand(v, i) }
}

/// All operands of `v`, in order (for a call, the arguments then the
/// callee); none if `v` is not a `User`.
pub fn operands(v: Value) -> Vec<Value> {
    (0..operand_count(v)).map(|i| operand(v, i)).collect()
}

/// The instructions (and other users) that use `v`, once per use, in
/// LLVM's use-list order.
pub fn users(v: Value) -> Vec<Value> {
    let mut out = Vec::new();
    // SAFETY: `v` is live; walking its use list reads it, and every use
    // has a live user.
    unsafe {
        let mut u = LLVMGetFirstUse(v);
        while !u.is_null() {
            out.push(LLVMGetUser(u));
            u = LLVMGetNextUse(u);
        }
    }
    out
}

/// The alignment in bytes an alloca, load, store or global declares.
/// Panics for any other value.
pub fn alignment(v: Value) -> u32 {
    let aligned = matches!(
        opcode(v),
        Some(LLVMOpcode::LLVMAlloca | LLVMOpcode::LLVMLoad | LLVMOpcode::LLVMStore)
    ) || is_global_variable(v);
    assert!(aligned, "alignment of a value that declares none");
    // SAFETY: `v` is a live alloca, load, store or global variable, the
    // classes `LLVMGetAlignment` accepts.
    unsafe { LLVMGetAlignment(v) }
}

/// A PHI node's incoming (value, predecessor block) pairs, in order.
/// Panics if `phi` is not a PHI node.
pub fn incoming(phi: Value) -> Vec<(Value, Block)> {
    assert!(is_phi(phi), "incoming values of a value that is no PHI");
    // SAFETY: `phi` is a live PHI node, the class the C API casts it to.
    let n = unsafe { LLVMCountIncoming(phi) };
    (0..n)
        .map(|k| {
            // SAFETY: `phi` is a live PHI node with `n` > `k` incoming edges.
            unsafe { (LLVMGetIncomingValue(phi, k), LLVMGetIncomingBlock(phi, k)) }
        })
        .collect()
}

/// A function's formal arguments, in order. Panics if `f` is not a
/// function.
pub fn params(f: Value) -> Vec<Value> {
    assert!(is_function(f), "parameters of a value that is no function");
    // SAFETY: `f` is a live function, the class the C API casts it to.
    let n = unsafe { LLVMCountParams(f) };
    (0..n)
        .map(|i| {
            // SAFETY: `f` is a live function with `n` > `i` parameters.
            unsafe { LLVMGetParam(f, i) }
        })
        .collect()
}

/// What a call calls: a function, inline asm, or any other pointer.
/// Panics if `call` is not a call.
pub fn called_value(call: Value) -> Value {
    assert!(is_call(call), "callee of an instruction that is no call");
    // SAFETY: `call` is a live call, invoke or callbr: a `CallBase`, the
    // class the C API casts it to.
    unsafe { LLVMGetCalledValue(call) }
}

/// The function a call calls directly, if it does.
pub fn direct_callee(call: Value) -> Option<Value> {
    let v = called_value(call);
    is_function(v).then_some(v)
}

/// Arguments of a call (without the callee operand). Panics if `call` is
/// not a call.
pub fn call_args(call: Value) -> Vec<Value> {
    assert!(is_call(call), "arguments of an instruction that is no call");
    // SAFETY: `call` is a live `CallBase`, the class the C API casts it to.
    let n = unsafe { LLVMGetNumArgOperands(call) };
    (0..n).map(|i| operand(call, i)).collect()
}

/// The called function type: (return type, number of fixed parameters, is
/// variadic). Panics if `call` is not a call.
pub fn call_signature(call: Value) -> (Type, usize, bool) {
    assert!(is_call(call), "signature of an instruction that is no call");
    // SAFETY: `call` is a live `CallBase`, the class
    // `LLVMGetCalledFunctionType` casts it to; what it returns is a live
    // function type, which the other three calls expect.
    unsafe {
        let fty = LLVMGetCalledFunctionType(call);
        (
            LLVMGetReturnType(fty),
            LLVMCountParamTypes(fty) as usize,
            LLVMIsFunctionVarArg(fty) != 0,
        )
    }
}

/// The function type a call calls through (uniqued in its context: equal
/// types are the same handle). Panics if `call` is not a call.
pub fn called_function_type(call: Value) -> Type {
    assert!(
        is_call(call),
        "callee type of an instruction that is no call"
    );
    // SAFETY: `call` is a live `CallBase`, the class the C API casts it to.
    unsafe { LLVMGetCalledFunctionType(call) }
}

/// A function's own function type. Panics if `f` is not a function.
pub fn function_type(f: Value) -> Type {
    assert!(
        is_function(f),
        "function type of a value that is no function"
    );
    // SAFETY: `f` is a live function, a `GlobalValue`, whose value type is
    // its function type.
    unsafe { LLVMGlobalGetValueType(f) }
}

/// True if the function type `fty` is variadic. Panics if it is not a
/// function type.
pub fn is_variadic(fty: Type) -> bool {
    assert!(
        matches!(type_kind(fty), LLVMTypeKind::LLVMFunctionTypeKind),
        "variadic test of a type that is no function type"
    );
    // SAFETY: `fty` is a live function type.
    unsafe { LLVMIsFunctionVarArg(fty) != 0 }
}

/// What the function type `fty` returns. Panics if it is not a function
/// type.
pub fn return_type(fty: Type) -> Type {
    assert!(
        matches!(type_kind(fty), LLVMTypeKind::LLVMFunctionTypeKind),
        "return type of a type that is no function type"
    );
    // SAFETY: `fty` is a live function type.
    unsafe { LLVMGetReturnType(fty) }
}

/// True for a `musttail` call (false for any other value).
pub fn is_musttail(call: Value) -> bool {
    if !is_call_inst(call) {
        return false;
    }
    // SAFETY: `call` is a live `CallInst`, the class both calls cast it to.
    unsafe {
        LLVMIsTailCall(call) != 0
            && LLVMGetTailCallKind(call) == LLVMTailCallKind::LLVMTailCallKindMustTail
    }
}

/// True if function `f` has the function attribute `name` (`noreturn`,
/// `returns_twice`). Panics if `f` is not a function.
pub fn function_has_attribute(f: Value, name: &str) -> bool {
    assert!(is_function(f), "attributes of a value that is no function");
    let kind = Attribute::get_named_enum_kind_id(name);
    if kind == 0 {
        return false; // LLVM knows no such attribute
    }
    // SAFETY: `f` is a live function, the class the C API casts it to, and
    // `kind` is an attribute kind of this LLVM.
    unsafe { !LLVMGetEnumAttributeAtIndex(f, LLVMAttributeFunctionIndex, kind).is_null() }
}

/// True if the call itself carries the function attribute `name`. Panics
/// if `call` is not a call.
pub fn call_site_has_attribute(call: Value, name: &str) -> bool {
    assert!(
        is_call(call),
        "call-site attributes of a value that is no call"
    );
    let kind = Attribute::get_named_enum_kind_id(name);
    if kind == 0 {
        return false; // LLVM knows no such attribute
    }
    // SAFETY: `call` is a live `CallBase`, the class the C API casts it to,
    // and `kind` is an attribute kind of this LLVM.
    unsafe { !LLVMGetCallSiteEnumAttribute(call, LLVMAttributeFunctionIndex, kind).is_null() }
}

/// A value's name (empty if it has none).
pub fn name(v: Value) -> String {
    let mut len = 0usize;
    // SAFETY: `v` is live; every value has a (possibly empty) name, which
    // LLVM returns with its length, valid while the value lives.
    unsafe { text(LLVMGetValueName2(v, &mut len), len) }.unwrap_or_default()
}

/// True for a function or global declared but not defined here. Panics if
/// `v` is neither.
pub fn is_declaration(v: Value) -> bool {
    assert!(
        is_global_value(v),
        "declaration test of a value with no symbol"
    );
    // SAFETY: `v` is a live `GlobalValue`, the class the C API casts it to.
    unsafe { LLVMIsDeclaration(v) != 0 }
}

/// Source file and line of an instruction, from its debug location.
pub fn location(inst: Value) -> Option<(String, u32)> {
    if !is_instruction(inst) {
        return None;
    }
    let mut len = 0u32;
    // SAFETY: `inst` is a live instruction; LLVM returns its debug
    // location's file name (null or empty without one) and its length,
    // valid while the module lives.
    let file = unsafe { text(LLVMGetDebugLocFilename(inst, &mut len), len as usize) };
    let file = file.filter(|f| !f.is_empty())?;
    // SAFETY: as above; the line of a live instruction.
    let line = unsafe { LLVMGetDebugLocLine(inst) };
    Some((file, line))
}

/// The bytes of a constant C string a pointer operand refers to, if it does.
pub fn constant_string(v: Value) -> Option<Vec<u8>> {
    if !is_global_variable(v) {
        return None;
    }
    // SAFETY: `v` is a live `GlobalVariable`, the class the C API casts it
    // to.
    let init = unsafe { LLVMGetInitializer(v) };
    // SAFETY: `init` is null (no initializer) or a live constant; the test
    // is a `dyn_cast`.
    if init.is_null() || unsafe { LLVMIsConstantString(init) } == 0 {
        return None;
    }
    let mut len = 0usize;
    // SAFETY: `init` is a live constant string (`ConstantDataSequential`,
    // the class the C API casts it to); LLVM returns its `len` bytes, valid
    // while the module lives, copied here at once.
    unsafe {
        let p = LLVMGetAsString(init, &mut len);
        Some(std::slice::from_raw_parts(p.cast::<u8>(), len).to_vec())
    }
}

/// Module-level inline assembly, if any.
pub fn module_asm(module: &Module) -> String {
    let mut len = 0usize;
    // SAFETY: `module` is borrowed, hence live; LLVM returns its inline asm
    // and the length, valid while the module lives.
    unsafe { text(LLVMGetModuleInlineAsm(module.as_mut_ptr(), &mut len), len) }.unwrap_or_default()
}

/// The module's source file name, for diagnostics without a line.
pub fn source_file(module: &Module) -> String {
    let mut len = 0usize;
    // SAFETY: `module` is borrowed, hence live; the name LLVM returns is a
    // NUL-terminated string (`std::string::c_str`) valid while it lives.
    unsafe {
        let p = LLVMGetSourceFileName(module.as_mut_ptr(), &mut len);
        if p.is_null() {
            return String::from("<module>");
        }
        CStr::from_ptr(p).to_string_lossy().into_owned()
    }
}
