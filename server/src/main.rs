//! `avsweep`: the dashboard server, and the nmap-style scanner on the command line.

use std::ffi::OsString;
use std::process::ExitCode;

use server::config::Config;
use server::startup::Application;

const USAGE: &str = "\
avsweep — find the computers that run no antivirus client

Usage:
  avsweep [serve]          start the web dashboard (default)
  avsweep migrate          create or upgrade the database, then exit
  avsweep scan [OPTIONS] TARGETS...
                           scan from the command line with nmap's flags
                           (see `avsweep scan --help`)
  avsweep --version | --help

Settings come from avsweep.toml (or AVSWEEP_CONFIG) and the environment:
  AVSWEEP_ADDR   listen address        (default 127.0.0.1:3000)
  DATABASE_URL   sqlite://… or postgres://…  (default sqlite in ./data)
  AVSWEEP_DATA_DIR, LEPTOS_SITE_ROOT, AVSWEEP_SCAN_WORKERS, RUST_LOG
";

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let command = args.next();
    match command.as_ref().and_then(|c| c.to_str()) {
        None | Some("serve") => serve(false),
        Some("migrate") => serve(true),
        Some("scan") => scanner::cli::run(args.collect::<Vec<OsString>>()),
        Some("-h" | "--help" | "help") => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some("-V" | "--version") => {
            println!("avsweep {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("avsweep: unknown command “{other}”.\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn serve(migrate_only: bool) -> ExitCode {
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("avsweep: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        let config = Config::load()?;
        if migrate_only {
            storage::Db::open(&config.database_url).await?;
            tracing::info!("database is up to date");
            return Ok(());
        }
        Application::build(config).await?.run_until_stopped().await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("avsweep: {e}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,tower_http=info"));
    tracing_subscriber::fmt().with_env_filter(filter).init();
}
