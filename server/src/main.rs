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
  avsweep import FILE.xml --subnet CIDR
                           store an nmap XML file (nmap -sT -oX) as a finished
                           scan of a defined subnet; hosts outside it or
                           excluded are ignored and counted
  avsweep --version | --help

Settings come from avsweep.toml (or AVSWEEP_CONFIG) and the environment:
  AVSWEEP_ADDR   listen address        (default 127.0.0.1:3000)
  DATABASE_URL   sqlite://… or postgres://…  (default sqlite in ./data)
  AVSWEEP_DATA_DIR, LEPTOS_SITE_ROOT, AVSWEEP_SCAN_WORKERS, RUST_LOG,
  AVSWEEP_SCAN_ADDRESS_CAP (65536), AVSWEEP_SCAN_RATE (5000 probes/s, 0 = no limit),
  AVSWEEP_IMPORT_MAX_BYTES (20 MiB)
";

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let command = args.next();
    match command.as_ref().and_then(|c| c.to_str()) {
        None | Some("serve") => serve(false),
        Some("migrate") => serve(true),
        Some("scan") => scanner::cli::run(args.collect::<Vec<OsString>>()),
        Some("import") => import(args.collect::<Vec<OsString>>()),
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

/// `avsweep import FILE --subnet CIDR`.
fn import(args: Vec<OsString>) -> ExitCode {
    let mut file: Option<std::path::PathBuf> = None;
    let mut subnet: Option<String> = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.to_str() {
            Some("--subnet") => subnet = args.next().and_then(|v| v.into_string().ok()),
            Some(text) if text.starts_with("--subnet=") => {
                subnet = Some(text["--subnet=".len()..].to_owned())
            }
            Some(text) if text.starts_with('-') => {
                eprintln!("avsweep import: unknown option “{text}”.\n\n{USAGE}");
                return ExitCode::from(2);
            }
            _ if file.is_none() => file = Some(arg.into()),
            _ => {
                eprintln!("avsweep import: give one file.\n\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let (Some(file), Some(subnet)) = (file, subnet) else {
        eprintln!("avsweep import: give the file and --subnet CIDR.\n\n{USAGE}");
        return ExitCode::from(2);
    };
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
    let actor = format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    );
    let result: Result<String, String> = runtime.block_on(async move {
        let config = Config::load().map_err(|e| e.to_string())?;
        let db = storage::Db::open(&config.database_url)
            .await
            .map_err(|e| e.to_string())?;
        server::import::import_file(&db, &file, &subnet, config.import_max_bytes, &actor)
            .await
            .map(|outcome| outcome.message())
            .map_err(|e| e.to_string())
    });
    match result {
        Ok(message) => {
            println!("{message}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("avsweep import: {message}");
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
