//! The notes of a checkpoint image: the standard core-file notes and
//! landmark-rt's own (name [`NOTE_NAME`]), with the structs their
//! descriptors hold. The runtime's C uses the same definitions through the
//! generated header.

use crate::bytes::Reader;
use crate::c_struct::CStruct;
use crate::error::{Error, Result};

/// Version of landmark-rt's notes ([`ImageState::version`]). 2: the
/// integrity note ([`NOTE_INTEGRITY`]) is required. 3: the thread note
/// ([`NOTE_THREAD`]) is required.
pub const IMAGE_VERSION: u32 = 3;
/// The owner name of landmark-rt's notes.
pub const NOTE_NAME: &str = "LANDMARK";
/// [`ImageState`].
pub const NOTE_STATE: u32 = 1;
/// The executable's path (NUL-terminated).
pub const NOTE_EXE: u32 = 2;
/// The working directory (NUL-terminated).
pub const NOTE_CWD: u32 = 3;
/// Open files: [`FileRecord`]s, each followed by its path.
pub const NOTE_FILES: u32 = 4;
/// [`ImageSignal`]s.
pub const NOTE_SIGNALS: u32 = 5;
/// [`WalkedFrame`]s, innermost first.
pub const NOTE_FRAMES: u32 = 6;
/// Checksums ([`super::integrity`]): always the last note.
pub const NOTE_INTEGRITY: u32 = 7;
/// The thread's state in a form no ISA's layout shapes: [`ImageThread`],
/// then the bytes of the thread's TLS block.
pub const NOTE_THREAD: u32 = 8;
/// Written by the translator, optional: the ISA the image was translated
/// from and the path of the image it was translated from, each
/// NUL-terminated. Restore ignores it; `migrate inspect` shows it.
pub const NOTE_TRANSLATED: u32 = 9;
/// Written by landmark-rt into an image it updated in place, optional: the
/// memory it wrote (each range a start and an end address, u64s); the rest
/// of the image's memory is as the image the program was restored from had
/// it. A reader that keeps what it learnt of that image (the translator's
/// scan of `migrate mtd`) reads only these again.
pub const NOTE_WRITTEN: u32 = 10;

/// Standard core-file notes (owner "CORE"; the build-id's owner is "GNU").
pub const NT_PRSTATUS: u32 = 1;
pub const NT_FPREGSET: u32 = 2;
pub const NT_PRPSINFO: u32 = 3;
pub const NT_GNU_BUILD_ID: u32 = 3;

/// [`FileRecord::kind`] values.
pub const FILE_REGULAR: i32 = 1;
pub const FILE_DIRECTORY: i32 = 2;
pub const FILE_DEVICE: i32 = 3;
pub const FILE_STREAM: i32 = 4;

c_struct! {
    /// landmark-rt's runtime state at the checkpoint (NOTE_STATE).
    pub struct ImageState as "image_state" {
        /// IMAGE_VERSION.
        pub version: u32,
        /// The landmark's call-site ID.
        pub call_site: u32,
        /// Landmark hits before this one, this one included (counted only
        /// while the runtime watched: statistics, or a checkpoint at a hit).
        pub hits: u64,
        /// The heap break when main started.
        pub brk_start: u64,
        /// The heap break now.
        pub brk: u64,
        /// The program's stack mapping: its lowest address ...
        pub stack_lo: u64,
        /// ... and its end.
        pub stack_hi: u64,
        /// The thread pointer (TLS).
        pub thread_pointer: u64,
        /// Blocked signals, bit n-1 for signal n.
        pub sigmask: u64,
        /// The file-mode creation mask.
        pub umask: u32,
        /// The checkpointed process's ID.
        pub pid: u32,
        /// AT_SYSINFO_EHDR: musl caches clock_gettime's address in the
        /// vDSO, so a restore needs the same.
        pub vdso: u64,
    }
}

c_struct! {
    /// The program's part of musl's `struct pthread` of its one thread, and
    /// its TLS block's size (NOTE_THREAD; the block's bytes follow). Where
    /// the struct and the block are, and the rest of the struct (the thread
    /// ID, the pointers into itself, the TLS bookkeeping), belong to the
    /// process and to its ISA's TLS layout (x86_64: variant II, aarch64:
    /// variant I): restore keeps its own and writes these into them.
    pub struct ImageThread as "image_thread" {
        /// errno.
        pub errno_val: i32,
        /// h_errno.
        pub h_errno_val: i32,
        /// pthread_setcancelstate / pthread_setcanceltype.
        pub cancel_disable: u32,
        /// The asynchronous cancellation type.
        pub cancel_async: u32,
        /// Whether thread-specific data was used.
        pub tsd_used: u32,
        /// 0.
        pub pad: u32,
        /// Thread-specific data (musl's `__pthread_tsd_main`).
        pub tsd: u64,
        /// The thread's locale (uselocale).
        pub locale: u64,
        /// dlerror's buffer.
        pub dlerror_buf: u64,
        /// FILEs this thread has locked.
        pub stdio_locks: u64,
        /// The stack-protector canary (x86_64 reads it at %fs:0x28, aarch64
        /// from `__stack_chk_guard`, which memory carries).
        pub canary: u64,
        /// Bytes of the TLS block that follow.
        pub tls_size: u64,
    }
}

c_struct! {
    /// A signal with a handler (or ignored): the kernel's struct sigaction
    /// (NOTE_SIGNALS).
    pub struct ImageSignal as "image_signal" {
        /// The signal number.
        pub signo: u32,
        /// 0.
        pub pad: u32,
        /// The handler's address, or SIG_IGN.
        pub handler: u64,
        /// SA_* flags.
        pub flags: u64,
        /// sa_restorer.
        pub restorer: u64,
        /// Signals blocked while the handler runs.
        pub mask: u64,
    }
}

c_struct! {
    /// One frame of the runtime's stack walk (NOTE_FRAMES, innermost first).
    pub struct WalkedFrame as "walked_frame" {
        /// The return address the frame is suspended at.
        pub pc: u64,
        /// Its stack pointer.
        pub sp: u64,
        /// The call site of that return address.
        pub call_site: u32,
        /// 0.
        pub pad: u32,
    }
}

c_struct! {
    /// An open file descriptor (NOTE_FILES); the NUL-terminated path
    /// follows, padded to 8 bytes.
    pub struct FileRecord as "file_record" {
        /// The descriptor.
        pub fd: i32,
        /// Status flags (F_GETFL) in the checkpointing ISA's encoding.
        pub flags: i32,
        /// Descriptor flags (F_GETFD).
        pub fd_flags: i32,
        /// FILE_REGULAR, FILE_DIRECTORY, FILE_DEVICE or FILE_STREAM.
        pub kind: i32,
        /// The file offset.
        pub offset: i64,
        /// Device and inode, to tell the same file.
        pub dev: u64,
        /// The inode.
        pub ino: u64,
        /// Bytes of path that follow, its NUL included.
        pub path_len: u32,
        /// 0.
        pub pad: u32,
    }
}

/// An open file descriptor as recorded.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OpenFile {
    pub fd: i32,
    /// Status flags (F_GETFL) in the checkpointing ISA's encoding.
    pub flags: i32,
    pub close_on_exec: bool,
    pub kind: FileKind,
    pub offset: i64,
    #[serde(skip)]
    pub dev: u64,
    #[serde(skip)]
    pub ino: u64,
    pub path: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    Regular,
    Directory,
    Device,
    /// stdin, stdout or stderr when it is not a regular file (a terminal, a
    /// pipe): the restored program uses the restorer's.
    Stream,
}

impl FileKind {
    fn from_code(k: i32) -> Option<FileKind> {
        Some(match k {
            FILE_REGULAR => FileKind::Regular,
            FILE_DIRECTORY => FileKind::Directory,
            FILE_DEVICE => FileKind::Device,
            FILE_STREAM => FileKind::Stream,
            _ => return None,
        })
    }

    fn code(self) -> i32 {
        match self {
            FileKind::Regular => FILE_REGULAR,
            FileKind::Directory => FILE_DIRECTORY,
            FileKind::Device => FILE_DEVICE,
            FileKind::Stream => FILE_STREAM,
        }
    }
}

/// The open-files note's descriptor.
pub fn decode_files(desc: &[u8]) -> Result<Vec<OpenFile>> {
    const WHAT: &str = "open-files note";
    let mut r = Reader::new(desc, WHAT);
    let mut out = Vec::new();
    while !r.at_end() {
        let rec = FileRecord::decode(r.take(FileRecord::SIZE)?).expect("a whole record");
        let path_len = rec.path_len as usize;
        let path = r.take(path_len)?;
        r.take(path_len.next_multiple_of(8) - path_len)?;
        let kind = FileKind::from_code(rec.kind)
            .ok_or_else(|| Error::corrupt(WHAT, format!("file kind {}", rec.kind)))?;
        out.push(OpenFile {
            fd: rec.fd,
            flags: rec.flags,
            close_on_exec: rec.fd_flags & 1 != 0,
            kind,
            offset: rec.offset,
            dev: rec.dev,
            ino: rec.ino,
            path: c_string(path, WHAT)?,
        });
    }
    Ok(out)
}

/// The open-files note's descriptor for `files`.
pub fn encode_files(files: &[OpenFile]) -> Vec<u8> {
    let mut out = Vec::new();
    for f in files {
        let path_len = f.path.len() + 1;
        FileRecord {
            fd: f.fd,
            flags: f.flags,
            fd_flags: i32::from(f.close_on_exec),
            kind: f.kind.code(),
            offset: f.offset,
            dev: f.dev,
            ino: f.ino,
            path_len: path_len as u32,
            pad: 0,
        }
        .encode(&mut out);
        out.extend_from_slice(f.path.as_bytes());
        out.resize(out.len() + path_len.next_multiple_of(8) - path_len + 1, 0);
    }
    out
}

/// A NUL-terminated string descriptor.
pub fn c_string(desc: &[u8], what: &'static str) -> Result<String> {
    let s = desc
        .strip_suffix(b"\0")
        .ok_or_else(|| Error::corrupt(what, "a string without its NUL"))?;
    Ok(String::from_utf8_lossy(s).into_owned())
}

/// A descriptor that is an array of `T`.
pub fn decode_array<T: CStruct>(desc: &[u8], what: &'static str) -> Result<Vec<T>> {
    if !desc.len().is_multiple_of(T::SIZE) {
        return Err(Error::corrupt(what, "not a whole number of records"));
    }
    Ok(desc
        .chunks_exact(T::SIZE)
        .map(|c| T::decode(c).expect("a whole record"))
        .collect())
}

/// The descriptor of an array of `T`.
pub fn encode_array<T: CStruct>(items: &[T]) -> Vec<u8> {
    let mut out = Vec::with_capacity(items.len() * T::SIZE);
    for i in items {
        i.encode(&mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_the_runtime_s() {
        assert_eq!(ImageState::SIZE, 80);
        assert_eq!(ImageSignal::SIZE, 40);
        assert_eq!(WalkedFrame::SIZE, 24);
        assert_eq!(FileRecord::SIZE, 48);
    }

    #[test]
    fn files_round_trip() {
        let files = vec![
            OpenFile {
                fd: 0,
                flags: 0,
                close_on_exec: false,
                kind: FileKind::Stream,
                offset: 0,
                dev: 0,
                ino: 0,
                path: "pipe:[123]".into(),
            },
            OpenFile {
                fd: 3,
                flags: 0o102,
                close_on_exec: true,
                kind: FileKind::Regular,
                offset: 4096,
                dev: 2049,
                ino: 77,
                path: "/tmp/out.txt".into(),
            },
        ];
        let bytes = encode_files(&files);
        assert_eq!(bytes.len() % 8, 0);
        assert_eq!(decode_files(&bytes).unwrap(), files);
        for n in 0..bytes.len() {
            let _ = decode_files(&bytes[..n]);
        }
    }
}
