//! Thread-relative addresses never live across a call.
//!
//! musl's `errno` is a field of the thread descriptor, reached through
//! `__errno_location()`, which clang declares `const`; a `_Thread_local`
//! variable is reached through `llvm.threadlocal.address`. The optimizer
//! computes such an address once and keeps it across later calls. The
//! thread descriptor and the TLS block lie differently on the two ISAs
//! (TLS variant II on x86_64, variant I on aarch64; `errno`'s offset in the
//! descriptor differs too), so a kept address would point elsewhere after
//! a move (seen in SQLite, and in `errno = 0; strtol(...); e = errno;`).
//! Each use gets a computation of its own, right before it: the address is
//! then computed after any call, on the ISA the program runs on, and no
//! record holds it. (Should a backend merge them again across a call, the
//! certificate finds a value no record explains, and that call site is not
//! migratable: refused, never wrong.)

use crate::ir::{self, Value};
use inkwell::module::Module;
use inkwell::values::AsValueRef;

/// musl's accessor of the calling thread's `errno`.
const ERRNO_LOCATION: &str = "__errno_location";
/// The intrinsic that gives a thread-local variable's address.
const THREADLOCAL_ADDRESS: &str = "llvm.threadlocal.address";

/// Gives every use of `__errno_location()` and of a thread-local
/// variable's address its own computation; returns how many there are
/// afterwards.
pub fn one_call_per_use(module: &Module) -> usize {
    module
        .get_functions()
        .filter(|f| {
            let name = f.get_name().to_string_lossy();
            name == ERRNO_LOCATION || name.starts_with(THREADLOCAL_ADDRESS)
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|f| per_use(module, f))
        .sum()
}

/// One call of `f` (with the same arguments) before each use of each call.
fn per_use(module: &Module, f: inkwell::values::FunctionValue) -> usize {
    let calls: Vec<Value> = ir::users(f.as_value_ref())
        .into_iter()
        .filter(|u| ir::is_call(*u) && ir::direct_callee(*u) == Some(f.as_value_ref()))
        .collect();
    let builder = ir::Builder::new(module);
    let mut made = 0;
    for call in calls {
        let mut users = ir::users(call);
        users.dedup();
        for user in users {
            for (i, op) in ir::operands(user).into_iter().enumerate() {
                if op != call {
                    continue;
                }
                let before = if ir::is_phi(user) {
                    // Before the end of the block the value comes from.
                    let (_, block) = ir::incoming(user)[i];
                    ir::terminator(block).expect("a block ends in a terminator")
                } else {
                    user
                };
                builder.position_before(before);
                let fresh = builder.call(f, &ir::call_args(call));
                ir::set_operand(user, i as u32, fresh);
                made += 1;
            }
        }
        builder.erase_unused(call);
    }
    made
}

#[cfg(test)]
mod tests {
    use super::*;
    use inkwell::context::Context;
    use inkwell::memory_buffer::MemoryBuffer;

    #[test]
    fn a_thread_local_address_is_computed_at_each_use() {
        let ir = r#"
@t = thread_local global i64 0
declare ptr @llvm.threadlocal.address.p0(ptr)
declare void @g()
define i64 @f() {
  %a = call ptr @llvm.threadlocal.address.p0(ptr @t)
  store i64 1, ptr %a
  call void @g()
  %v = load i64, ptr %a
  ret i64 %v
}
"#;
        let ctx = Context::create();
        let buf = MemoryBuffer::create_from_memory_range_copy(ir.as_bytes(), "t.ll");
        let m = ctx.create_module_from_ir(buf).unwrap();
        assert_eq!(one_call_per_use(&m), 2);
        m.verify().unwrap();
        let out = m.print_to_string().to_string();
        let load = out.find("= load i64").unwrap();
        let g = out.find("call void @g()").unwrap();
        let last = out[..load]
            .rfind("@llvm.threadlocal.address.p0(ptr @t)")
            .unwrap();
        assert!(last > g, "{out}");
    }

    #[test]
    fn every_use_gets_its_own_call() {
        let ir = r#"
declare ptr @__errno_location() memory(none)
declare i64 @strtol(ptr, ptr, i32)
define i32 @f(ptr %s, i1 %c) {
entry:
  %e = call ptr @__errno_location()
  store i32 0, ptr %e
  %v = call i64 @strtol(ptr %s, ptr null, i32 10)
  br i1 %c, label %a, label %b
a:
  br label %b
b:
  %p = phi ptr [ %e, %entry ], [ %e, %a ]
  %r = load i32, ptr %e
  %q = load i32, ptr %p
  %sum = add i32 %r, %q
  ret i32 %sum
}
"#;
        let ctx = Context::create();
        let buf = MemoryBuffer::create_from_memory_range_copy(ir.as_bytes(), "t.ll");
        let m = ctx.create_module_from_ir(buf).unwrap();
        assert_eq!(one_call_per_use(&m), 4);
        m.verify().unwrap();
        let out = m.print_to_string().to_string();
        // The load after strtol reads through a call made after strtol.
        let load = out.find("%r = load").unwrap();
        let strtol = out.find("@strtol(ptr").unwrap();
        let last_errno = out[..load].rfind("@__errno_location()").unwrap();
        assert!(last_errno > strtol, "{out}");
    }
}
