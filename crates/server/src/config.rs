//! Command-line and environment configuration.

use std::net::SocketAddr;
use std::path::PathBuf;

/// The Keyless API server; serves the console too when given `--dist`.
#[derive(Clone, Debug, clap::Parser)]
#[command(name = "keyless-server", version, about)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "KEYLESS_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Directory for the database, the encryption key and the demo tokens.
    #[arg(long, env = "KEYLESS_DATA_DIR", default_value = ".keyless")]
    pub data_dir: PathBuf,

    /// Database URL; defaults to the SQLite file `<data-dir>/keyless.db`.
    #[arg(long, env = "KEYLESS_DATABASE_URL")]
    pub database_url: Option<String>,

    /// Directory of the built console (its `index.html` answers every non-API path).
    #[arg(long, env = "KEYLESS_DIST")]
    pub dist: Option<PathBuf>,
}

impl Config {
    /// The database URL to open.
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("keyless.db").display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn defaults_put_the_database_in_the_data_dir() {
        let config =
            Config::try_parse_from(["keyless-server", "--data-dir", "state"]).expect("parses");
        // Unless KEYLESS_DATABASE_URL overrides it.
        assert_eq!(config.database_url(), "sqlite://state/keyless.db");
        assert!(config.dist.is_none());
    }
}
