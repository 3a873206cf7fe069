//! `lichen`: the command-line entry point. For now it only reports its version; the node, the
//! keystore and the commands arrive with the node issue.

fn main() {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        None | Some("--version") | Some("-V") | Some("version") => {
            println!("lichen {}", env!("CARGO_PKG_VERSION"));
        }
        Some(other) => {
            eprintln!("lichen: unknown command '{other}'; only 'lichen --version' exists yet");
            std::process::exit(2);
        }
    }
}
