//! Stand-alone `avsweep scan` for testing the CLI without the server binary.
fn main() -> std::process::ExitCode {
    scanner::cli::run(std::env::args_os().skip(1))
}
