//! Building and editing IR: the IR builder (calls, casts, extractions and
//! `memcpy` before an instruction, erasing an instruction), setting an
//! operand, deleting a function.

use super::{
    context_of, int_width, is_instruction, operand, primitive_bits, struct_fields, type_kind,
    type_of, type_string, Type, Value,
};
use inkwell::context::Context;
use inkwell::llvm_sys::core::*;
use inkwell::llvm_sys::prelude::{LLVMBuilderRef, LLVMContextRef};
use inkwell::llvm_sys::LLVMTypeKind;
use inkwell::module::Module;
use inkwell::values::{AsValueRef, FunctionValue};
use std::cell::Cell;
use std::marker::PhantomData;

/// An LLVM IR builder in one module's context, disposed of when dropped.
///
/// Every method that builds checks that its operands belong to the
/// builder's context and that the builder has been positioned (inside a
/// function, before one of its instructions): an unpositioned builder or a
/// value of another context would make LLVM build an instruction no block
/// owns or mix contexts.
pub struct Builder<'ctx> {
    raw: LLVMBuilderRef,
    context: LLVMContextRef,
    positioned: Cell<bool>,
    _context: PhantomData<&'ctx Context>,
}

impl<'ctx> Builder<'ctx> {
    /// A builder in `module`'s context, not yet positioned.
    pub fn new(module: &Module<'ctx>) -> Self {
        let context = module.get_context().raw();
        Builder {
            // SAFETY: the context is `module`'s, which `'ctx` keeps alive
            // for as long as the builder; the builder is disposed of in
            // `drop`.
            raw: unsafe { LLVMCreateBuilderInContext(context) },
            context,
            positioned: Cell::new(false),
            _context: PhantomData,
        }
    }

    /// Makes the next instructions go right before `inst`. Panics if `inst`
    /// is not an instruction inside a block of this context.
    pub fn position_before(&self, inst: Value) {
        assert!(
            is_instruction(inst),
            "building before a value that is no instruction"
        );
        self.check(inst);
        // SAFETY: `inst` is a live instruction of this context (checked).
        let in_block = !unsafe { LLVMGetInstructionParent(inst) }.is_null();
        assert!(in_block, "building before an instruction in no block");
        // SAFETY: the builder is live (owned), `inst` a live instruction
        // inside a block of the builder's context.
        unsafe { LLVMPositionBuilderBefore(self.raw, inst) };
        self.positioned.set(true);
    }

    /// `call f(args...)`, with `f`'s own function type. Panics if the
    /// number of arguments does not fit that type.
    pub fn call(&self, f: FunctionValue<'ctx>, args: &[Value]) -> Value {
        let f = self.check(f.as_value_ref());
        // SAFETY: `f` is a live function (a `FunctionValue`), a
        // `GlobalValue`, whose value type is its function type.
        let fty = unsafe { LLVMGlobalGetValueType(f) };
        // SAFETY: `fty` is a live function type.
        let (fixed, variadic) = unsafe {
            (
                LLVMCountParamTypes(fty) as usize,
                LLVMIsFunctionVarArg(fty) != 0,
            )
        };
        assert!(
            args.len() == fixed || variadic && args.len() > fixed,
            "{} arguments for {fixed} parameters",
            args.len()
        );
        let mut args: Vec<Value> = args.iter().map(|a| self.check(*a)).collect();
        // SAFETY: the builder is positioned (`at`); `f`, its type and the
        // arguments are live values of its context, as many as the type
        // takes; LLVM only reads the `args.len()` arguments.
        unsafe {
            LLVMBuildCall2(
                self.at(),
                fty,
                f,
                args.as_mut_ptr(),
                args.len() as u32,
                c"".as_ptr(),
            )
        }
    }

    /// `zext v to ty`. Panics unless `v` is an integer narrower than the
    /// integer type `ty`.
    pub fn zext(&self, v: Value, ty: Type) -> Value {
        let from = int_width(type_of(self.check(v)));
        assert!(from < int_width(ty), "zext to a type that is not wider");
        // SAFETY: the builder is positioned; `v` and `ty` are live and of its
        // context; the extension is valid (checked).
        unsafe { LLVMBuildZExt(self.at(), v, self.check_type(ty), c"".as_ptr()) }
    }

    /// `trunc v to ty`. Panics unless `v` is an integer wider than the
    /// integer type `ty`.
    pub fn trunc(&self, v: Value, ty: Type) -> Value {
        let from = int_width(type_of(self.check(v)));
        assert!(from > int_width(ty), "trunc to a type that is not narrower");
        // SAFETY: the builder is positioned; `v` and `ty` are live and of its
        // context; the truncation is valid (checked).
        unsafe { LLVMBuildTrunc(self.at(), v, self.check_type(ty), c"".as_ptr()) }
    }

    /// `lshr v, amount`. Panics if the two are not integers of one type.
    pub fn lshr(&self, v: Value, amount: Value) -> Value {
        let ty = type_of(self.check(v));
        assert!(
            type_kind(ty) == LLVMTypeKind::LLVMIntegerTypeKind && type_of(self.check(amount)) == ty,
            "lshr of {} by {}",
            type_string(ty),
            type_string(type_of(amount))
        );
        // SAFETY: the builder is positioned; `v` and `amount` are live
        // integers of one type, of its context.
        unsafe { LLVMBuildLShr(self.at(), v, amount, c"".as_ptr()) }
    }

    /// `bitcast v to ty`. Panics if both types have a size without a data
    /// layout and the sizes differ.
    pub fn bit_cast(&self, v: Value, ty: Type) -> Value {
        let from = type_of(self.check(v));
        if let (Some(a), Some(b)) = (primitive_bits(from), primitive_bits(ty)) {
            assert!(a == b, "bitcast of {a} bits to {b}");
        }
        // SAFETY: the builder is positioned; `v` and `ty` are live and of its
        // context; a cast LLVM cannot size here (pointers) is one the
        // verifier checks.
        unsafe { LLVMBuildBitCast(self.at(), v, self.check_type(ty), c"".as_ptr()) }
    }

    /// `ptrtoint v to ty`. Panics unless `v` is a pointer (or vector of
    /// them) and `ty` an integer type (or vector of them).
    pub fn ptr_to_int(&self, v: Value, ty: Type) -> Value {
        let scalar = |t: Type| match type_kind(t) {
            LLVMTypeKind::LLVMVectorTypeKind => type_kind(super::element_type(t)),
            kind => kind,
        };
        assert!(
            scalar(type_of(self.check(v))) == LLVMTypeKind::LLVMPointerTypeKind
                && scalar(ty) == LLVMTypeKind::LLVMIntegerTypeKind,
            "ptrtoint to {}",
            type_string(ty)
        );
        // SAFETY: the builder is positioned; `v` (pointers) and `ty`
        // (integers) are live and of its context.
        unsafe { LLVMBuildPtrToInt(self.at(), v, self.check_type(ty), c"".as_ptr()) }
    }

    /// `extractvalue aggregate, i`. Panics unless `aggregate` is a struct
    /// or array with an element `i`.
    pub fn extract_value(&self, aggregate: Value, i: u32) -> Value {
        let ty = type_of(self.check(aggregate));
        let n = match type_kind(ty) {
            LLVMTypeKind::LLVMStructTypeKind => struct_fields(ty).len() as u64,
            LLVMTypeKind::LLVMArrayTypeKind => super::array_length(ty),
            _ => 0,
        };
        assert!(u64::from(i) < n, "element {i} of a {}", type_string(ty));
        // SAFETY: the builder is positioned; `aggregate` is a live struct or
        // array of its context with an element `i`.
        unsafe { LLVMBuildExtractValue(self.at(), aggregate, i, c"".as_ptr()) }
    }

    /// `load ty, ptr` with alignment `align`. Panics unless `ptr` is a
    /// pointer.
    pub fn load(&self, ty: Type, ptr: Value, align: u32) -> Value {
        assert!(
            type_kind(type_of(self.check(ptr))) == LLVMTypeKind::LLVMPointerTypeKind,
            "load through a value that is no pointer"
        );
        // SAFETY: the builder is positioned; `ty` and the pointer `ptr` are
        // live and of its context; the result is a live load instruction,
        // the class `LLVMSetAlignment` accepts.
        unsafe {
            let load = LLVMBuildLoad2(self.at(), self.check_type(ty), ptr, c"".as_ptr());
            LLVMSetAlignment(load, align);
            load
        }
    }

    /// `store v, ptr` with alignment `align`. Panics unless `ptr` is a
    /// pointer.
    pub fn store(&self, v: Value, ptr: Value, align: u32) -> Value {
        assert!(
            type_kind(type_of(self.check(ptr))) == LLVMTypeKind::LLVMPointerTypeKind,
            "store through a value that is no pointer"
        );
        // SAFETY: the builder is positioned; `v` and the pointer `ptr` are
        // live values of its context; the result is a live store, the
        // class `LLVMSetAlignment` accepts.
        unsafe {
            let store = LLVMBuildStore(self.at(), self.check(v), ptr);
            LLVMSetAlignment(store, align);
            store
        }
    }

    /// `getelementptr i8, ptr, offset`: `ptr` moved by `offset` bytes
    /// (not `inbounds`: the result may lie outside `ptr`'s object). Panics
    /// unless `ptr` is a pointer.
    pub fn byte_offset(&self, ptr: Value, offset: i64) -> Value {
        let ty = type_of(self.check(ptr));
        assert!(
            type_kind(ty) == LLVMTypeKind::LLVMPointerTypeKind,
            "offset of a value that is no pointer"
        );
        // SAFETY: the builder is positioned; `ptr` is a live pointer of its
        // context; `i8` and `i64` are types of that context; the index array
        // holds the one index LLVM reads.
        unsafe {
            let i8t = LLVMInt8TypeInContext(self.context);
            let i64t = LLVMInt64TypeInContext(self.context);
            let mut index = [LLVMConstInt(i64t, offset as u64, 1)];
            LLVMBuildGEP2(self.at(), i8t, ptr, index.as_mut_ptr(), 1, c"".as_ptr())
        }
    }

    /// `llvm.memcpy(dst, src, size)` with the given alignments. Panics
    /// unless `dst` and `src` are pointers and `size` an integer.
    pub fn memcpy(
        &self,
        dst: Value,
        dst_align: u32,
        src: Value,
        src_align: u32,
        size: Value,
    ) -> Value {
        let kind = |v: Value| type_kind(type_of(self.check(v)));
        assert!(
            kind(dst) == LLVMTypeKind::LLVMPointerTypeKind
                && kind(src) == LLVMTypeKind::LLVMPointerTypeKind
                && kind(size) == LLVMTypeKind::LLVMIntegerTypeKind,
            "memcpy operands"
        );
        // SAFETY: the builder is positioned; `dst`, `src` (pointers) and
        // `size` (an integer) are live values of its context.
        unsafe { LLVMBuildMemCpy(self.at(), dst, dst_align, src, src_align, size) }
    }

    /// `llvm.memset(dst, 0, size)` with alignment `align`. Panics unless
    /// `dst` is a pointer.
    pub fn zero(&self, dst: Value, size: u64, align: u32) -> Value {
        assert!(
            type_kind(type_of(self.check(dst))) == LLVMTypeKind::LLVMPointerTypeKind,
            "memset of a value that is no pointer"
        );
        // SAFETY: the builder is positioned; `dst` is a live pointer of its
        // context; the byte and size constants are of that context.
        unsafe {
            let i8t = LLVMInt8TypeInContext(self.context);
            let i64t = LLVMInt64TypeInContext(self.context);
            LLVMBuildMemSet(
                self.at(),
                dst,
                LLVMConstInt(i8t, 0, 0),
                LLVMConstInt(i64t, size, 0),
                align,
            )
        }
    }

    /// Removes instruction `inst`, which nothing uses, from its block and
    /// deletes it; the builder, which may have been positioned before it,
    /// must be positioned again before it builds. `inst` (and every copy of
    /// the handle) is dangling afterwards: the caller uses none of them.
    /// Panics if `inst` is no instruction or is used.
    pub fn erase_unused(&self, inst: Value) {
        assert!(
            is_instruction(inst),
            "erasing a value that is no instruction"
        );
        // SAFETY: `inst` is live; the test reads its use list.
        let unused = unsafe { LLVMGetFirstUse(inst) }.is_null();
        assert!(unused, "erasing an instruction that is used");
        // SAFETY: the builder is live (owned); forgetting its insertion
        // point (which `inst` may be) leaves it unpositioned.
        unsafe { LLVMClearInsertionPosition(self.raw) };
        self.positioned.set(false);
        // SAFETY: `inst` is a live instruction that no value uses and that
        // no builder is positioned before any more, so deleting it leaves
        // nothing dangling; the caller keeps no handle to it.
        unsafe { LLVMInstructionEraseFromParent(inst) }
    }

    /// The raw builder, once positioned.
    fn at(&self) -> LLVMBuilderRef {
        assert!(
            self.positioned.get(),
            "building with an unpositioned builder"
        );
        self.raw
    }

    /// `v`, after checking that it belongs to the builder's context.
    fn check(&self, v: Value) -> Value {
        self.check_type(type_of(v));
        v
    }

    /// `t`, after checking that it belongs to the builder's context.
    fn check_type(&self, t: Type) -> Type {
        assert!(context_of(t) == self.context, "a type of another context");
        t
    }
}

impl Drop for Builder<'_> {
    fn drop(&mut self) {
        // SAFETY: `raw` was created in `new`, is owned by this builder alone
        // and is not used after this.
        unsafe { LLVMDisposeBuilder(self.raw) }
    }
}

/// Replaces operand `i` of instruction `inst` with `new`, a value of the
/// same type. Panics if `inst` is no instruction, has no operand `i`, or
/// the types differ.
pub fn set_operand(inst: Value, i: u32, new: Value) {
    assert!(
        is_instruction(inst),
        "setting an operand of a value that is no instruction"
    );
    // `operand` checks that `i` is in range.
    assert!(
        type_of(operand(inst, i)) == type_of(new),
        "operand {i} replaced by a {}",
        type_string(type_of(new))
    );
    // SAFETY: `inst` is a live instruction (constants would need LLVM's
    // uniquing) with an operand `i` of `new`'s type; `new` is live.
    unsafe { LLVMSetOperand(inst, i, new) }
}

/// Makes every use of `old` a use of `new`, a value of the same type.
/// Panics if the types differ.
pub fn replace_all_uses(old: Value, new: Value) {
    assert!(
        type_of(old) == type_of(new),
        "a {} replaced by a {}",
        type_string(type_of(old)),
        type_string(type_of(new))
    );
    // SAFETY: `old` and `new` are live values of one type.
    unsafe { LLVMReplaceAllUsesWith(old, new) }
}

/// Deletes function `f` if nothing uses it (no call, no address taken);
/// returns whether it did. `f` (and every copy of it) is dangling after a
/// deletion: the caller uses none of them.
pub fn delete_unused_function(f: FunctionValue) -> bool {
    let f = f.as_value_ref();
    // SAFETY: `f` is a live function; the test reads its use list.
    if !unsafe { LLVMGetFirstUse(f) }.is_null() {
        return false;
    }
    // SAFETY: `f` is a live function that no value uses, so deleting it
    // leaves no dangling use; the caller keeps no handle to it.
    unsafe { LLVMDeleteFunction(f) };
    true
}
