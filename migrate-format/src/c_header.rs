//! The C header the runtime (landmark-rt) includes for every format it
//! shares with the tools: constants, section and symbol names, environment
//! variables and structs, all from this crate's definitions. landmark-rt's
//! build script writes it to its build directory as `migrate_format.h`; no
//! part of it is kept by hand on the C side.

use crate::c_struct::{CStruct, FieldInfo};
use crate::{env, frames, image, sites, window};
use std::fmt::Write;

/// The header's text.
pub fn generate() -> String {
    let mut h = String::new();
    h.push_str(
        "/* migrate_format.h: generated from the migrate-format crate by landmark-rt's\n \
         * build script. Do not edit: change migrate-format/src instead. */\n\
         #ifndef MIGRATE_FORMAT_H\n#define MIGRATE_FORMAT_H\n\n\
         #include <stddef.h>\n#include <stdint.h>\n\n",
    );

    section(&mut h, "The migration window (window.rs)");
    for (name, value) in [
        ("WINDOW_START", window::WINDOW_START),
        ("ARENA_START", window::ARENA_START),
        ("ARENA_END", window::ARENA_END),
        ("MAX_STACK_SIZE", window::MAX_STACK_SIZE),
        ("UNSAFE_STACK_TOP", window::UNSAFE_STACK_TOP),
        ("STACK_TOP", window::STACK_TOP),
        ("WINDOW_END", window::WINDOW_END),
        ("IMAGE_ALIGN", window::IMAGE_ALIGN),
    ] {
        writeln!(h, "#define {name} {value:#x}UL").unwrap();
    }

    section(&mut h, "Checkpoint images (image/notes.rs)");
    define_number(&mut h, "IMAGE_VERSION", image::notes::IMAGE_VERSION);
    define_string(&mut h, "NOTE_NAME", image::notes::NOTE_NAME);
    for (name, value) in [
        ("NOTE_STATE", image::notes::NOTE_STATE),
        ("NOTE_EXE", image::notes::NOTE_EXE),
        ("NOTE_CWD", image::notes::NOTE_CWD),
        ("NOTE_FILES", image::notes::NOTE_FILES),
        ("NOTE_SIGNALS", image::notes::NOTE_SIGNALS),
        ("NOTE_FRAMES", image::notes::NOTE_FRAMES),
        ("NOTE_INTEGRITY", image::notes::NOTE_INTEGRITY),
        ("NOTE_THREAD", image::notes::NOTE_THREAD),
        ("NOTE_WRITTEN", image::notes::NOTE_WRITTEN),
        ("INTEGRITY_XXH64", image::integrity::XXH64),
    ] {
        define_number(&mut h, name, value);
    }
    for (name, value) in [
        ("FILE_REGULAR", image::notes::FILE_REGULAR),
        ("FILE_DIRECTORY", image::notes::FILE_DIRECTORY),
        ("FILE_DEVICE", image::notes::FILE_DEVICE),
        ("FILE_STREAM", image::notes::FILE_STREAM),
    ] {
        define_number(&mut h, name, value);
    }
    h.push('\n');
    c_struct::<image::ImageState>(&mut h);
    c_struct::<image::notes::ImageThread>(&mut h);
    c_struct::<image::ImageSignal>(&mut h);
    c_struct::<image::WalkedFrame>(&mut h);
    c_struct::<image::notes::FileRecord>(&mut h);
    c_struct::<image::integrity::IntegrityHead>(&mut h);
    c_struct::<image::integrity::SegmentIdentity>(&mut h);

    section(
        &mut h,
        "The kernel's core-file register notes, for this ISA (image/registers.rs)",
    );
    define_number(&mut h, "PR_REG", image::registers::PR_REG);
    define_number(&mut h, "PR_PID", image::registers::PR_PID);
    for (i, arch) in crate::Arch::ALL.into_iter().enumerate() {
        let guard = match arch {
            crate::Arch::X86_64 => "__x86_64__",
            crate::Arch::Aarch64 => "__aarch64__",
        };
        writeln!(
            h,
            "#{} defined({guard})",
            if i == 0 { "if" } else { "elif" }
        )
        .unwrap();
        writeln!(
            h,
            "/* pr_reg, in the kernel's order. */
enum prstatus_reg {{"
        )
        .unwrap();
        for name in image::registers::names(arch) {
            writeln!(h, "	PR_{},", name.to_uppercase()).unwrap();
        }
        h.push_str(
            "	PR_NREGS
};
",
        );
        define_number(
            &mut h,
            "PRSTATUS_SIZE",
            image::registers::prstatus_size(arch),
        );
        define_number(
            &mut h,
            "FPREGSET_SIZE",
            image::registers::fpregset_size(arch),
        );
    }
    h.push_str(
        "#endif
",
    );

    section(&mut h, "The frame table (frames.rs)");
    define_string(&mut h, "FRAMES_SECTION", frames::SECTION);
    define_bytes(&mut h, "FRAMES_MAGIC", &frames::MAGIC);
    define_number(&mut h, "FRAMES_VERSION", frames::VERSION);
    define_number(&mut h, "CFA_STACK_POINTER", frames::CFA_STACK_POINTER);
    define_number(&mut h, "CFA_FRAME_POINTER", frames::CFA_FRAME_POINTER);
    h.push('\n');
    c_struct::<frames::FrameTableHeader>(&mut h);
    c_struct::<frames::FrameTableEntry>(&mut h);

    section(&mut h, "The migratable-sites table (sites.rs)");
    define_string(&mut h, "SITES_SYMBOL", sites::SYMBOL);
    define_bytes(&mut h, "SITES_MAGIC", &sites::MAGIC);
    h.push('\n');
    c_struct::<sites::SitesHeader>(&mut h);

    section(&mut h, "Environment variables (env.rs)");
    for (name, value) in env::ALL {
        define_string(&mut h, name, value);
    }

    h.push_str("\n#endif\n");
    h
}

fn section(h: &mut String, title: &str) {
    writeln!(h, "\n/* {title} */\n").unwrap();
}

fn define_number(h: &mut String, name: &str, value: impl std::fmt::Display) {
    writeln!(h, "#define {name} {value}").unwrap();
}

fn define_string(h: &mut String, name: &str, value: &str) {
    assert!(value
        .bytes()
        .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\'));
    writeln!(h, "#define {name} \"{value}\"").unwrap();
}

/// A magic number as a string literal of its bytes (compare `sizeof - 1`).
fn define_bytes(h: &mut String, name: &str, value: &[u8]) {
    let text = std::str::from_utf8(value).expect("magic numbers are ASCII");
    define_string(h, name, text);
}

/// The struct, then checks that C lays it out as Rust does.
fn c_struct<T: CStruct>(h: &mut String) {
    comment(h, T::DOC, "");
    writeln!(h, "struct {} {{", T::C_NAME).unwrap();
    let fields: Vec<FieldInfo> = T::fields();
    for f in &fields {
        comment(h, f.doc, "\t");
        match f.array {
            Some(n) => writeln!(h, "\t{} {}[{n}];", f.c_type, f.name).unwrap(),
            None => writeln!(h, "\t{} {};", f.c_type, f.name).unwrap(),
        }
    }
    h.push_str("};\n");
    writeln!(
        h,
        "_Static_assert(sizeof(struct {0}) == {1}, \"struct {0}: size differs from migrate-format's\");",
        T::C_NAME,
        T::SIZE
    )
    .unwrap();
    for f in &fields {
        writeln!(
            h,
            "_Static_assert(offsetof(struct {0}, {1}) == {2}, \"struct {0}: {1} is not where migrate-format has it\");",
            T::C_NAME,
            f.name,
            f.offset
        )
        .unwrap();
    }
    h.push('\n');
}

fn comment(h: &mut String, doc: &str, indent: &str) {
    let lines: Vec<&str> = doc.lines().map(str::trim).collect();
    match lines.as_slice() {
        [one] => writeln!(h, "{indent}/* {one} */").unwrap(),
        _ => {
            writeln!(h, "{indent}/* {}", lines[0]).unwrap();
            for l in &lines[1..] {
                writeln!(h, "{indent} * {l}").unwrap();
            }
            writeln!(h, "{indent} */").unwrap();
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn header_has_every_struct_and_checks() {
        let h = super::generate();
        for s in [
            "struct image_state {",
            "struct image_signal {",
            "struct walked_frame {",
            "struct file_record {",
            "struct frame_rule {",
            "struct sites_header {",
            "#define WINDOW_START 0x10000000UL",
            "#define NOTE_NAME \"LANDMARK\"",
            "#define ENV_REPORT \"LANDMARK_REPORT\"",
            "_Static_assert(sizeof(struct image_state) == 80",
        ] {
            assert!(h.contains(s), "{s} missing from\n{h}");
        }
    }
}
