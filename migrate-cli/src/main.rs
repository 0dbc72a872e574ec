//! `migrate`: build C programs that can move between x86_64 and aarch64
//! while running, and run them.

use migrate_cli::{
    cc, check, checkpoint, gadgets, inspect, inspect_image, isa, restore, run, translate, verify,
};
use migrate_format::{Arch, PerArch};

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "migrate",
    version,
    about = "Build and run C programs that migrate between x86_64 and aarch64"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Compile and link like cc, writing BASE.x86_64 and BASE.aarch64 with identical layouts.
    ///
    /// Accepts the usual cc options (-c, -o, -O0..-O3, -g, -I, -D, -U, -std=, -W..., -f...,
    /// -l, -L). `-c` writes a bitcode object; linking bitcode objects builds both
    /// executables, so `make CC="migrate cc"` works. Run `migrate cc -v ...` to see the
    /// commands, `-save-temps` to keep intermediate files. `--landmarks=entry|loops|all|none`
    /// places migration points (default all); the backends get `-disable-lsr
    /// -disable-machine-licm` so fewer machine-only values live across calls
    /// (`--no-migration-codegen` leaves them out: faster loops, fewer migratable call sites).
    /// Stack objects live on the unsafe stack, at the same address on both ISAs
    /// (`--no-unsafe-stack` keeps them on the machine stack, for measuring what that costs).
    #[command(disable_help_flag = true)]
    Cc {
        /// cc-style arguments.
        #[arg(allow_hyphen_values = true, trailing_var_arg = true, num_args = 0..)]
        args: Vec<String>,
    },
    /// Run one ISA's executable of a build (aarch64 under qemu-aarch64).
    #[command(group(clap::ArgGroup::new("when").args(["checkpoint_at", "checkpoint_after"])))]
    Run {
        /// ISA to run.
        #[arg(long, value_enum, default_value_t = Arch::X86_64)]
        arch: Arch,
        /// Write landmark statistics to FILE at exit (JSON: landmark_hits, migratable_hits,
        /// max_interval_us and the two landmark IDs around it, p50/p99_interval_us,
        /// startup_us to the first hit, exit_us from the last).
        /// Every landmark then calls into the runtime, so the program runs slower.
        #[arg(long, value_name = "FILE")]
        stats: Option<PathBuf>,
        /// Checkpoint at the N-th landmark hit (1 is the first; the next one whose whole
        /// stack is at migratable call sites, if that one is not). Every landmark then calls
        /// into the runtime until the checkpoint, so the program runs slower until then.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..),
              conflicts_with = "checkpoint_after", visible_alias = "migrate-at")]
        checkpoint_at: Option<u64>,
        /// Checkpoint this long after start-up (500ms, 2s, 1m), at the next migratable landmark.
        #[arg(long, value_name = "DURATION", value_parser = checkpoint::parse_duration,
              visible_alias = "migrate-after")]
        checkpoint_after: Option<std::time::Duration>,
        /// Move the program to this ISA at that point: checkpoint, translate, and continue it
        /// there, with the same stdin, stdout and stderr (one output stream, the program's exit
        /// code); the image is a temporary file. Repeat it for more moves, each after as many
        /// hits (or as long) again, counted from the previous move. A move the translator
        /// refuses is not made: the program goes on where it was, and migrate says why.
        #[arg(long, value_name = "ISA", requires = "when",
              conflicts_with_all = ["image", "keep_running", "ping_pong"])]
        to: Vec<Arch>,
        /// Move the program K times, to the other ISA each time, each move after as many hits
        /// (or as long) as the first, counted from the previous move.
        #[arg(long, value_name = "K", requires = "when",
              value_parser = clap::value_parser!(u32).range(1..),
              conflicts_with_all = ["image", "keep_running"])]
        ping_pong: Option<u32>,
        /// With --to or --ping-pong: write what became of each move to FILE (one JSON object
        /// per line: from, to, hit, refused) and say nothing about refusals on stderr.
        #[arg(long, value_name = "FILE", hide = true)]
        moves: Option<PathBuf>,
        /// Where to write the checkpoint image (an ELF core file, mode 0600, written to a
        /// temporary name and renamed into place). Default: BASE.<arch>.core. Alone, it is
        /// where a checkpoint the program asks for (`landmark_request_checkpoint` in
        /// <migrate.h>) or `migrate checkpoint PID` writes.
        #[arg(long, value_name = "IMG")]
        image: Option<PathBuf>,
        /// Keep running after the checkpoint (default: the program ends there, without
        /// flushing its output or running exit handlers: `migrate restore` does that).
        #[arg(long)]
        keep_running: bool,
        /// Build base name: runs BASE.<arch>.
        base: PathBuf,
        /// Arguments for the program (after --).
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// Moving-target defense: run a program and move it to the other ISA every period
    /// (randomized within the jitter, reproducible with the seed) until it exits.
    ///
    /// stdin, stdout, stderr, the files it writes and its exit code are those of a run that
    /// never moved; migrate exits with the program's exit code. A move falls due when the
    /// period has passed and is made at the next landmark where every frame is at a
    /// migratable call site (a deferral); a move the translator refuses is not made (the
    /// program goes on where it was, and the next period tries again). On a terminal a
    /// progress line is shown on stderr; at the end a table on stderr: time on each ISA and
    /// migrating, deferrals, refusals with reasons, and each migration's latency split into
    /// checkpoint, exit, translate, start-up (process creation, exec, qemu-user's start) and
    /// restore. Time on each ISA plus time migrating is the wall time.
    Mtd {
        /// Time on one ISA before the next move (500ms, 2s, ...).
        #[arg(long, value_name = "DURATION", default_value = "100ms",
              value_parser = checkpoint::parse_duration)]
        period: std::time::Duration,
        /// Each period is drawn uniformly from period × (1 ± jitter): 50% or 0.5.
        #[arg(long, value_name = "FRACTION", default_value = "50%",
              value_parser = migrate_cli::mtd::schedule::parse_jitter)]
        jitter: f64,
        /// Seed of the periods (default: from the clock; the table and report say which).
        #[arg(long, value_name = "S")]
        seed: Option<u64>,
        /// The ISA the program starts on.
        #[arg(long, value_enum, default_value_t = Arch::X86_64)]
        start: Arch,
        /// Write the measurements as JSON to R.json: migrations, refusals, time_on (s per
        /// ISA), migrating_s, migrating_fraction, deferrals, legs, and per move its latency
        /// parts (checkpoint_ms, handover_ms, translate_ms, startup_ms, restore_ms, total_ms),
        /// deferred_hits/deferred_ms and the refusal reason; seed, period_ms, jitter.
        #[arg(long, value_name = "R.json")]
        report: Option<PathBuf>,
        /// Draw the timeline as SVG: the ISA over time and each migration's latency.
        #[arg(long, value_name = "R.svg")]
        plot: Option<PathBuf>,
        /// Print neither the progress line nor the table (stderr is then the program's alone).
        #[arg(short, long)]
        quiet: bool,
        /// Build base name (BASE.x86_64 and BASE.aarch64).
        base: PathBuf,
        /// Arguments for the program (after --).
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// Check that a program moved between the ISAs behaves as if it never moved: one
    /// uninterrupted run on each ISA, then the program moved at N seeded random landmark
    /// hits in both directions (and, with --ping-pong K, bounced K times starting on each
    /// ISA); standard output, standard error, exit code and the files each run writes are
    /// compared with the uninterrupted x86_64 run. Prints a table of identical / refused
    /// (the program went on where it was; the reasons follow) / differing runs and the
    /// seed; exits 1 if any run differs.
    ///
    /// Standard input is read once and given to every run. Each run starts in an empty
    /// directory of its own (files it writes there are compared); an argument naming an
    /// existing file or directory is passed as an absolute path.
    Verify {
        /// Random landmark hits to move the program at (each in both directions).
        #[arg(long, value_name = "N", default_value_t = 20)]
        points: u32,
        /// Seed of the random hits (default: from the clock; the report says which).
        #[arg(long, value_name = "S")]
        seed: Option<u64>,
        /// Also bounce the program K times, once starting on each ISA.
        #[arg(long, value_name = "K", default_value_t = 0)]
        ping_pong: u32,
        /// Print the report as JSON (every run, its verdict, refusals and the command that
        /// repeats it).
        #[arg(long)]
        json: bool,
        /// Build base name (BASE.x86_64 and BASE.aarch64).
        base: PathBuf,
        /// Arguments for the program (after --).
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// Rewrite a checkpoint image for the other ISA (its frames, registers and process
    /// state), to continue with `migrate restore` under the other executable of the build.
    Translate {
        /// The image (from `migrate run --checkpoint-at`, `migrate checkpoint`, ...).
        image: PathBuf,
        /// The ISA to move to (the other one).
        #[arg(long, value_name = "ISA")]
        to: Arch,
        /// Where the translated image goes (default: IMAGE with the ISA before its
        /// extension, `ckpt.core` -> `ckpt.aarch64.core`).
        #[arg(short, long, value_name = "OUT")]
        output: Option<PathBuf>,
    },
    /// Ask a running program (built with `migrate cc`, started by `migrate run` or directly)
    /// for a checkpoint at its next migratable landmark, and wait for the image.
    Checkpoint {
        /// Process ID (under qemu-aarch64: qemu's).
        pid: u32,
        /// Where to write the image. Default: landmark-PID.core in this directory.
        #[arg(long, value_name = "IMG")]
        image: Option<PathBuf>,
        /// Keep the program running after the checkpoint (default: it ends there).
        #[arg(long)]
        keep_running: bool,
        /// Move the program to this ISA: the image written is translated for it (restore it
        /// there with `migrate restore`).
        #[arg(long, value_name = "ISA")]
        to: Option<Arch>,
        /// Give up waiting after this long (the request stays pending in the program).
        #[arg(long, value_name = "DURATION", default_value = "10s",
              value_parser = checkpoint::parse_duration)]
        timeout: std::time::Duration,
    },
    /// Continue a checkpointed program from its image, on the image's ISA (aarch64 under
    /// qemu-aarch64), with this terminal's stdin, stdout and stderr; exits with its exit code.
    Restore {
        /// The image (from `migrate run --checkpoint-at/--checkpoint-after` or `migrate
        /// checkpoint`).
        image: PathBuf,
        /// The executable to restore into. Default: the one the image was taken from; either
        /// way it must be the same build (same build-id).
        #[arg(long, value_name = "FILE")]
        exe: Option<PathBuf>,
        /// Also check every byte of saved memory against the image's checksums before
        /// restoring (reads the whole image; the headers, notes and registers are always
        /// checked).
        #[arg(long)]
        verify: bool,
        /// Continue it on this ISA: translate the image first (to a temporary file), then
        /// restore under the other executable of the build.
        #[arg(long, value_name = "ISA")]
        to: Option<Arch>,
        /// Checkpoint the restored program again at its N-th landmark hit after the restore.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..),
              conflicts_with = "checkpoint_after")]
        checkpoint_at: Option<u64>,
        /// Checkpoint the restored program again this long after the restore.
        #[arg(long, value_name = "DURATION", value_parser = checkpoint::parse_duration)]
        checkpoint_after: Option<std::time::Duration>,
        /// Where the next image goes (default: IMAGE itself, replaced atomically once the new
        /// one is complete).
        #[arg(long = "image", value_name = "IMG")]
        next_image: Option<PathBuf>,
        /// Keep running after the next checkpoint.
        #[arg(long)]
        keep_running: bool,
    },
    /// Check that both executables' live-value records correspond (same call-site IDs,
    /// same number of values, compatible sizes, same functions); fail listing the first
    /// mismatches. Every `migrate cc` link runs this check.
    Check {
        /// Build base name: checks BASE.x86_64 against BASE.aarch64.
        base: PathBuf,
        /// Also compute call-site certificates (every register and stack slot live at each
        /// return address explained) and print the certified fraction with the reasons for
        /// the rest, for each ISA.
        #[arg(long)]
        certify: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show what a build records (with --callsites: every recorded call site with both ISAs'
    /// locations side by side: values, in-use stack allocations, derived pointers), or what a
    /// checkpoint image holds (memory regions, registers, frames, open files, landmark,
    /// build-id).
    Inspect {
        /// A checkpoint image, or a build base name (BASE.x86_64 and BASE.aarch64).
        base: PathBuf,
        /// List the recorded call sites.
        #[arg(long)]
        callsites: bool,
        /// Only call sites in this function.
        #[arg(long, value_name = "NAME")]
        function: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// For an image: also check every byte of saved memory against its checksums (the
        /// headers, notes and registers are always checked).
        #[arg(long)]
        verify: bool,
    },
    /// Compare both executables' symbols and sections; fail listing every mismatch.
    CheckLayout {
        /// Build base name: compares BASE.x86_64 with BASE.aarch64.
        base: PathBuf,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// The code-reuse attack surface of a build: the gadgets of both executables (decoded
    /// with iced-x86 and yaxpeax-arm), and which gadget addresses survive a switch of ISA.
    ///
    /// A gadget is a sequence of at most N instructions (--depth) ending in a return (rop),
    /// an indirect jump or call (jop: jmp/call reg or mem; br, blr and their
    /// pointer-authenticating forms) or a system call (sys: syscall, sysenter, int 0x80; svc),
    /// starting at every byte of the executable sections on x86_64 and every 4-byte-aligned
    /// address on aarch64. The first of these within N instructions ends the gadget; any other
    /// transfer of control (direct or conditional branch, direct call, other interrupt,
    /// invalid bytes) before it means no gadget starts there. Gadgets with the same
    /// instruction text are listed once (the lowest address) unless --all.
    ///
    /// Output: ROPgadget's `0x... : insn ; insn ; ret` lines per ISA, each list closed by its
    /// count, then a table of unique and total counts per ISA and type. Survival: the layouts
    /// are identical, so a chain of gadget addresses built for one ISA still points at the
    /// same addresses after a switch; an address survives if it starts a gadget in both
    /// executables, and each ISA keeps that fraction of its gadget addresses (counted by
    /// address: every gadget, duplicates not folded).
    Gadgets {
        /// Build base name: scans BASE.x86_64 and BASE.aarch64.
        base: PathBuf,
        /// Instructions per gadget at most, the final return, jump, call or system call
        /// included (ROPgadget's --depth counts bytes; this counts instructions).
        #[arg(long, value_name = "N", default_value_t = 6,
              value_parser = clap::value_parser!(u32).range(1..))]
        depth: u32,
        /// Which gadgets: ending in a return (rop), an indirect jump or call (jop), a system
        /// call (sys), or any of them (all).
        #[arg(long = "type", value_name = "TYPE", value_enum, default_value_t = gadgets::Types::All)]
        types: gadgets::Types,
        /// List every gadget, also those whose instruction text an earlier one has.
        #[arg(long)]
        all: bool,
        /// List only this ISA's gadgets (the summary covers both).
        #[arg(long, value_name = "ISA")]
        arch: Option<Arch>,
        /// Only gadgets whose bytes lie wholly inside this function (its symbol).
        #[arg(long, value_name = "NAME")]
        function: Option<String>,
        /// Print only the summary.
        #[arg(long)]
        summary: bool,
        /// JSON Lines: one object per gadget (isa, vaddr as a number, bytes in hex, insns, type),
        /// then one {"summary": {depth, types, function, in_both, in_both_same_type, isas: [{isa,
        /// executable, counts: {rop, jop, sys, all: {unique, total}}, kept, kept_same_type,
        /// kept_fraction, kept_same_type_fraction}]}}.
        #[arg(long)]
        json: bool,
    },
}

fn real_main() -> Result<i32> {
    let cli = Cli::parse();
    match cli.command {
        Cmd::Cc { args } => {
            const USAGE: &str = "usage: migrate cc [cc options] FILES...   (see `migrate help cc`)";
            if args.is_empty() {
                // A usage error: stderr, as for every other command.
                eprintln!("migrate cc: no input files\n{USAGE}");
                return Ok(2);
            }
            if args.iter().any(|a| a == "--help" || a == "-h") {
                println!("{USAGE}");
                return Ok(0);
            }
            cc::main(&args)?;
            Ok(0)
        }
        Cmd::Run {
            arch,
            stats,
            checkpoint_at,
            checkpoint_after,
            image,
            keep_running,
            to,
            ping_pong,
            moves,
            base,
            args,
        } => {
            let t = isa::of(arch);
            let to: Vec<Arch> = match ping_pong {
                Some(k) => {
                    let mut here = arch;
                    (0..k)
                        .map(|_| {
                            here = here.other();
                            here
                        })
                        .collect()
                }
                None => to,
            };
            // An image path alone serves checkpoints the program asks for
            // (landmark_request_checkpoint) or a signal sends.
            let wanted = checkpoint_at.is_some()
                || checkpoint_after.is_some()
                || image.is_some()
                || keep_running;
            let request = wanted.then(|| checkpoint::Request {
                at_hit: checkpoint_at,
                after: checkpoint_after,
                image: image.unwrap_or_else(|| {
                    let mut p = cc::link::output_path(&base, arch).into_os_string();
                    p.push(".core");
                    PathBuf::from(p)
                }),
                keep_running,
                quiet: !to.is_empty(),
                in_place: false,
            });
            match request {
                Some(request) if !to.is_empty() => run::run_and_move(
                    t,
                    &base,
                    &args,
                    stats.as_deref(),
                    request,
                    &to,
                    moves.as_deref(),
                ),
                request => run::run(t, &base, &args, stats.as_deref(), request.as_ref()),
            }
        }
        Cmd::Verify {
            points,
            seed,
            ping_pong,
            json,
            base,
            args,
        } => {
            let seed = seed.unwrap_or_else(clock_seed);
            let report = verify::verify(&verify::Options {
                base,
                args,
                points,
                seed,
                ping_pong,
            })?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!("{}", verify::render(&report));
            }
            Ok(if report.differing > 0 { 1 } else { 0 })
        }
        Cmd::Mtd {
            period,
            jitter,
            seed,
            start,
            report,
            plot,
            quiet,
            base,
            args,
        } => {
            use std::io::IsTerminal;
            let options = migrate_cli::mtd::Options {
                base,
                args,
                period,
                jitter,
                seed: seed.unwrap_or_else(clock_seed),
                start,
                progress: !quiet && std::io::stderr().is_terminal(),
            };
            migrate_cli::mtd::command(&options, quiet, report.as_deref(), plot.as_deref())
        }
        Cmd::Translate { image, to, output } => {
            let output = output.unwrap_or_else(|| translate::default_output(&image, to));
            eprintln!("{}", translate::translate_file(&image, to, &output)?);
            Ok(0)
        }
        Cmd::Checkpoint {
            pid,
            image,
            keep_running,
            timeout,
            to,
        } => match to {
            None => checkpoint::checkpoint_process(pid, image.as_deref(), keep_running, timeout),
            Some(to) => {
                // The process writes its own ISA's image beside the one
                // asked for; the translation replaces it.
                let image = match image {
                    Some(p) => std::path::absolute(p)?,
                    None => std::env::current_dir()?.join(format!("landmark-{pid}.core")),
                };
                let name = image.file_name().unwrap_or_default().to_string_lossy();
                let source = image.with_file_name(format!("{name}.source"));
                let code =
                    checkpoint::checkpoint_process(pid, Some(&source), keep_running, timeout)?;
                match translate::translate_file(&source, to, &image) {
                    Ok(said) => {
                        eprintln!("{said}");
                        let _ = std::fs::remove_file(&source);
                        Ok(code)
                    }
                    Err(e) => Err(e.context(format!(
                        "the checkpoint is kept, untranslated, in {}",
                        source.display()
                    ))),
                }
            }
        },
        Cmd::Restore {
            image,
            exe,
            verify,
            to,
            checkpoint_at,
            checkpoint_after,
            next_image,
            keep_running,
        } => {
            let wanted = checkpoint_at.is_some()
                || checkpoint_after.is_some()
                || next_image.is_some()
                || keep_running;
            let next = wanted.then(|| checkpoint::Request {
                at_hit: checkpoint_at,
                after: checkpoint_after,
                image: next_image.unwrap_or_else(|| image.clone()),
                keep_running,
                quiet: false,
                in_place: false,
            });
            match to {
                Some(to) => {
                    if exe.is_some() {
                        anyhow::bail!("--exe and --to: the translated image names its executable");
                    }
                    let dir = tempfile::Builder::new().prefix("migrate-move-").tempdir()?;
                    let moved = dir.path().join(format!("moved.{}.core", to.name()));
                    if verify {
                        migrate_format::image::Image::read(&image)?.verify_memory()?;
                    }
                    translate::translate_file(&image, to, &moved)?;
                    // (A next checkpoint still goes to IMAGE, not the temporary.)
                    restore::restore(&moved, None, false, next.as_ref())
                }
                None => restore::restore(&image, exe.as_deref(), verify, next.as_ref()),
            }
        }
        Cmd::Check {
            base,
            certify,
            json,
        } => check::main(&base, certify, json),
        Cmd::Inspect {
            base,
            callsites,
            function,
            json,
            verify,
        } if !callsites && function.is_none() && base.is_file() => {
            inspect_image::main(&base, json, verify)
        }
        Cmd::Inspect {
            verify: true,
            ref base,
            ..
        } if base.exists() => anyhow::bail!(
            "--verify checks a checkpoint image's memory; {} is not an image file",
            base.display()
        ),
        Cmd::Inspect {
            base,
            callsites,
            function,
            json,
            verify: _,
        } => inspect::main(&base, callsites, function.as_deref(), json),
        Cmd::CheckLayout { base, json } => check_layout(&base, json),
        Cmd::Gadgets {
            base,
            depth,
            types,
            all,
            arch,
            function,
            summary,
            json,
        } => gadgets::main(
            &base,
            &gadgets::Options {
                depth,
                kinds: types.kinds(),
                function,
            },
            &gadgets::Output {
                arch,
                all,
                json,
                summary_only: summary,
            },
        ),
    }
}

fn check_layout(base: &std::path::Path, json: bool) -> Result<i32> {
    let report =
        stack_translator::layout::compare(PerArch::new(|arch| cc::link::output_path(base, arch)))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for m in &report.mismatches {
            println!("mismatch: {m}");
        }
        for e in &report.exempt {
            println!("exempt: {e}");
        }
        println!(
            "{}: {} shared symbols {}, {} exempt, {} only in x86_64, {} only in aarch64",
            if report.ok() { "ok" } else { "FAILED" },
            report.shared_symbols,
            if report.ok() {
                "at identical addresses"
            } else {
                "compared"
            },
            report.exempt.len(),
            report.only_in[0],
            report.only_in[1]
        );
    }
    Ok(if report.ok() { 0 } else { 1 })
}

/// Output piped into `head` that stopped reading: not an error.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<serde_json::Error>()
                .is_some_and(|j| j.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe))
    })
}

fn main() {
    match real_main() {
        Ok(code) => std::process::exit(code),
        Err(e) if is_broken_pipe(&e) => std::process::exit(0),
        Err(e) => {
            eprintln!("migrate: error: {e:#}");
            std::process::exit(1);
        }
    }
}

/// A seed from the clock, for runs not given one (they print it).
fn clock_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() % 1_000_000)
        .unwrap_or(1)
}
