//! The certifier on hand-assembled functions: each test certifies one
//! record and checks what the live locations are explained by.

mod x86_64;
