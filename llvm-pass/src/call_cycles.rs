//! Which functions need a landmark at their entry.
//!
//! Loop landmarks bound the time a loop runs between two hits; what they
//! leave unbounded is recursion, a cycle of calls. A call chain without a
//! cycle is as deep as the call graph at most, and each function on it runs
//! for a bounded time between its loop landmarks, so only cycles need entry
//! landmarks, and a cycle needs only one. The functions that get one are a
//! feedback vertex set of the call graph: every cycle passes through one of
//! them. The smallest such set is NP-hard to find; the greedy choice below
//! (repeatedly, in each strongly connected component, the function with the
//! most calls in and out within it) is the usual heuristic and finds small
//! sets on real programs (a handful of interpreter functions for Lua).
//!
//! A call through a pointer may reach any function whose address is taken
//! and whose type is the call's (calling a function through a pointer of
//! another type is undefined behaviour in C; a variadic function, or a
//! variadic call, is matched by return type alone): one extra node per
//! function type stands for them. A call into a libc function that calls
//! back (`tsearch`, `nftw`, ...) goes to one node for every address-taken
//! function. These nodes cannot carry a landmark, so a cycle through one is
//! cut at a function on either side.

use crate::ir;
use inkwell::values::{AsValueRef, FunctionValue};
use std::collections::HashMap;

/// Functions of the native libc (not compiled through the pass) that call a
/// function pointer they are given, so a cycle may pass through them.
/// The others (musl's `qsort`, `bsearch`) are compiled with the program
/// (landmark-rt/musl/SOURCES) and their calls are seen.
const CALLING_BACK: &[&str] = &[
    "tsearch",
    "tfind",
    "tdelete",
    "twalk",
    "tdestroy",
    "lsearch",
    "lfind",
    "ftw",
    "nftw",
    "scandir",
    "glob",
    "fopencookie",
    "dl_iterate_phdr",
    "pthread_once",
    "call_once",
];

/// For each of `functions` (the module's functions, defined or not), whether
/// its entry needs a landmark so that every cycle of calls has one.
pub fn entry_landmarks(functions: &[FunctionValue]) -> Vec<bool> {
    let graph = CallGraph::new(functions);
    let n = functions.len();
    let mut removed = vec![false; graph.edges.len()];
    let mut chosen = vec![false; n];
    // A function that calls itself must have one whatever else is chosen.
    for (f, out) in graph.edges.iter().enumerate().take(n) {
        if out.contains(&f) {
            chosen[f] = true;
            removed[f] = true;
        }
    }
    loop {
        let cycles = graph.cyclic_components(&removed);
        if cycles.is_empty() {
            return chosen;
        }
        for component in cycles {
            let pick = graph.busiest(&component, n);
            chosen[pick] = true;
            removed[pick] = true;
        }
    }
}

/// Calls between a module's functions. Nodes `0..n` are the functions;
/// the rest stand for targets of indirect calls ([`CallGraph::new`]).
struct CallGraph {
    edges: Vec<Vec<usize>>,
}

impl CallGraph {
    fn new(functions: &[FunctionValue]) -> CallGraph {
        let n = functions.len();
        let values: Vec<ir::Value> = functions.iter().map(|f| f.as_value_ref()).collect();
        let index: HashMap<ir::Value, usize> =
            values.iter().enumerate().map(|(i, &f)| (f, i)).collect();
        let taken: Vec<usize> = (0..n).filter(|&i| address_taken(values[i])).collect();
        let defined: Vec<bool> = functions
            .iter()
            .map(|f| f.count_basic_blocks() > 0)
            .collect();
        // Node n: anything address-taken; n + 1 + k: the k-th function type
        // an indirect call uses.
        let mut edges: Vec<Vec<usize>> = vec![Vec::new(); n + 1];
        edges[n] = taken.clone();
        let mut by_type: HashMap<ir::Type, usize> = HashMap::new();
        for (i, &f) in values.iter().enumerate() {
            if !defined[i] {
                continue;
            }
            let mut out = Vec::new();
            for call in ir::blocks(f)
                .into_iter()
                .flat_map(ir::block_instructions)
                .filter(|i| ir::is_call(*i))
            {
                match ir::direct_callee(call) {
                    Some(callee) if index.get(&callee).is_some_and(|&c| defined[c]) => {
                        out.push(index[&callee])
                    }
                    // libc, the runtime, an intrinsic: no calls back but these
                    Some(callee) if CALLING_BACK.contains(&ir::name(callee).as_str()) => {
                        out.push(n)
                    }
                    Some(_) => {}
                    None if ir::is_inline_asm(ir::called_value(call)) => {}
                    None => {
                        let fty = ir::called_function_type(call);
                        let node = *by_type.entry(fty).or_insert_with(|| {
                            let targets = taken
                                .iter()
                                .copied()
                                .filter(|&t| may_call(fty, ir::function_type(values[t])))
                                .collect();
                            edges.push(targets);
                            edges.len() - 1
                        });
                        out.push(node);
                    }
                }
            }
            out.sort_unstable();
            out.dedup();
            edges[i] = out;
        }
        CallGraph { edges }
    }

    /// Strongly connected components with a cycle, over nodes not
    /// `removed` (Tarjan's algorithm, iterative: call graphs are deep).
    fn cyclic_components(&self, removed: &[bool]) -> Vec<Vec<usize>> {
        const UNSEEN: usize = usize::MAX;
        let count = self.edges.len();
        let mut order = vec![UNSEEN; count];
        let mut low = vec![0; count];
        let mut on_stack = vec![false; count];
        let mut stack = Vec::new();
        let mut next = 0;
        let mut out = Vec::new();
        for root in 0..count {
            if removed[root] || order[root] != UNSEEN {
                continue;
            }
            // (node, index of the next edge to follow)
            let mut work = vec![(root, 0)];
            order[root] = next;
            low[root] = next;
            next += 1;
            stack.push(root);
            on_stack[root] = true;
            while let Some(&mut (v, ref mut e)) = work.last_mut() {
                if let Some(&w) = self.edges[v].get(*e) {
                    *e += 1;
                    if removed[w] {
                        continue;
                    }
                    if order[w] == UNSEEN {
                        order[w] = next;
                        low[w] = next;
                        next += 1;
                        stack.push(w);
                        on_stack[w] = true;
                        work.push((w, 0));
                    } else if on_stack[w] {
                        low[v] = low[v].min(order[w]);
                    }
                    continue;
                }
                work.pop();
                if let Some(&(parent, _)) = work.last() {
                    low[parent] = low[parent].min(low[v]);
                }
                if low[v] == order[v] {
                    let mut component = Vec::new();
                    while let Some(w) = stack.pop() {
                        on_stack[w] = false;
                        component.push(w);
                        if w == v {
                            break;
                        }
                    }
                    // Self-loops were taken out first: one node is no cycle.
                    if component.len() > 1 {
                        out.push(component);
                    }
                }
            }
        }
        out
    }

    /// The function of `component` with the most calls in times calls out
    /// within it (never a node past the `n` functions).
    fn busiest(&self, component: &[usize], n: usize) -> usize {
        let mut member = vec![false; self.edges.len()];
        for &v in component {
            member[v] = true;
        }
        let mut calls_in = vec![0u64; self.edges.len()];
        let mut calls_out = vec![0u64; self.edges.len()];
        for &v in component {
            for &w in self.edges[v].iter().filter(|&&w| member[w]) {
                calls_out[v] += 1;
                calls_in[w] += 1;
            }
        }
        *component
            .iter()
            .filter(|&&v| v < n)
            .max_by_key(|&&v| (calls_in[v] * calls_out[v], std::cmp::Reverse(v)))
            .expect("a cycle has a function on it")
    }
}

/// True if a call through a pointer of type `call` may reach a function of
/// type `callee`.
fn may_call(call: ir::Type, callee: ir::Type) -> bool {
    call == callee
        || (ir::is_variadic(call) || ir::is_variadic(callee))
            && ir::return_type(call) == ir::return_type(callee)
}

/// True if `f` is used other than as the callee of a call: its address may
/// be called through a pointer.
fn address_taken(f: ir::Value) -> bool {
    ir::users(f).into_iter().any(|user| {
        !ir::is_call(user) || ir::called_value(user) != f || ir::call_args(user).contains(&f)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use inkwell::context::Context;
    use inkwell::memory_buffer::MemoryBuffer;

    /// `leaf` and `caller` call no cycle; `self_rec` calls itself; `even`
    /// and `odd` call each other; `apply` calls an `i32 (ptr)` pointer,
    /// which may be `callback` (address taken, same type, calls `apply`)
    /// but not `other` (address taken, another type, also calls `apply`);
    /// `sorter` passes `cmp` to `tsearch`, which calls back.
    const IR: &str = r#"
@table = global [2 x ptr] [ptr @callback, ptr @other]
declare ptr @tsearch(ptr, ptr, ptr)
define void @leaf() {
  ret void
}
define void @caller() {
  call void @leaf()
  call void @leaf()
  ret void
}
define void @self_rec(i32 %n) {
  call void @self_rec(i32 %n)
  ret void
}
define void @even() {
  call void @odd()
  ret void
}
define void @odd() {
  call void @even()
  ret void
}
define i32 @apply(ptr %f) {
  %r = call i32 %f(ptr null)
  ret i32 %r
}
define i32 @callback(ptr %p) {
  %r = call i32 @apply(ptr %p)
  ret i32 %r
}
define i64 @other(ptr %p) {
  %r = call i32 @apply(ptr %p)
  ret i64 0
}
define i32 @cmp(ptr %a, ptr %b) {
  call void @sorter()
  ret i32 0
}
define void @sorter() {
  %r = call ptr @tsearch(ptr null, ptr null, ptr @cmp)
  ret void
}
"#;

    fn landmarked() -> Vec<String> {
        let ctx = Context::create();
        let buf = MemoryBuffer::create_from_memory_range_copy(IR.as_bytes(), "t.ll");
        let m = ctx.create_module_from_ir(buf).unwrap();
        let functions: Vec<FunctionValue> = m.get_functions().collect();
        entry_landmarks(&functions)
            .into_iter()
            .zip(&functions)
            .filter(|(chosen, _)| *chosen)
            .map(|(_, f)| f.get_name().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn every_cycle_gets_exactly_one_entry_landmark() {
        let chosen = landmarked();
        let one_of = |names: &[&str]| {
            names
                .iter()
                .filter(|n| chosen.contains(&n.to_string()))
                .count()
        };
        assert!(chosen.contains(&"self_rec".to_string()), "{chosen:?}");
        assert_eq!(one_of(&["even", "odd"]), 1, "{chosen:?}");
        assert_eq!(one_of(&["apply", "callback"]), 1, "{chosen:?}");
        assert_eq!(one_of(&["cmp", "sorter"]), 1, "{chosen:?}");
        for free in ["leaf", "caller", "other", "tsearch"] {
            assert!(!chosen.contains(&free.to_string()), "{free} in {chosen:?}");
        }
    }
}
