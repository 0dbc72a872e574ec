//! Structs shared with the C runtime, defined once: [`c_struct!`] declares
//! a `#[repr(C)]` Rust struct, its little-endian encoding, and the field
//! table from which [`crate::c_header`] writes the C definition (with
//! `_Static_assert`s on its size and every offset, so that the C compiler
//! checks it lays the struct out as Rust does). Neither ISA pads these
//! structs: every field is naturally aligned and the macro refuses
//! implicit padding.

/// A type a shared struct's field can have, and how C spells it.
pub trait CField: Sized + Copy {
    /// The C type (`uint32_t`); an array's element type.
    const C_TYPE: &'static str;
    /// The element count of an array field.
    const ARRAY: Option<usize> = None;
    const SIZE: usize = std::mem::size_of::<Self>();
    /// Appends the little-endian bytes.
    fn put(&self, out: &mut Vec<u8>);
    /// Reads from exactly `SIZE` bytes.
    fn get(bytes: &[u8]) -> Self;
}

macro_rules! int_field {
    ($($t:ty => $c:literal),* $(,)?) => {$(
        impl CField for $t {
            const C_TYPE: &'static str = $c;
            fn put(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn get(bytes: &[u8]) -> Self {
                <$t>::from_le_bytes(bytes.try_into().expect("SIZE bytes"))
            }
        }
    )*};
}

int_field!(u8 => "uint8_t", u16 => "uint16_t", u32 => "uint32_t", u64 => "uint64_t",
           i16 => "int16_t", i32 => "int32_t", i64 => "int64_t");

impl<const N: usize> CField for [u8; N] {
    const C_TYPE: &'static str = "uint8_t";
    const ARRAY: Option<usize> = Some(N);
    fn put(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }
    fn get(bytes: &[u8]) -> Self {
        bytes.try_into().expect("SIZE bytes")
    }
}

/// One field of a shared struct, for the C header.
#[derive(Debug, Clone, Copy)]
pub struct FieldInfo {
    pub name: &'static str,
    pub c_type: &'static str,
    pub array: Option<usize>,
    pub offset: usize,
    pub doc: &'static str,
}

/// A struct shared with the C runtime (declared with [`c_struct!`]).
pub trait CStruct: Sized {
    /// `struct NAME` in C.
    const C_NAME: &'static str;
    /// What it is, for the header.
    const DOC: &'static str;
    /// Bytes, without padding (the macro checks `size_of` is this).
    const SIZE: usize;
    fn fields() -> Vec<FieldInfo>;
    /// Appends the little-endian bytes, as the runtime stores it.
    fn encode(&self, out: &mut Vec<u8>);
    /// Reads one from the start of `bytes`; `None` if fewer than `SIZE`.
    fn decode(bytes: &[u8]) -> Option<Self>;

    /// The encoding alone.
    fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::SIZE);
        self.encode(&mut out);
        out
    }
}

/// Declares a struct shared with the C runtime:
/// ```ignore
/// c_struct! {
///     /// Doc (also the C header's comment).
///     pub struct WalkedFrame as "walked_frame" {
///         /// Doc.
///         pub pc: u64,
///     }
/// }
/// ```
macro_rules! c_struct {
    (
        #[doc = $doc:literal]
        $(#[doc = $more:literal])*
        pub struct $name:ident as $c_name:literal {
            $(
                #[doc = $fdoc:literal]
                $(#[doc = $fmore:literal])*
                pub $field:ident : $ty:ty,
            )*
        }
    ) => {
        #[doc = $doc]
        $(#[doc = $more])*
        #[repr(C)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
        pub struct $name {
            $(
                #[doc = $fdoc]
                $(#[doc = $fmore])*
                pub $field: $ty,
            )*
        }

        impl $crate::c_struct::CStruct for $name {
            const C_NAME: &'static str = $c_name;
            const DOC: &'static str = concat!($doc $(, "\n", $more)*);
            const SIZE: usize = 0 $(+ <$ty as $crate::c_struct::CField>::SIZE)*;

            fn fields() -> Vec<$crate::c_struct::FieldInfo> {
                vec![$(
                    $crate::c_struct::FieldInfo {
                        name: stringify!($field),
                        c_type: <$ty as $crate::c_struct::CField>::C_TYPE,
                        array: <$ty as $crate::c_struct::CField>::ARRAY,
                        offset: std::mem::offset_of!($name, $field),
                        doc: concat!($fdoc $(, "\n", $fmore)*),
                    },
                )*]
            }

            fn encode(&self, out: &mut Vec<u8>) {
                $( $crate::c_struct::CField::put(&self.$field, out); )*
            }

            #[allow(unused_assignments)]
            fn decode(bytes: &[u8]) -> Option<Self> {
                if bytes.len() < <Self as $crate::c_struct::CStruct>::SIZE {
                    return None;
                }
                let mut at = 0usize;
                Some($name {
                    $(
                        $field: {
                            let size = <$ty as $crate::c_struct::CField>::SIZE;
                            let v = <$ty as $crate::c_struct::CField>::get(&bytes[at..at + size]);
                            at += size;
                            v
                        },
                    )*
                })
            }
        }

        const _: () = assert!(
            std::mem::size_of::<$name>() == <$name as $crate::c_struct::CStruct>::SIZE,
            concat!(stringify!($name), " has implicit padding: add explicit fields")
        );
    };
}
