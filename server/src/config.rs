//! Configuration: built-in defaults, then an optional TOML file, then
//! environment variables (each later layer wins).
//!
//! | setting        | TOML key       | environment        | default                         |
//! |----------------|----------------|--------------------|---------------------------------|
//! | listen address | `listen_addr`  | `AVSWEEP_ADDR`     | `127.0.0.1:3000`                |
//! | database       | `database_url` | `DATABASE_URL`     | SQLite file `<data_dir>/avsweep.db` |
//! | data directory | `data_dir`     | `AVSWEEP_DATA_DIR` | `data`                          |
//! | web assets     | `site_root`    | `LEPTOS_SITE_ROOT` | `target/site`                   |
//! | scan workers   | `scan_workers` | `AVSWEEP_SCAN_WORKERS` | `1`                         |
//! | sockets per scan | `scan_sockets` | `AVSWEEP_SCAN_SOCKETS` | `4096` (connects in flight per worker) |
//! | session idle timeout | `session_idle_minutes` | `AVSWEEP_SESSION_IDLE_MINUTES` | `30` |
//! | session absolute timeout | `session_max_hours` | `AVSWEEP_SESSION_MAX_HOURS` | `12` |
//! | `Secure` cookie (behind HTTPS) | `cookie_secure` | `AVSWEEP_COOKIE_SECURE` | `false` |
//!
//! The file is `AVSWEEP_CONFIG` if set, else `avsweep.toml` in the working
//! directory if it exists.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;

use crate::ServerError;
use crate::auth::AuthSettings;

pub const DEFAULT_SCAN_SOCKETS: usize = 4096;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub listen_addr: SocketAddr,
    pub database_url: String,
    pub data_dir: PathBuf,
    pub site_root: String,
    pub scan_workers: usize,
    /// Connects one scan keeps in flight at most. The server shares its
    /// open-file limit with the database pool and HTTP clients, so a scan
    /// does not take every descriptor the way the command-line scanner may.
    pub scan_sockets: usize,
    /// Session timeouts and the cookie's `Secure` flag.
    pub auth: AuthSettings,
}

/// The TOML file's shape: every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen_addr: Option<String>,
    database_url: Option<String>,
    data_dir: Option<PathBuf>,
    site_root: Option<String>,
    scan_workers: Option<usize>,
    scan_sockets: Option<usize>,
    session_idle_minutes: Option<usize>,
    session_max_hours: Option<usize>,
    cookie_secure: Option<bool>,
}

impl Config {
    /// Reads the configuration file (if any) and the process environment.
    pub fn load() -> Result<Config, ServerError> {
        let path = std::env::var("AVSWEEP_CONFIG")
            .ok()
            .map(PathBuf::from)
            .or_else(|| {
                let default = PathBuf::from("avsweep.toml");
                default.exists().then_some(default)
            });
        let file = match path {
            Some(path) => {
                let text =
                    std::fs::read_to_string(&path).map_err(|source| ServerError::ConfigRead {
                        path: path.display().to_string(),
                        source,
                    })?;
                toml::from_str(&text).map_err(|source| ServerError::ConfigParse {
                    path: path.display().to_string(),
                    source: Box::new(source),
                })?
            }
            None => FileConfig::default(),
        };
        Self::from_layers(file, |name| std::env::var(name).ok())
    }

    fn from_layers(
        file: FileConfig,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ServerError> {
        let listen_text = env("AVSWEEP_ADDR")
            .or(file.listen_addr)
            .unwrap_or_else(|| "127.0.0.1:3000".into());
        let listen_addr = listen_text.parse().map_err(|e| ServerError::BadSetting {
            name: "AVSWEEP_ADDR",
            value: listen_text.clone(),
            reason: format!("{e}; write address:port, e.g. 127.0.0.1:3000"),
        })?;
        let data_dir = env("AVSWEEP_DATA_DIR")
            .map(PathBuf::from)
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("data"));
        let database_url = env("DATABASE_URL")
            .filter(|url| !url.trim().is_empty())
            .or(file.database_url)
            .unwrap_or_else(|| storage::default_sqlite_url(&data_dir));
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(ServerError::BadSetting {
                name: "DATABASE_URL",
                value: storage::redact_url(&database_url),
                reason: "avsweep stores data in SQLite (sqlite://path) or Postgres (postgres://user@host/db)".into(),
            });
        }
        let site_root = env("LEPTOS_SITE_ROOT")
            .or(file.site_root)
            .unwrap_or_else(|| "target/site".into());
        let scan_workers = count_setting(
            "AVSWEEP_SCAN_WORKERS",
            env("AVSWEEP_SCAN_WORKERS"),
            file.scan_workers.unwrap_or(1),
            "at least one worker is needed to run scans",
        )?;
        let scan_sockets = count_setting(
            "AVSWEEP_SCAN_SOCKETS",
            env("AVSWEEP_SCAN_SOCKETS"),
            file.scan_sockets.unwrap_or(DEFAULT_SCAN_SOCKETS),
            "a scan needs at least one socket",
        )?;
        let defaults = AuthSettings::default();
        let idle_minutes = count_setting(
            "AVSWEEP_SESSION_IDLE_MINUTES",
            env("AVSWEEP_SESSION_IDLE_MINUTES"),
            file.session_idle_minutes
                .unwrap_or(defaults.limits.idle.num_minutes() as usize),
            "a session must be allowed at least one idle minute",
        )?;
        let max_hours = count_setting(
            "AVSWEEP_SESSION_MAX_HOURS",
            env("AVSWEEP_SESSION_MAX_HOURS"),
            file.session_max_hours
                .unwrap_or(defaults.limits.absolute.num_hours() as usize),
            "a session must be allowed at least one hour",
        )?;
        let cookie_secure = match env("AVSWEEP_COOKIE_SECURE") {
            Some(text) => match text.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => true,
                "0" | "false" | "no" | "off" | "" => false,
                _ => {
                    return Err(ServerError::BadSetting {
                        name: "AVSWEEP_COOKIE_SECURE",
                        value: text,
                        reason: "write true (avsweep is reached over HTTPS) or false".into(),
                    });
                }
            },
            None => file.cookie_secure.unwrap_or(defaults.cookie_secure),
        };
        let auth = AuthSettings {
            limits: storage::accounts::SessionLimits {
                idle: chrono::Duration::minutes(idle_minutes.min(100_000) as i64),
                absolute: chrono::Duration::hours(max_hours.min(10_000) as i64),
            },
            cookie_secure,
        };
        Ok(Config {
            listen_addr,
            database_url,
            data_dir,
            site_root,
            scan_workers,
            scan_sockets,
            auth,
        })
    }
}

/// A positive whole number from the environment (winning) or the file/default.
fn count_setting(
    name: &'static str,
    from_env: Option<String>,
    otherwise: usize,
    why_not_zero: &str,
) -> Result<usize, ServerError> {
    let value = match from_env {
        Some(text) => text.parse().map_err(|e| ServerError::BadSetting {
            name,
            value: text.clone(),
            reason: format!("{e}; give a whole number such as {otherwise}"),
        })?,
        None => otherwise,
    };
    if value == 0 {
        return Err(ServerError::BadSetting {
            name,
            value: "0".into(),
            reason: why_not_zero.into(),
        });
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn load(file: &str, env: &[(&str, &str)]) -> Result<Config, ServerError> {
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_layers(toml::from_str(file).unwrap(), |name| env.get(name).cloned())
    }

    #[test]
    fn defaults_to_local_sqlite_on_port_3000() {
        let config = load("", &[]).unwrap();
        assert_eq!(config.listen_addr.to_string(), "127.0.0.1:3000");
        assert_eq!(config.database_url, "sqlite://data/avsweep.db?mode=rwc");
        assert_eq!(config.scan_workers, 1);
        assert_eq!(config.scan_sockets, DEFAULT_SCAN_SOCKETS);
    }

    #[test]
    fn environment_overrides_the_file() {
        let config = load(
            "listen_addr = \"127.0.0.1:4000\"\ndatabase_url = \"postgres://a@b/c\"",
            &[("AVSWEEP_ADDR", "127.0.0.1:5000")],
        )
        .unwrap();
        assert_eq!(config.listen_addr.to_string(), "127.0.0.1:5000");
        assert_eq!(config.database_url, "postgres://a@b/c");
    }

    #[test]
    fn says_what_is_wrong_with_a_bad_address() {
        let error = load("", &[("AVSWEEP_ADDR", "localhost")])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("AVSWEEP_ADDR=localhost is not valid"),
            "{error}"
        );
    }

    #[test]
    fn refuses_an_unsupported_database() {
        let error = load("", &[("DATABASE_URL", "mysql://root:pw@x/y")])
            .unwrap_err()
            .to_string();
        assert!(error.contains("mysql://root:***@x/y"), "{error}");
    }

    #[test]
    fn counts_must_be_positive_whole_numbers() {
        let error = load("", &[("AVSWEEP_SCAN_WORKERS", "0")])
            .unwrap_err()
            .to_string();
        assert!(error.contains("at least one worker"), "{error}");
        let error = load("", &[("AVSWEEP_SCAN_SOCKETS", "many")])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("AVSWEEP_SCAN_SOCKETS=many is not valid"),
            "{error}"
        );
        assert_eq!(load("scan_sockets = 64", &[]).unwrap().scan_sockets, 64);
    }

    #[test]
    fn sessions_default_to_30_minutes_idle_and_12_hours_in_all() {
        let config = load("", &[]).unwrap();
        assert_eq!(config.auth.limits.idle, chrono::Duration::minutes(30));
        assert_eq!(config.auth.limits.absolute, chrono::Duration::hours(12));
        assert!(!config.auth.cookie_secure);
        let config = load(
            "session_idle_minutes = 5\ncookie_secure = true",
            &[("AVSWEEP_SESSION_MAX_HOURS", "2")],
        )
        .unwrap();
        assert_eq!(config.auth.limits.idle, chrono::Duration::minutes(5));
        assert_eq!(config.auth.limits.absolute, chrono::Duration::hours(2));
        assert!(config.auth.cookie_secure);
        let error = load("", &[("AVSWEEP_COOKIE_SECURE", "maybe")])
            .unwrap_err()
            .to_string();
        assert!(error.contains("AVSWEEP_COOKIE_SECURE=maybe"), "{error}");
    }

    #[test]
    fn unknown_file_keys_are_errors() {
        assert!(toml::from_str::<FileConfig>("listen = 1").is_err());
    }
}
