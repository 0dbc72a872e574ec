//! The certifier on hand-assembled functions of each ISA: each test
//! certifies one record and checks what the live locations are explained by.

mod aarch64;
mod x86_64;
