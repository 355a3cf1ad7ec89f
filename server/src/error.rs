#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot read the configuration file {path}: {source}")]
    ConfigRead {
        path: String,
        source: std::io::Error,
    },
    #[error("the configuration file {path} is not valid TOML for avsweep: {source}")]
    ConfigParse {
        path: String,
        source: Box<toml::de::Error>,
    },
    #[error("{name}={value} is not valid: {reason}")]
    BadSetting {
        name: &'static str,
        value: String,
        reason: String,
    },
    #[error(
        "cannot listen on {addr}: {source}. Is another avsweep (or program) using it? Set AVSWEEP_ADDR to another address"
    )]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error(
        "cannot use {path} for HTTPS: {reason}. Give tls_cert a PEM certificate chain and tls_key its PEM private key"
    )]
    Tls { path: String, reason: String },
    #[error(transparent)]
    Storage(#[from] storage::StorageError),
    #[error("the HTTP server stopped: {0}")]
    Serve(std::io::Error),
}
