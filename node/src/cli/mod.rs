//! The command-line layer: argument handling and human output over the node library.

/// Prints a line to stdout; a closed pipe (`lichen ... | head -1`) ends the process quietly
/// instead of panicking.
macro_rules! out {
    ($($t:tt)*) => { $crate::cli::emit(format_args!($($t)*)) };
}
pub(crate) use out;

pub fn emit(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = writeln!(stdout, "{args}").and_then(|_| stdout.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("cannot write to stdout: {e}");
        std::process::exit(2);
    }
}

pub mod dev;
pub mod genesis;
pub mod keys;
pub mod node;
pub mod ops;
pub mod p2p;
pub mod qr;
