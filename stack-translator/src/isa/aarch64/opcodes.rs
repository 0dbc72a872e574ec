//! aarch64 opcodes by what they do to registers and memory: loads,
//! stores, instructions without a destination, or that keep part of it.

use super::operands::width;
use yaxpeax_arm::armv8::a64::{Opcode, Operand};

pub(super) fn is_load(op: Opcode) -> bool {
    use Opcode::*;
    matches!(
        op,
        LDR | LDRB
            | LDRH
            | LDRSB
            | LDRSH
            | LDRSW
            | LDUR
            | LDURB
            | LDURH
            | LDURSB
            | LDURSH
            | LDURSW
            | LDP
            | LDPSW
            | LDNP
            | LDAR
            | LDARB
            | LDARH
            | LDAXR
            | LDAXRB
            | LDAXRH
            | LDXR
            | LDXRB
            | LDXRH
            | LDAXP
            | LDXP
            | LDAPR
            | LDAPRB
            | LDAPRH
            | LDAPUR
            | LDAPURB
            | LDAPURH
            | LDAPURSB
            | LDAPURSH
            | LDAPURSW
            | LD1
            | LD2
            | LD3
            | LD4
            | LD1R
            | LD2R
            | LD3R
            | LD4R
            | LDTR
            | LDTRB
            | LDTRH
            | LDTRSB
            | LDTRSH
            | LDTRSW
    )
}

pub(super) fn is_store(op: Opcode) -> bool {
    use Opcode::*;
    matches!(
        op,
        STR | STRB
            | STRH
            | STRW
            | STUR
            | STURB
            | STURH
            | STP
            | STNP
            | STLR
            | STLRB
            | STLRH
            | STLUR
            | STLURB
            | STLURH
            | ST1
            | ST2
            | ST3
            | ST4
            | STTR
            | STTRB
            | STTRH
    )
}

pub(super) fn is_store_exclusive(op: Opcode) -> bool {
    use Opcode::*;
    matches!(
        op,
        STXR | STXRB | STXRH | STLXR | STLXRB | STLXRH | STXP | STLXP
    )
}

/// Bytes each data register of a load or store moves, from the opcode
/// where it says (`ldrb`), else from the register.
pub(super) fn access_size(op: Opcode, data: &Operand) -> u32 {
    use Opcode::*;
    match op {
        LDRB | LDRSB | LDURB | LDURSB | STRB | STURB | LDARB | STLRB | LDAXRB | LDXRB | LDAPRB
        | LDAPURB | LDAPURSB | STLURB | LDTRB | LDTRSB | STTRB => 1,
        LDRH | LDRSH | LDURH | LDURSH | STRH | STURH | LDARH | STLRH | LDAXRH | LDXRH | LDAPRH
        | LDAPURH | LDAPURSH | STLURH | LDTRH | LDTRSH | STTRH => 2,
        LDRSW | LDURSW | LDPSW | LDAPURSW | LDTRSW => 4,
        _ => width(data),
    }
}

/// Instructions without a destination register (their first operand is a
/// source).
pub(super) fn writes_nothing(op: Opcode) -> bool {
    use Opcode::*;
    matches!(
        op,
        FCMP | FCMPE
            | FCCMP
            | FCCMPE
            | CCMP
            | CCMN
            | CBZ
            | CBNZ
            | TBZ
            | TBNZ
            | B
            | Bcc(..)
            | BR
            | BLR
            | BL
            | RET
            | HINT
            | DMB(..)
            | DSB(..)
            | ISB
            | CLREX
            | PRFM
            | PRFUM
            | MSR
            | SVC
            | BRK
            | HLT
            | SYS(..)
            | UDF
    )
}

/// Instructions that keep part of their destination (a read too).
pub(super) fn keeps_destination(op: Opcode) -> bool {
    use Opcode::*;
    matches!(
        op,
        MOVK | BFM
            | INS
            | FMLA
            | FMLS
            | MLA
            | MLS
            | BSL
            | BIT
            | BIF
            | SMLAL
            | SMLAL2
            | UMLAL
            | UMLAL2
            | SMLSL
            | SMLSL2
            | UMLSL
            | UMLSL2
            | XTN2
            | SQXTN2
            | UQXTN2
            | FCVTN2
            | SHRN2
            | RSHRN2
            | SSRA
            | USRA
            | SRI
            | SLI
            | SDOT
            | UDOT
            | TBX
            | SADALP
            | UADALP
            | SABA
            | UABA
            | SABAL
            | SABAL2
            | UABAL
            | UABAL2
            | FCVTL2
    )
}
