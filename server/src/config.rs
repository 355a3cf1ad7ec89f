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
//! | reverse DNS    | `dns_servers`  | `AVSWEEP_DNS_SERVERS` | none: no names looked up (e.g. `10.0.0.53,10.0.0.54:53`) |
//! | session idle timeout | `session_idle_minutes` | `AVSWEEP_SESSION_IDLE_MINUTES` | `30` |
//! | session absolute timeout | `session_max_hours` | `AVSWEEP_SESSION_MAX_HOURS` | `12` |
//! | `Secure` cookie (behind HTTPS) | `cookie_secure` | `AVSWEEP_COOKIE_SECURE` | `false` |
//! | address cap    | `scan_address_cap` | `AVSWEEP_SCAN_ADDRESS_CAP` | `65536` (a /16; larger scans need confirmation) |
//! | probe rate     | `scan_rate`    | `AVSWEEP_SCAN_RATE` | `5000` probes/s per scan (0 = unlimited) |
//! | import size    | `import_max_bytes` | `AVSWEEP_IMPORT_MAX_BYTES` | `20971520` (20 MiB per nmap XML upload) |
//! | HTTPS certificate chain (PEM) | `tls_cert` | `AVSWEEP_TLS_CERT` | none: plain HTTP |
//! | HTTPS private key (PEM) | `tls_key` | `AVSWEEP_TLS_KEY` | none (give both or neither) |
//! | first-admin link, from other machines | `setup_link_minutes` | `AVSWEEP_SETUP_LINK_MINUTES` | `15` (from this machine: until used) |
//!
//! The file is `AVSWEEP_CONFIG` if set, else `avsweep.toml` in the working
//! directory if it exists.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;

use crate::ServerError;
use crate::auth::AuthSettings;

pub const DEFAULT_SCAN_SOCKETS: usize = 4096;
/// A /16: scans of more addresses need a person's explicit confirmation.
pub const DEFAULT_SCAN_ADDRESS_CAP: u64 = 65536;
/// Probes per second one scan sends at most unless the job says otherwise.
pub const DEFAULT_SCAN_RATE: u32 = 5000;
pub const DEFAULT_IMPORT_MAX_BYTES: usize = 20 * 1024 * 1024;
/// How long the first-admin setup link works from another machine.
pub const DEFAULT_SETUP_LINK_MINUTES: usize = 15;

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
    /// Name servers asked for each up host's PTR name. Empty: no lookups,
    /// so a scan sends nothing beyond its targets unless told to.
    pub dns_servers: Vec<SocketAddr>,
    /// Session timeouts and the cookie's `Secure` flag.
    pub auth: AuthSettings,
    /// Scans of more addresses than this need `confirm_large`.
    pub scan_address_cap: u64,
    /// Default probes per second per scan; `None` = unlimited.
    pub scan_rate: Option<u32>,
    /// Largest nmap XML file the upload and the CLI import accept.
    pub import_max_bytes: usize,
    /// Minutes the first-admin setup link is accepted from another machine
    /// (0: only from this machine). From loopback it works until used.
    pub setup_link_minutes: u32,
    /// Serve HTTPS with this certificate chain and key (PEM files). With it,
    /// cookies are `Secure` and responses carry HSTS.
    pub tls: Option<TlsFiles>,
}

/// The PEM files HTTPS is served with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
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
    dns_servers: Option<Vec<String>>,
    session_idle_minutes: Option<usize>,
    session_max_hours: Option<usize>,
    cookie_secure: Option<bool>,
    scan_address_cap: Option<usize>,
    scan_rate: Option<usize>,
    import_max_bytes: Option<usize>,
    setup_link_minutes: Option<usize>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
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
        let dns_servers = match env("AVSWEEP_DNS_SERVERS") {
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(dns_server)
                .collect::<Result<_, _>>()?,
            None => file
                .dns_servers
                .unwrap_or_default()
                .iter()
                .map(|s| dns_server(s.trim()))
                .collect::<Result<_, _>>()?,
        };
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
        let tls_cert = env("AVSWEEP_TLS_CERT")
            .filter(|path| !path.trim().is_empty())
            .map(PathBuf::from)
            .or(file.tls_cert);
        let tls_key = env("AVSWEEP_TLS_KEY")
            .filter(|path| !path.trim().is_empty())
            .map(PathBuf::from)
            .or(file.tls_key);
        let tls = match (tls_cert, tls_key) {
            (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
            (None, None) => None,
            (Some(cert), None) => {
                return Err(ServerError::BadSetting {
                    name: "AVSWEEP_TLS_KEY",
                    value: String::new(),
                    reason: format!(
                        "tls_cert is {} but no tls_key is given: HTTPS needs both",
                        cert.display()
                    ),
                });
            }
            (None, Some(key)) => {
                return Err(ServerError::BadSetting {
                    name: "AVSWEEP_TLS_CERT",
                    value: String::new(),
                    reason: format!(
                        "tls_key is {} but no tls_cert is given: HTTPS needs both",
                        key.display()
                    ),
                });
            }
        };
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
        let scan_address_cap = count_setting(
            "AVSWEEP_SCAN_ADDRESS_CAP",
            env("AVSWEEP_SCAN_ADDRESS_CAP"),
            file.scan_address_cap
                .unwrap_or(DEFAULT_SCAN_ADDRESS_CAP as usize),
            "a cap of 0 would refuse every scan",
        )?;
        let scan_rate = number_setting(
            "AVSWEEP_SCAN_RATE",
            env("AVSWEEP_SCAN_RATE"),
            file.scan_rate.unwrap_or(DEFAULT_SCAN_RATE as usize),
        )?;
        let scan_rate = match u32::try_from(scan_rate) {
            Ok(0) => None,
            Ok(rate) => Some(rate),
            Err(_) => {
                return Err(ServerError::BadSetting {
                    name: "AVSWEEP_SCAN_RATE",
                    value: scan_rate.to_string(),
                    reason: "give probes per second up to 4294967295, or 0 for no limit".into(),
                });
            }
        };
        let import_max_bytes = count_setting(
            "AVSWEEP_IMPORT_MAX_BYTES",
            env("AVSWEEP_IMPORT_MAX_BYTES"),
            file.import_max_bytes.unwrap_or(DEFAULT_IMPORT_MAX_BYTES),
            "an import limit of 0 bytes would refuse every file",
        )?;
        let setup_link_minutes = number_setting(
            "AVSWEEP_SETUP_LINK_MINUTES",
            env("AVSWEEP_SETUP_LINK_MINUTES"),
            file.setup_link_minutes
                .unwrap_or(DEFAULT_SETUP_LINK_MINUTES),
        )?;
        let setup_link_minutes = u32::try_from(setup_link_minutes.min(24 * 60)).unwrap_or(15);
        Ok(Config {
            listen_addr,
            database_url,
            data_dir,
            site_root,
            scan_workers,
            scan_sockets,
            dns_servers,
            auth,
            scan_address_cap: scan_address_cap as u64,
            scan_rate,
            import_max_bytes,
            setup_link_minutes,
            tls,
        })
    }
}

/// `10.0.0.53` (port 53) or `10.0.0.53:5353` / `[2001:db8::53]:53`.
fn dns_server(text: &str) -> Result<SocketAddr, ServerError> {
    text.parse::<SocketAddr>()
        .or_else(|_| {
            text.parse::<std::net::IpAddr>()
                .map(|ip| SocketAddr::new(ip, 53))
        })
        .map_err(|_| ServerError::BadSetting {
            name: "AVSWEEP_DNS_SERVERS",
            value: text.into(),
            reason: "give name server addresses separated by commas, e.g. 10.0.0.53,10.0.0.54:53"
                .into(),
        })
}

/// A whole number from the environment (winning) or the file/default.
fn number_setting(
    name: &'static str,
    from_env: Option<String>,
    otherwise: usize,
) -> Result<usize, ServerError> {
    match from_env {
        Some(text) => text.trim().parse().map_err(|e| ServerError::BadSetting {
            name,
            value: text.clone(),
            reason: format!("{e}; give a whole number such as {otherwise}"),
        }),
        None => Ok(otherwise),
    }
}

/// A positive whole number from the environment (winning) or the file/default.
fn count_setting(
    name: &'static str,
    from_env: Option<String>,
    otherwise: usize,
    why_not_zero: &str,
) -> Result<usize, ServerError> {
    let value = number_setting(name, from_env, otherwise)?;
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
        assert_eq!(config.scan_address_cap, 65536);
        assert_eq!(config.scan_rate, Some(DEFAULT_SCAN_RATE));
        assert_eq!(config.import_max_bytes, 20 * 1024 * 1024);
    }

    #[test]
    fn scope_limits_are_configurable() {
        let config = load(
            "scan_address_cap = 256\nimport_max_bytes = 1000",
            &[("AVSWEEP_SCAN_RATE", "0")],
        )
        .unwrap();
        assert_eq!(config.scan_address_cap, 256);
        assert_eq!(config.scan_rate, None, "0 = unlimited");
        assert_eq!(config.import_max_bytes, 1000);
        let error = load("", &[("AVSWEEP_SCAN_ADDRESS_CAP", "0")])
            .unwrap_err()
            .to_string();
        assert!(error.contains("refuse every scan"), "{error}");
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
    fn reverse_dns_is_off_unless_servers_are_named() {
        assert!(load("", &[]).unwrap().dns_servers.is_empty());
        let config = load(
            "dns_servers = [\"127.0.0.53\"]",
            &[("AVSWEEP_DNS_SERVERS", "127.0.0.53, 127.0.0.54:5353")],
        )
        .unwrap();
        assert_eq!(
            config.dns_servers,
            [
                "127.0.0.53:53".parse().unwrap(),
                "127.0.0.54:5353".parse().unwrap()
            ]
        );
        assert_eq!(
            load("dns_servers = [\"127.0.0.53\"]", &[])
                .unwrap()
                .dns_servers,
            ["127.0.0.53:53".parse().unwrap()]
        );
        let error = load("", &[("AVSWEEP_DNS_SERVERS", "dns.example")])
            .unwrap_err()
            .to_string();
        assert!(error.contains("separated by commas"), "{error}");
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
