//! Types: their kinds and parts, and their sizes and offsets under a data
//! layout.

use super::{constant_expr_opcode, is_alloca, opcode, Type, Value};
use inkwell::llvm_sys::core::*;
use inkwell::llvm_sys::prelude::LLVMContextRef;
use inkwell::llvm_sys::target::{
    LLVMABISizeOfType, LLVMOffsetOfElement, LLVMSizeOfTypeInBits, LLVMStoreSizeOfType,
};
use inkwell::llvm_sys::{LLVMOpcode, LLVMTypeKind};
use inkwell::targets::TargetData;
use std::ffi::CStr;

/// The type of a value.
pub fn type_of(v: Value) -> Type {
    // SAFETY: `v` is live (the handle invariant, see `ir`); every value has
    // a type.
    unsafe { LLVMTypeOf(v) }
}

/// What kind of type `t` is.
pub fn type_kind(t: Type) -> LLVMTypeKind {
    // SAFETY: `t` is a live type (the handle invariant, see `ir`).
    unsafe { LLVMGetTypeKind(t) }
}

/// The context that owns `t`.
pub(super) fn context_of(t: Type) -> LLVMContextRef {
    // SAFETY: `t` is a live type (the handle invariant, see `ir`).
    unsafe { LLVMGetTypeContext(t) }
}

/// The width in bits of an integer type. Panics for other types.
pub fn int_width(t: Type) -> u32 {
    assert_kind(t, &[LLVMTypeKind::LLVMIntegerTypeKind]);
    // SAFETY: `t` is a live `IntegerType`, the class the C API casts it to.
    unsafe { LLVMGetIntTypeWidth(t) }
}

/// The element type of an array or vector type. Panics for other types.
pub fn element_type(t: Type) -> Type {
    assert_kind(
        t,
        &[
            LLVMTypeKind::LLVMArrayTypeKind,
            LLVMTypeKind::LLVMVectorTypeKind,
            LLVMTypeKind::LLVMScalableVectorTypeKind,
        ],
    );
    // SAFETY: `t` is a live array or vector type, the classes the C API
    // handles.
    unsafe { LLVMGetElementType(t) }
}

/// The number of elements of a vector type (the minimum, if scalable).
/// Panics for other types.
pub fn vector_size(t: Type) -> u32 {
    assert_kind(
        t,
        &[
            LLVMTypeKind::LLVMVectorTypeKind,
            LLVMTypeKind::LLVMScalableVectorTypeKind,
        ],
    );
    // SAFETY: `t` is a live `VectorType`, the class the C API casts it to.
    unsafe { LLVMGetVectorSize(t) }
}

/// The number of elements of an array type. Panics for other types.
pub fn array_length(t: Type) -> u64 {
    assert_kind(t, &[LLVMTypeKind::LLVMArrayTypeKind]);
    // SAFETY: `t` is a live `ArrayType`, the class the C API casts it to.
    unsafe { LLVMGetArrayLength2(t) }
}

/// The field types of a struct type, in order. Panics for other types.
pub fn struct_fields(t: Type) -> Vec<Type> {
    assert_kind(t, &[LLVMTypeKind::LLVMStructTypeKind]);
    // SAFETY: `t` is a live `StructType`, the class the C API casts it to.
    let n = unsafe { LLVMCountStructElementTypes(t) };
    (0..n)
        .map(|i| {
            // SAFETY: `t` is a live struct type with `n` > `i` fields.
            unsafe { LLVMStructGetTypeAtIndex(t, i) }
        })
        .collect()
}

/// The `bits`-bit integer type of `like`'s context. Panics if LLVM has no
/// integer type that wide.
pub fn int_type(like: Type, bits: u32) -> Type {
    // LLVM's `IntegerType::MAX_INT_BITS`.
    assert!((1..=1 << 23).contains(&bits), "no {bits}-bit integer type");
    // SAFETY: the context is `like`'s, live with it; `bits` is a width LLVM
    // supports.
    unsafe { LLVMIntTypeInContext(context_of(like), bits) }
}

/// The constant `value` of integer type `t` (zero-extended if `t` is wider
/// than 64 bits, truncated if narrower). Panics if `t` is no integer type.
pub fn const_int(t: Type, value: u64) -> Value {
    assert_kind(t, &[LLVMTypeKind::LLVMIntegerTypeKind]);
    // SAFETY: `t` is a live integer type, the class the C API casts it to.
    unsafe { LLVMConstInt(t, value, 0) }
}

/// The vector type of `n` elements of type `elem` (an integer,
/// floating-point or pointer type). Panics for other element types or
/// `n` = 0.
pub fn vector_type(elem: Type, n: u32) -> Type {
    assert!(n > 0, "a vector type without elements");
    assert!(
        is_scalar(type_kind(elem)),
        "a vector of {}",
        type_string(elem)
    );
    // SAFETY: `elem` is a live type that can be a vector element, `n` > 0.
    unsafe { LLVMVectorType(elem, n) }
}

/// True for the types a vector can have as elements.
fn is_scalar(kind: LLVMTypeKind) -> bool {
    use LLVMTypeKind::*;
    matches!(
        kind,
        LLVMIntegerTypeKind
            | LLVMPointerTypeKind
            | LLVMHalfTypeKind
            | LLVMBFloatTypeKind
            | LLVMFloatTypeKind
            | LLVMDoubleTypeKind
            | LLVMX86_FP80TypeKind
            | LLVMFP128TypeKind
            | LLVMPPC_FP128TypeKind
    )
}

/// The size in bits of a type without a data layout (its "primitive size":
/// integers, floating point and vectors of them), if it has one.
pub(super) fn primitive_bits(t: Type) -> Option<u64> {
    use LLVMTypeKind::*;
    Some(match type_kind(t) {
        LLVMIntegerTypeKind => int_width(t) as u64,
        LLVMHalfTypeKind | LLVMBFloatTypeKind => 16,
        LLVMFloatTypeKind => 32,
        LLVMDoubleTypeKind => 64,
        LLVMX86_FP80TypeKind => 80,
        LLVMFP128TypeKind | LLVMPPC_FP128TypeKind => 128,
        LLVMVectorTypeKind => primitive_bits(element_type(t))? * vector_size(t) as u64,
        _ => return None,
    })
}

/// How LLVM prints a type (`i64`, `{ i64, double }`).
pub fn type_string(t: Type) -> String {
    // SAFETY: `t` is a live type; LLVM returns a new NUL-terminated string,
    // copied here and then freed with the function meant for it.
    unsafe {
        let p = LLVMPrintTypeToString(t);
        let s = CStr::from_ptr(p).to_string_lossy().into_owned();
        LLVMDisposeMessage(p);
        s
    }
}

/// The type a stack allocation allocates (one element of). Panics if `v`
/// is not an alloca.
pub fn allocated_type(v: Value) -> Type {
    assert!(is_alloca(v), "allocated type of a value that is no alloca");
    // SAFETY: `v` is a live `AllocaInst`, the class the C API casts it to.
    unsafe { LLVMGetAllocatedType(v) }
}

/// The source element type of a GEP (instruction or constant expression).
/// Panics for other values.
pub fn gep_source_element_type(gep: Value) -> Type {
    assert!(
        opcode(gep).or_else(|| constant_expr_opcode(gep)) == Some(LLVMOpcode::LLVMGetElementPtr),
        "source element type of a value that is no GEP"
    );
    // SAFETY: `gep` is a live GEP instruction or constant expression: a
    // `GEPOperator`, the class the C API casts it to.
    unsafe { LLVMGetGEPSourceElementType(gep) }
}

/// The bytes an object of type `t` takes in memory, padding for its
/// alignment included (what an alloca or an array element takes). Panics
/// if `t` has no size.
pub fn abi_size(layout: &TargetData, t: Type) -> u64 {
    assert_sized(t);
    // SAFETY: `layout` is borrowed, hence live; `t` is a live sized type.
    unsafe { LLVMABISizeOfType(layout.as_mut_ptr(), t) }
}

/// The bytes a store of type `t` writes. Panics if `t` has no size.
pub fn store_size(layout: &TargetData, t: Type) -> u64 {
    assert_sized(t);
    // SAFETY: `layout` is borrowed, hence live; `t` is a live sized type.
    unsafe { LLVMStoreSizeOfType(layout.as_mut_ptr(), t) }
}

/// The size of type `t` in bits. Panics if `t` has no size.
pub fn size_in_bits(layout: &TargetData, t: Type) -> u64 {
    assert_sized(t);
    // SAFETY: `layout` is borrowed, hence live; `t` is a live sized type.
    unsafe { LLVMSizeOfTypeInBits(layout.as_mut_ptr(), t) }
}

/// The byte offset of field `i` of struct type `t`. Panics if `t` is not a
/// sized struct type with such a field.
pub fn field_offset(layout: &TargetData, t: Type, i: u32) -> u64 {
    let n = struct_fields(t).len();
    assert!((i as usize) < n, "field {i} of a struct with {n} fields");
    assert_sized(t);
    // SAFETY: `layout` is borrowed, hence live; `t` is a live sized struct
    // type with a field `i`.
    unsafe { LLVMOffsetOfElement(layout.as_mut_ptr(), t, i) }
}

fn assert_kind(t: Type, kinds: &[LLVMTypeKind]) {
    let kind = type_kind(t);
    assert!(kinds.contains(&kind), "unexpected type {}", type_string(t));
}

/// Data layout queries on a type without a size (`void`, a function, an
/// opaque struct) are undefined in LLVM.
fn assert_sized(t: Type) {
    // SAFETY: `t` is a live type; the test is defined for every type.
    let sized = unsafe { LLVMTypeIsSized(t) } != 0;
    assert!(sized, "size of the unsized type {}", type_string(t));
}
