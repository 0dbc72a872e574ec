//! Certifying hand-assembled aarch64 functions (little-endian instruction
//! words at 0x1000, checked with `llvm-mc-19 --triple=aarch64` and
//! `llvm-objdump-19 -d`). DWARF numbers: x0-x30 are 0-30, sp is 31.

use crate::certify::{Certificate, Explanation, Function, Loc, Refusal, RefusalKind};
use crate::isa::{Memory, NoMemory, AARCH64};
use crate::stackmaps::{Location, Record};

/// aarch64 machine code at 0x1000, analysed.
fn analysed(words: &[u32]) -> Function<'static> {
    analysed_with(words, &NoMemory).unwrap()
}

/// aarch64 machine code at 0x1000, analysed with the executable's other
/// loaded bytes in `memory`.
fn analysed_with(words: &[u32], memory: &dyn Memory) -> Result<Function<'static>, Refusal> {
    let code: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    Function::new(
        AARCH64,
        AARCH64.decode(&code, 0x1000, memory).unwrap(),
        memory,
        None,
    )
}

/// Loaded bytes: (address, 8-byte little-endian words there).
struct Image(Vec<(u64, Vec<u8>)>);

impl Image {
    fn new(regions: &[(u64, &[u64])]) -> Self {
        Image(
            regions
                .iter()
                .map(|(at, words)| (*at, words.iter().flat_map(|w| w.to_le_bytes()).collect()))
                .collect(),
        )
    }
}

impl Memory for Image {
    fn read(&self, address: u64, len: usize) -> Option<&[u8]> {
        self.0.iter().find_map(|(start, bytes)| {
            let off = address.checked_sub(*start)? as usize;
            bytes.get(off..off.checked_add(len)?)
        })
    }
}

/// Record 1 of the function at 0x1000, at `offset` (just after its call).
fn record(offset: u32, locations: Vec<Location>) -> Record {
    Record {
        id: 1,
        function: 0x1000,
        offset,
        locations,
    }
}

/// What `cert` explains `loc` by, if `loc` is live.
fn explanation(cert: &Certificate, loc: Loc) -> Option<&Explanation> {
    cert.live.iter().find(|(l, _)| *l == loc).map(|(_, e)| e)
}

fn x(reg: u16) -> Loc {
    Loc::Reg { reg }
}

fn slot(offset: i64) -> Loc {
    Loc::Slot { offset }
}

/// The caller's value of register `reg`, saved in the frame.
fn callers(reg: u16) -> Explanation {
    Explanation::CallersValue { of: x(reg) }
}

#[test]
fn explains_a_callee_saved_copy_a_constant_and_the_call_result() {
    // The argument kept in x19 (recorded) and a constant built with
    // movz/movk in x20 (not recorded), both read after the call with its
    // result; the prologue saves x29, x30, x19 and x20 in the frame.
    let f = analysed(&[
        0xa9be7bfd, // stp x29, x30, [sp, #-0x20]!
        0x910003fd, // mov x29, sp
        0xa90153f3, // stp x19, x20, [sp, #0x10]
        0xaa0003f3, // mov x19, x0
        0xd2824694, // mov x20, #0x1234
        0xf2aacf14, // movk x20, #0x5678, lsl #16
        0x94000000, // bl .
        0x8b130000, // add x0, x0, x19   <- the record's point (0x101c)
        0x8b140000, // add x0, x0, x20
        0xa94153f3, // ldp x19, x20, [sp, #0x10]
        0xa8c27bfd, // ldp x29, x30, [sp], #0x20
        0xd65f03c0, // ret
    ]);
    let cert = f
        .certify(
            &record(0x1c, vec![Location::Register { reg: 19, size: 8 }]),
            &[],
        )
        .unwrap();
    assert_eq!(cert.return_address, 0x101c);
    assert_eq!(
        explanation(&cert, x(19)),
        Some(&Explanation::Recorded { part: 0, plus: 0 })
    );
    assert_eq!(
        explanation(&cert, x(20)),
        Some(&Explanation::Constant { value: 0x5678_1234 })
    );
    assert_eq!(explanation(&cert, x(0)), Some(&Explanation::CallResult));
    // sp = cfa-32 after the prologue: the frame record (x29, x30) at
    // cfa-32, x19 and x20 above it. The link register is the caller's
    // return address, frame geometry like the frame pointer.
    assert_eq!(explanation(&cert, slot(-32)), Some(&callers(29)));
    assert_eq!(explanation(&cert, slot(-24)), Some(&callers(30)));
    assert_eq!(explanation(&cert, slot(-16)), Some(&callers(19)));
    assert_eq!(explanation(&cert, slot(-8)), Some(&callers(20)));
    assert!(cert.migratable(), "{:?}", cert.live);
}

#[test]
fn explains_global_addresses_from_adrp_and_add() {
    // `&global` (adrp + add :lo12:) and `&global.field` kept in x19 and
    // x20 across the call, neither recorded: both are constants.
    let f = analysed(&[
        0xa9be7bfd, // stp x29, x30, [sp, #-0x20]!
        0x910003fd, // mov x29, sp
        0xa90153f3, // stp x19, x20, [sp, #0x10]
        0xf0000013, // adrp x19, 0x4000 (three pages on from 0x100c's)
        0x9100a273, // add x19, x19, #0x28
        0x91004274, // add x20, x19, #0x10
        0x94000000, // bl .
        0xf9400260, // ldr x0, [x19]   <- the record's point (0x101c)
        0xf9400281, // ldr x1, [x20]
        0x8b010000, // add x0, x0, x1
        0xa94153f3, // ldp x19, x20, [sp, #0x10]
        0xa8c27bfd, // ldp x29, x30, [sp], #0x20
        0xd65f03c0, // ret
    ]);
    let cert = f.certify(&record(0x1c, vec![]), &[]).unwrap();
    assert_eq!(
        explanation(&cert, x(19)),
        Some(&Explanation::Constant { value: 0x4028 })
    );
    assert_eq!(
        explanation(&cert, x(20)),
        Some(&Explanation::Constant { value: 0x4038 })
    );
    assert!(cert.migratable(), "{:?}", cert.live);
}

#[test]
fn explains_a_value_spilled_with_str_and_reloaded_with_ldr() {
    // The argument is kept in x19 (recorded) and also spilled to
    // [sp, #0x18] (not recorded); the reload after the call reads the
    // spill slot.
    let f = analysed(&[
        0xa9be7bfd, // stp x29, x30, [sp, #-0x20]!
        0x910003fd, // mov x29, sp
        0xf9000bf3, // str x19, [sp, #0x10]
        0xaa0003f3, // mov x19, x0
        0xf9000fe0, // str x0, [sp, #0x18]
        0x94000000, // bl .
        0xf9400fe0, // ldr x0, [sp, #0x18]   <- the record's point (0x1018)
        0x8b130000, // add x0, x0, x19
        0xf9400bf3, // ldr x19, [sp, #0x10]
        0xa8c27bfd, // ldp x29, x30, [sp], #0x20
        0xd65f03c0, // ret
    ]);
    let cert = f
        .certify(
            &record(0x18, vec![Location::Register { reg: 19, size: 8 }]),
            &[],
        )
        .unwrap();
    // sp = cfa-32: the spill is at cfa-8, its upper half at cfa-4.
    assert_eq!(
        explanation(&cert, slot(-8)),
        Some(&Explanation::Recorded { part: 0, plus: 0 })
    );
    assert_eq!(
        explanation(&cert, slot(-4)),
        Some(&Explanation::Upper {
            of: Box::new(Explanation::Recorded { part: 0, plus: 0 }),
            part: 1
        })
    );
    assert_eq!(explanation(&cert, slot(-16)), Some(&callers(19)));
    assert!(cert.migratable(), "{:?}", cert.live);
}

#[test]
fn explains_a_scaled_sum_and_a_sign_extended_spill() {
    // p and i recorded in x19 and x20, p + i * 8 kept in x21; an int n
    // recorded in its 4-byte spill slot [x29, #0x30], and (long)n spilled
    // whole to [x29, #0x28].
    let f = analysed(&[
        0xa9bc7bfd, // stp x29, x30, [sp, #-0x40]!
        0x910003fd, // mov x29, sp
        0xa90153f3, // stp x19, x20, [sp, #0x10]
        0xf90013f5, // str x21, [sp, #0x20]
        0xaa0003f3, // mov x19, x0
        0xaa0103f4, // mov x20, x1
        0x8b140e75, // add x21, x19, x20, lsl #3
        0xb90033a2, // str w2, [x29, #0x30]
        0x93407c40, // sxtw x0, w2
        0xf90017a0, // str x0, [x29, #0x28]
        0x94000000, // bl .
        0xf94017a0, // ldr x0, [x29, #0x28]   <- the record's point (0x102c)
        0x8b150000, // add x0, x0, x21
        0xa94153f3, // ldp x19, x20, [sp, #0x10]
        0xf94013f5, // ldr x21, [sp, #0x20]
        0xa8c47bfd, // ldp x29, x30, [sp], #0x40
        0xd65f03c0, // ret
    ]);
    let r = record(
        0x2c,
        vec![
            Location::Register { reg: 19, size: 8 },
            Location::Register { reg: 20, size: 8 },
            Location::Indirect {
                reg: 29,
                offset: 0x30,
                size: 4,
            },
        ],
    );
    let cert = f.certify(&r, &[]).unwrap();
    assert_eq!(
        explanation(&cert, x(21)),
        Some(&Explanation::Sum {
            a: 0,
            b: 1,
            times: 8,
            plus: 0
        })
    );
    // x29 = cfa-64: (long)n is at cfa-24, both halves of it.
    let half = |half| Explanation::Extended {
        part: 2,
        size: 4,
        signed: true,
        to32: false,
        times: 1,
        plus: 0,
        frame: false,
        half,
    };
    assert_eq!(explanation(&cert, slot(-24)), Some(&half(0)));
    assert_eq!(explanation(&cert, slot(-20)), Some(&half(1)));
    assert!(cert.migratable(), "{:?}", cert.live);
}

#[test]
fn an_unrecorded_sum_makes_the_site_not_migratable() {
    // x19 = x0 + x1, read after the call, and no record names it or its
    // operands.
    let f = analysed(&[
        0xa9be7bfd, // stp x29, x30, [sp, #-0x20]!
        0x910003fd, // mov x29, sp
        0xf9000bf3, // str x19, [sp, #0x10]
        0x8b010013, // add x19, x0, x1
        0x94000000, // bl .
        0xaa1303e0, // mov x0, x19   <- the record's point (0x1014)
        0xf9400bf3, // ldr x19, [sp, #0x10]
        0xa8c27bfd, // ldp x29, x30, [sp], #0x20
        0xd65f03c0, // ret
    ]);
    let cert = f.certify(&record(0x14, vec![]), &[]).unwrap();
    assert!(!cert.migratable());
    let unknown: Vec<(&Loc, &str)> = cert
        .live
        .iter()
        .filter_map(|(l, e)| match e {
            Explanation::Unknown { why } => Some((l, why.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(unknown.len(), 1, "{:?}", cert.live);
    assert_eq!(unknown[0].0, &x(19));
    // The reason names the value's definition and the read that needs it.
    assert!(
        unknown[0].1.contains("0x100c (add x19, x0, x1)")
            && unknown[0].1.contains("read at 0x1014 (mov x0, x19)"),
        "{}",
        unknown[0].1
    );
}

#[test]
fn reads_a_computed_goto_table_whose_address_the_values_give() {
    // `goto *table[i]`: the table's address comes from a literal pool
    // (`ldr x20, =table`), out of the decoder's reach, so only the value
    // analysis knows it. Without the table, the jump's targets are unknown
    // and nothing in the function can migrate.
    const CODE: &[u32] = &[
        0xa9be7bfd, // stp x29, x30, [sp, #-0x20]!
        0x910003fd, // mov x29, sp
        0xa90153f3, // stp x19, x20, [sp, #0x10]
        0xaa0003f3, // mov x19, x0
        0x58007f94, // ldr x20, 0x2000 (the literal: 0x4100)
        0x94000000, // bl .
        0xf8737a89, // ldr x9, [x20, x19, lsl #3]
        0xd61f0120, // br x9
        0x94000000, // bl .   (0x1020: the first target)
        0x14000003, // b 0x1030   <- the record's point (0x1024)
        0xd2800020, // mov x0, #1   (0x1028: the second target)
        0x14000001, // b 0x1030
        0xaa1303e0, // mov x0, x19
        0xa94153f3, // ldp x19, x20, [sp, #0x10]
        0xa8c27bfd, // ldp x29, x30, [sp], #0x20
        0xd65f03c0, // ret
    ];
    let refused = analysed_with(CODE, &NoMemory).err().map(|r| (r.kind, r.at));
    assert_eq!(
        refused,
        Some((RefusalKind::UnknownJumpTargets, Some(0x101c)))
    );
    let image = Image::new(&[(0x2000, &[0x4100]), (0x4100, &[0x1020, 0x1028])]);
    let f = analysed_with(CODE, &image).unwrap();
    let cert = f
        .certify(
            &record(0x24, vec![Location::Register { reg: 19, size: 8 }]),
            &[],
        )
        .unwrap();
    // x19 is read after the paths from both targets meet.
    assert_eq!(
        explanation(&cert, x(19)),
        Some(&Explanation::Recorded { part: 0, plus: 0 })
    );
    assert!(cert.migratable(), "{:?}", cert.live);
}
