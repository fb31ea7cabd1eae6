//! `vppapi-gen`: inspect, diff and verify VPP API trees.

use std::io::Write;

use clap::Parser;
use vppapi_gen::cli::{run, Cli};

fn main() {
    let cli = Cli::parse();
    let out = run(&cli);
    // A closed pipe (`vppapi-gen ls | head`) is not an error worth a panic.
    let _ = std::io::stdout().write_all(out.stdout.as_bytes());
    let _ = std::io::stderr().write_all(out.stderr.as_bytes());
    std::process::exit(out.code);
}
