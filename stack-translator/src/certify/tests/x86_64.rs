//! Certifying hand-assembled x86_64 functions.

use crate::certify::{Explanation, Function, Loc};
use crate::isa::{NoMemory, X86_64};
use crate::stackmaps::{Location, Record};

/// A function that keeps its argument in rbx across a call (recorded)
/// and a constant hoisted into r12 (not recorded).
const CODE: &[u8] = &[
    0x55, // push %rbp
    0x48, 0x89, 0xe5, // mov %rsp,%rbp
    0x41, 0x54, // push %r12
    0x53, // push %rbx
    0x48, 0x89, 0xfb, // mov %rdi,%rbx
    0x41, 0xbc, 0x2a, 0, 0, 0, // mov $42,%r12d
    0xe8, 0, 0, 0, 0, // call 0x1015
    0x4c, 0x01, 0xe3, // add %r12,%rbx   <- the record's point
    0x48, 0x89, 0xd8, // mov %rbx,%rax
    0x5b, // pop %rbx
    0x41, 0x5c, // pop %r12
    0x5d, // pop %rbp
    0xc3, // ret
];

fn function() -> Function<'static> {
    analysed(CODE)
}

/// x86_64 machine code at 0x1000, analysed.
fn analysed(code: &[u8]) -> Function<'static> {
    Function::new(
        X86_64,
        X86_64.decode(code, 0x1000, &NoMemory).unwrap(),
        &NoMemory,
        None,
    )
    .unwrap()
}

fn record(locations: Vec<Location>) -> Record {
    Record {
        id: 1,
        function: 0x1000,
        offset: 0x15,
        locations,
    }
}

#[test]
fn explains_recorded_values_constants_and_saved_registers() {
    let cert = function()
        .certify(&record(vec![Location::Register { reg: 3, size: 8 }]), &[])
        .unwrap();
    assert_eq!(cert.return_address, 0x1015);
    let find = |loc: Loc| {
        cert.live
            .iter()
            .find(|(l, _)| *l == loc)
            .map(|(_, e)| e.clone())
    };
    assert_eq!(
        find(Loc::Reg { reg: 3 }),
        Some(Explanation::Recorded { part: 0, plus: 0 })
    );
    assert_eq!(
        find(Loc::Reg { reg: 12 }),
        Some(Explanation::Constant { value: 42 })
    );
    // The saved rbx and r12 (read by the pops) are the caller's values.
    assert_eq!(
        find(Loc::Slot { offset: -32 }),
        Some(Explanation::CallersValue {
            of: Loc::Reg { reg: 3 }
        })
    );
    assert_eq!(
        find(Loc::Slot { offset: -24 }),
        Some(Explanation::CallersValue {
            of: Loc::Reg { reg: 12 }
        })
    );
    assert!(cert.migratable(), "{:?}", cert.live);
}

#[test]
fn explains_a_spilled_duplicate_of_a_recorded_value() {
    // The argument is kept in rbx (recorded) and also spilled to
    // [rbp-0x18] (not recorded), and both are read after the call.
    let code: &[u8] = &[
        0x55, // push %rbp
        0x48, 0x89, 0xe5, // mov %rsp,%rbp
        0x53, // push %rbx
        0x48, 0x83, 0xec, 0x18, // sub $0x18,%rsp
        0x48, 0x89, 0xfb, // mov %rdi,%rbx
        0x48, 0x89, 0x7d, 0xe8, // mov %rdi,-0x18(%rbp)
        0xe8, 0, 0, 0, 0, // call 0x1015
        0x48, 0x8b, 0x45, 0xe8, // mov -0x18(%rbp),%rax  <- the record's point
        0x48, 0x01, 0xd8, // add %rbx,%rax
        0x48, 0x83, 0xc4, 0x18, // add $0x18,%rsp
        0x5b, // pop %rbx
        0x5d, // pop %rbp
        0xc3, // ret
    ];
    let f = analysed(code);
    let cert = f
        .certify(&record(vec![Location::Register { reg: 3, size: 8 }]), &[])
        .unwrap();
    let find = |loc: Loc| cert.live.iter().find(|(l, _)| *l == loc).map(|(_, e)| e);
    // rbp = cfa-16, so the spill slot is cfa-40 (and its upper half).
    assert_eq!(
        find(Loc::Slot { offset: -40 }),
        Some(&Explanation::Recorded { part: 0, plus: 0 })
    );
    assert_eq!(
        find(Loc::Slot { offset: -36 }),
        Some(&Explanation::Upper {
            of: Box::new(Explanation::Recorded { part: 0, plus: 0 }),
            part: 1
        })
    );
    assert!(cert.migratable(), "{:?}", cert.live);
}

#[test]
fn explains_a_multiple_of_a_recorded_value() {
    // i * 40 (an element's byte offset) kept in r12 across the call,
    // i itself recorded in rbx.
    let code: &[u8] = &[
        0x55, // push %rbp
        0x48, 0x89, 0xe5, // mov %rsp,%rbp
        0x41, 0x54, // push %r12
        0x53, // push %rbx
        0x48, 0x89, 0xfb, // mov %rdi,%rbx
        0x4c, 0x6b, 0xe3, 0x28, // imul $40,%rbx,%r12
        0xe8, 0, 0, 0, 0, // call 0x1013
        0x4c, 0x01, 0xe3, // add %r12,%rbx   <- the record's point
        0x48, 0x89, 0xd8, // mov %rbx,%rax
        0x5b, // pop %rbx
        0x41, 0x5c, // pop %r12
        0x5d, // pop %rbp
        0xc3, // ret
    ];
    let f = analysed(code);
    let mut r = record(vec![Location::Register { reg: 3, size: 8 }]);
    r.offset = 0x13;
    let cert = f.certify(&r, &[]).unwrap();
    let r12 = cert.live.iter().find(|(l, _)| *l == Loc::Reg { reg: 12 });
    assert_eq!(
        r12.map(|(_, e)| e),
        Some(&Explanation::Scaled {
            part: 0,
            times: 40,
            plus: 0,
            frame: false
        }),
        "{:?}",
        cert.live
    );
    assert!(cert.migratable(), "{:?}", cert.live);
}

#[test]
fn explains_a_sign_extended_scaled_spill() {
    // An int index i recorded in ebx; (long)i * 16 (a byte offset)
    // spilled whole to [rbp-0x18] and read after the call.
    let code: &[u8] = &[
        0x55, // push %rbp
        0x48, 0x89, 0xe5, // mov %rsp,%rbp
        0x53, // push %rbx
        0x48, 0x83, 0xec, 0x18, // sub $0x18,%rsp
        0x89, 0xfb, // mov %edi,%ebx
        0x48, 0x63, 0xc7, // movslq %edi,%rax
        0x48, 0xc1, 0xe0, 0x04, // shl $4,%rax
        0x48, 0x89, 0x45, 0xe8, // mov %rax,-0x18(%rbp)
        0xe8, 0, 0, 0, 0, // call 0x101b
        0x48, 0x8b, 0x45, 0xe8, // mov -0x18(%rbp),%rax  <- the record's point
        0x48, 0x01, 0xd8, // add %rbx,%rax
        0x48, 0x83, 0xc4, 0x18, // add $0x18,%rsp
        0x5b, // pop %rbx
        0x5d, // pop %rbp
        0xc3, // ret
    ];
    let f = analysed(code);
    let mut r = record(vec![Location::Register { reg: 3, size: 4 }]);
    r.offset = 0x1b;
    let cert = f.certify(&r, &[]).unwrap();
    let find = |loc: Loc| cert.live.iter().find(|(l, _)| *l == loc).map(|(_, e)| e);
    let half = |half| Explanation::Extended {
        part: 0,
        size: 4,
        signed: true,
        to32: false,
        times: 16,
        plus: 0,
        frame: false,
        half,
    };
    assert_eq!(
        find(Loc::Slot { offset: -40 }),
        Some(&half(0)),
        "{:?}",
        cert.live
    );
    assert_eq!(
        find(Loc::Slot { offset: -36 }),
        Some(&half(1)),
        "{:?}",
        cert.live
    );
    assert!(cert.migratable(), "{:?}", cert.live);
}

#[test]
fn explains_a_sum_of_two_recorded_values() {
    // base + index * 8 + 16 kept in rbx across the call; base and
    // index recorded in r12 and r13.
    let code: &[u8] = &[
        0x55, // push %rbp
        0x48, 0x89, 0xe5, // mov %rsp,%rbp
        0x53, // push %rbx
        0x41, 0x54, // push %r12
        0x41, 0x55, // push %r13
        0x48, 0x83, 0xec, 0x08, // sub $8,%rsp
        0x49, 0x89, 0xfc, // mov %rdi,%r12
        0x49, 0x89, 0xf5, // mov %rsi,%r13
        0x4b, 0x8d, 0x5c, 0xec, 0x10, // lea 0x10(%r12,%r13,8),%rbx
        0xe8, 0, 0, 0, 0, // call 0x101d
        0x48, 0x89, 0xd8, // mov %rbx,%rax  <- the record's point
        0x4c, 0x01, 0xe0, // add %r12,%rax
        0x4c, 0x01, 0xe8, // add %r13,%rax
        0x48, 0x83, 0xc4, 0x08, // add $8,%rsp
        0x41, 0x5d, // pop %r13
        0x41, 0x5c, // pop %r12
        0x5b, // pop %rbx
        0x5d, // pop %rbp
        0xc3, // ret
    ];
    let f = analysed(code);
    let mut r = record(vec![
        Location::Register { reg: 12, size: 8 },
        Location::Register { reg: 13, size: 8 },
    ]);
    r.offset = 0x1d;
    let cert = f.certify(&r, &[]).unwrap();
    let rbx = cert.live.iter().find(|(l, _)| *l == Loc::Reg { reg: 3 });
    assert_eq!(
        rbx.map(|(_, e)| e),
        Some(&Explanation::Sum {
            a: 0,
            b: 1,
            times: 8,
            plus: 16
        }),
        "{:?}",
        cert.live
    );
    assert!(cert.migratable(), "{:?}", cert.live);
}

#[test]
fn explains_a_byte_spilled_inside_a_slot() {
    // An i8 argument spilled with movb to byte 3 of a 4-byte slot and
    // reloaded with movzbl into the recorded register.
    let code: &[u8] = &[
        0x55, // push %rbp
        0x48, 0x89, 0xe5, // mov %rsp,%rbp
        0x48, 0x83, 0xec, 0x10, // sub $0x10,%rsp
        0x40, 0x88, 0x7d, 0xf7, // mov %dil,-0x9(%rbp)
        0xe8, 0, 0, 0, 0, // call 0x1011
        0x0f, 0xb6, 0x45, 0xf7, // movzbl -0x9(%rbp),%eax
        0x48, 0x83, 0xc4, 0x10, // add $0x10,%rsp  <- the record's point
        0x5d, // pop %rbp
        0xc3, // ret
    ];
    let f = analysed(code);
    let mut r = record(vec![Location::Register { reg: 0, size: 1 }]);
    r.offset = 0x15;
    let cert = f.certify(&r, &[]).unwrap();
    // rbp = cfa-16: -0x9(%rbp) is byte 3 of the slot at cfa-28.
    let slot = cert
        .live
        .iter()
        .find(|(l, _)| *l == Loc::Slot { offset: -28 });
    assert_eq!(
        slot.map(|(_, e)| e),
        Some(&Explanation::Narrow {
            part: 0,
            at: 3,
            size: 1
        }),
        "{:?}",
        cert.live
    );
    assert!(cert.migratable(), "{:?}", cert.live);
}

#[test]
fn an_unrecorded_value_makes_the_site_not_migratable() {
    // The same code with nothing recorded: rbx holds the argument, which
    // no record names.
    let cert = function().certify(&record(vec![]), &[]).unwrap();
    assert!(!cert.migratable());
    let unknown: Vec<&Loc> = cert
        .live
        .iter()
        .filter(|(_, e)| matches!(e, Explanation::Unknown { .. }))
        .map(|(l, _)| l)
        .collect();
    assert_eq!(unknown, [&Loc::Reg { reg: 3 }]);
}
