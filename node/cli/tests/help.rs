//! Every command and every flag of `lichen` says what it does in `--help`: walked over clap's
//! command tree, so a new one without help text fails here.

use clap::CommandFactory;
use lichen_cli::Cli;

fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
    let path = format!("{path} {}", cmd.get_name());
    if cmd.get_about().is_none() && cmd.get_long_about().is_none() {
        missing.push(format!("`{path}`: no about text"));
    }
    for arg in cmd.get_arguments() {
        let id = arg.get_id().as_str();
        if matches!(id, "help" | "version") || arg.is_hide_set() {
            continue;
        }
        if arg.get_help().is_none() && arg.get_long_help().is_none() {
            missing.push(format!("`{path}`: argument `{id}` has no help text"));
        }
    }
    for sub in cmd.get_subcommands() {
        if sub.get_name() != "help" {
            walk(sub, &path, missing);
        }
    }
}

#[test]
fn every_command_and_flag_has_help_text() {
    let mut missing = Vec::new();
    let root = Cli::command();
    for sub in root.get_subcommands() {
        walk(sub, "lichen", &mut missing);
    }
    for arg in root.get_arguments() {
        let id = arg.get_id().as_str();
        if !matches!(id, "help" | "version") && arg.get_help().is_none() {
            missing.push(format!("`lichen`: argument `{id}` has no help text"));
        }
    }
    assert!(
        missing.is_empty(),
        "{} without help:\n{}",
        missing.len(),
        missing.join("\n")
    );
}
