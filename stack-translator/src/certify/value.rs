//! The value lattice of the analysis: what a location holds, as far as
//! the analysis can tell ([`Val`]: a base, a scale, an offset, which part
//! and which bytes of it), and the arithmetic on it that stays exact.

use super::Loc;

/// A value, as far as the analysis can tell: `base * scale + offset`
/// (64-bit, wrapping), plus the CFA if `frame` (`&buf[i]` for a stack
/// array), or its 4-byte `part` (1 to 3: the upper parts of an 8- or
/// 16-byte value stored to consecutive slots; 0: the value itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct Val {
    pub(super) base: Base,
    pub(super) offset: i64,
    pub(super) part: u8,
    pub(super) scale: i64,
    pub(super) frame: bool,
    /// 0 for the whole value; else only its low `size` bytes, at byte
    /// `at` of a stack slot or zero-extended in a register
    /// ([`narrow_bytes`]): a byte-sized value spilled with `movb`.
    pub(super) bytes: u8,
    /// With `bytes`: how the bytes above the low `size` ones are known
    /// ([`EXT_ZERO`], ...), or [`EXT_NONE`] for a narrow store into a slot,
    /// which leaves the slot's other bytes as they were. An extended value
    /// is 64 bits wide: `ext(low bytes of base) * scale + offset` (the
    /// extension first, unlike a narrow one, which is the low bytes of the
    /// whole sum); in a slot, `part` k is its bytes 4k to 4k+3.
    pub(super) ext: u8,
}

/// [`Val::ext`]: the other bytes of the slot are unknown.
pub(super) const EXT_NONE: u8 = 0;
/// [`Val::ext`]: zero-extended to 64 bits.
pub(super) const EXT_ZERO: u8 = 1;
/// [`Val::ext`]: sign-extended to 64 bits.
pub(super) const EXT_SIGN: u8 = 2;
/// [`Val::ext`]: sign-extended to 32 bits, then zero-extended (`movsbl`
/// to a 32-bit register, `sxtb w0, w1`).
pub(super) const EXT_SIGN32: u8 = 3;

/// The value `v` extended from its low `size` bytes (`Op::Extend`), if it
/// can be said: a whole value, or one already extended from at most
/// `size` bytes in a way that the new extension keeps.
pub(super) fn extend(v: Val, size: u8, ext: u8) -> Option<Val> {
    if v.part != 0 || matches!(v.base, Base::Garbage | Base::Cfa) || v.frame {
        return None;
    }
    if v.base == Base::Absolute && v.bytes == 0 {
        let bits = 8 * size as u32;
        let low = (v.offset as u64) & (u64::MAX >> (64 - bits));
        let sign = low >> (bits - 1) & 1 == 1;
        let value = match ext {
            EXT_ZERO => low,
            _ if !sign => low,
            EXT_SIGN => low | (u64::MAX << bits),
            _ => low | ((u32::MAX as u64) << bits & 0xffff_ffff),
        };
        return Some(Val::at(Base::Absolute, value as i64));
    }
    // The extension applies to the base value itself (see `Val::ext`).
    if v.scale != 1 || v.offset != 0 {
        return None;
    }
    if v.bytes == 0 {
        return Some(Val {
            bytes: narrow_bytes(0, size as u32),
            ext,
            ..v
        });
    }
    let (at, had) = (v.bytes >> 4, v.bytes & 0xf);
    if at != 0 || v.ext == EXT_NONE {
        return None;
    }
    if had >= size {
        return Some(Val {
            bytes: narrow_bytes(0, size as u32),
            ext,
            ..v
        });
    }
    // Narrower than `size` already: a zero-extended value has zeros up to
    // bit 63, so extending it again changes nothing; a sign-extended one
    // stays so under sign extension to the same width or wider.
    match (v.ext, ext) {
        (EXT_ZERO, _) | (EXT_SIGN, EXT_SIGN) => Some(v),
        (EXT_SIGN, EXT_SIGN32) | (EXT_SIGN32, EXT_SIGN32) if size <= 4 => Some(Val {
            ext: EXT_SIGN32,
            ..v
        }),
        _ => None,
    }
}

/// [`Val::bytes`] for the low `size` bytes of a value at byte `at`.
pub(super) fn narrow_bytes(at: i64, size: u32) -> u8 {
    ((at as u8) << 4) | size as u8
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Base {
    /// An absolute number (the offset is the value).
    Absolute,
    /// The CFA (the offset is a frame address).
    Cfa,
    /// The location's content when the function was entered.
    Entry(Loc),
    /// Stack memory the function has not written yet (below the stack
    /// pointer at entry): no meaningful value. Where paths meet, it takes
    /// the value of the other paths (an IR `undef` may be any value).
    Garbage,
    /// Written by instruction `usize` into `Loc`.
    Def(usize, Loc),
    /// Different values meet at instruction `usize`.
    Phi(usize, Loc),
    /// The stack-protector guard (the same value everywhere in a process).
    Canary,
    /// A vector register's every 64-bit lane (the offset is the lane's
    /// value): only moved, never computed with (`transfer::moved_splat`).
    Splat,
}

impl Val {
    pub(super) fn of(base: Base) -> Self {
        Val {
            base,
            offset: 0,
            part: 0,
            scale: 1,
            frame: false,
            bytes: 0,
            ext: EXT_NONE,
        }
    }

    pub(super) fn at(base: Base, offset: i64) -> Self {
        Val {
            base,
            offset,
            part: 0,
            scale: 1,
            frame: false,
            bytes: 0,
            ext: EXT_NONE,
        }
    }
}

/// `a + b * times + disp`, where the analysis can say: at most one of
/// them a frame address, the other a value of the function, or either a
/// constant.
pub(super) fn sum(a: Val, b: Val, times: i64, disp: i64) -> Option<Val> {
    let narrow = |v: Val| v.bytes != 0 && v.ext == EXT_NONE;
    if a.part != 0 || b.part != 0 || narrow(a) || narrow(b) {
        return None;
    }
    let b = match b.base {
        Base::Cfa if times != 1 => return None,
        Base::Garbage => return None,
        _ if b.frame && times != 1 => return None,
        _ => Val {
            offset: b.offset.wrapping_mul(times),
            scale: b.scale.wrapping_mul(times),
            ..b
        },
    };
    let plus = |v: Val, k: i64| Val {
        offset: v.offset.wrapping_add(k).wrapping_add(disp),
        ..v
    };
    match (a.base, b.base) {
        (Base::Garbage, _) => None,
        (Base::Absolute, _) => Some(plus(b, a.offset)),
        (_, Base::Absolute) => Some(plus(a, b.offset)),
        (Base::Cfa, Base::Cfa) => None,
        (Base::Cfa, _) if !b.frame => Some(Val {
            frame: true,
            ..plus(b, a.offset)
        }),
        (_, Base::Cfa) if !a.frame => Some(Val {
            frame: true,
            ..plus(a, b.offset)
        }),
        _ => None,
    }
}
