//! `avsweep`: the dashboard server, and the nmap-style scanner on the command line.

mod cli_backup;

use std::ffi::OsString;
use std::process::ExitCode;

use server::config::Config;
use server::startup::Application;

const USAGE: &str = "\
avsweep — find the computers that run no antivirus client

Usage:
  avsweep [serve]          start the web dashboard (default)
  avsweep migrate          create or upgrade the database, then exit (an SQLite
                           database is first copied to backups/pre-migrate-….db)
  avsweep backup [--output PATH]
                           copy the SQLite database, also while serving, to
                           backups/avsweep-YYYYMMDD-HHMMSS.db next to it; for
                           Postgres, print the pg_dump command instead
  avsweep user add NAME --role admin|helpdesk|manager [--password-stdin]
                           create an account; the password comes from stdin
                           (--password-stdin) or AVSWEEP_NEW_PASSWORD
  avsweep user list        list accounts and their roles
  avsweep user disable NAME | user enable NAME
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
  AVSWEEP_IMPORT_MAX_BYTES (20 MiB), AVSWEEP_DNS_SERVERS (none)
";

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let command = args.next();
    match command.as_ref().and_then(|c| c.to_str()) {
        None | Some("serve") => serve(false),
        Some("migrate") => serve(true),
        Some("scan") => scanner::cli::run(args.collect::<Vec<OsString>>()),
        Some("user") => user_command(args.collect()),
        Some("import") => import(args.collect::<Vec<OsString>>()),
        Some("backup") => cli_backup::run(args.collect()),
        Some("-h" | "--help" | "help") => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some("-V" | "--version") => {
            println!(
                "avsweep {} (build {}, {}, site {})",
                env!("CARGO_PKG_VERSION"),
                env!("AVSWEEP_BUILD_ID"),
                if cfg!(debug_assertions) {
                    "debug"
                } else {
                    "release"
                },
                if server::routes::assets::is_embedded() {
                    "embedded"
                } else {
                    "read from site_root"
                }
            );
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
    let Some(runtime) = start_runtime(RuntimeKind::MultiThread) else {
        return ExitCode::FAILURE;
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

/// `avsweep user …`: account administration from the shell (the first admin).
fn user_command(args: Vec<OsString>) -> ExitCode {
    let args: Vec<String> = match args.into_iter().map(OsString::into_string).collect() {
        Ok(args) => args,
        Err(_) => {
            eprintln!("avsweep user: arguments must be valid UTF-8");
            return ExitCode::from(2);
        }
    };
    let Some(runtime) = start_runtime(RuntimeKind::CurrentThread) else {
        return ExitCode::FAILURE;
    };
    match runtime.block_on(run_user_command(&args)) {
        Ok(message) => {
            println!("{message}");
            ExitCode::SUCCESS
        }
        Err(UserCommandError::Usage(message)) => {
            eprintln!("avsweep user: {message}\n\n{USAGE}");
            ExitCode::from(2)
        }
        Err(UserCommandError::Failed(message)) => {
            eprintln!("avsweep user: {message}");
            ExitCode::FAILURE
        }
    }
}

enum UserCommandError {
    Usage(String),
    Failed(String),
}

impl<E: std::fmt::Display> From<E> for UserCommandError {
    fn from(error: E) -> Self {
        UserCommandError::Failed(error.to_string())
    }
}

async fn run_user_command(args: &[String]) -> Result<String, UserCommandError> {
    let usage = |m: &str| UserCommandError::Usage(m.to_owned());
    let (sub, rest) = args
        .split_first()
        .ok_or_else(|| usage("say what to do: add, list, disable or enable"))?;
    let config = Config::load()?;
    let db = storage::Db::open(&config.database_url).await?;
    match sub.as_str() {
        "add" => {
            let mut name = None;
            let mut role = None;
            let mut from_stdin = false;
            let mut iter = rest.iter();
            while let Some(arg) = iter.next() {
                match arg.as_str() {
                    "--role" => role = iter.next().cloned(),
                    "--password-stdin" => from_stdin = true,
                    flag if flag.starts_with("--role=") => {
                        role = Some(flag["--role=".len()..].to_owned())
                    }
                    flag if flag.starts_with('-') => {
                        return Err(usage(&format!("unknown option “{flag}”")));
                    }
                    other if name.is_none() => name = Some(other.to_owned()),
                    other => return Err(usage(&format!("unexpected argument “{other}”"))),
                }
            }
            let name = name.ok_or_else(|| usage("give the new account's name"))?;
            let role = role.ok_or_else(|| usage("give --role admin, helpdesk or manager"))?;
            let password = if from_stdin {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line)?;
                line.trim_end_matches(['\r', '\n']).to_owned()
            } else {
                std::env::var("AVSWEEP_NEW_PASSWORD").map_err(|_| {
                    usage("give the password on stdin with --password-stdin, or in AVSWEEP_NEW_PASSWORD")
                })?
            };
            let account = storage::accounts::create_user(&db, &name, &password, &role).await?;
            storage::audit::record(
                db.conn(),
                "command-line",
                "user.create",
                &format!("user:{}", account.username),
                serde_json::json!({ "role": account.role }),
            )
            .await?;
            Ok(format!(
                "created {} ({}); sign in at /login",
                account.username, account.role
            ))
        }
        "list" => {
            let mut out = String::from("username\trole\tstatus\tcreated");
            for account in storage::accounts::list_users(&db).await? {
                out.push_str(&format!(
                    "\n{}\t{}\t{}\t{}",
                    account.username,
                    account.role,
                    if account.disabled {
                        "disabled"
                    } else {
                        "active"
                    },
                    account.created_at.format("%Y-%m-%d %H:%M UTC")
                ));
            }
            Ok(out)
        }
        "disable" | "enable" => {
            let [name] = rest else {
                return Err(usage(&format!("user {sub} takes exactly one name")));
            };
            let account = storage::accounts::find_by_username(&db, name)
                .await?
                .ok_or_else(|| UserCommandError::Failed(format!("there is no account “{name}”")))?;
            let disabled = sub == "disable";
            storage::accounts::set_disabled(&db, account.id, disabled).await?;
            storage::audit::record(
                db.conn(),
                "command-line",
                if disabled {
                    "user.disable"
                } else {
                    "user.enable"
                },
                &format!("user:{}", account.username),
                serde_json::json!({}),
            )
            .await?;
            Ok(format!("{} is now {sub}d", account.username))
        }
        other => Err(usage(&format!("unknown user command “{other}”"))),
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
    let Some(runtime) = start_runtime(RuntimeKind::MultiThread) else {
        return ExitCode::FAILURE;
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

/// Which tokio runtime a subcommand needs: the server and imports use every
/// core, one-shot commands one thread.
enum RuntimeKind {
    MultiThread,
    CurrentThread,
}

/// Starts the runtime, or says why it could not (the caller exits with failure).
fn start_runtime(kind: RuntimeKind) -> Option<tokio::runtime::Runtime> {
    let mut builder = match kind {
        RuntimeKind::MultiThread => tokio::runtime::Builder::new_multi_thread(),
        RuntimeKind::CurrentThread => tokio::runtime::Builder::new_current_thread(),
    };
    match builder.enable_all().build() {
        Ok(runtime) => Some(runtime),
        Err(e) => {
            eprintln!("avsweep: cannot start the async runtime: {e}");
            None
        }
    }
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,tower_http=info"));
    tracing_subscriber::fmt().with_env_filter(filter).init();
}
