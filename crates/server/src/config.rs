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
    fn the_database_defaults_to_a_file_in_the_data_dir() {
        let config = Config {
            listen: ([127, 0, 0, 1], 8080).into(),
            data_dir: PathBuf::from("state"),
            database_url: None,
            dist: None,
        };
        assert_eq!(config.database_url(), "sqlite://state/keyless.db");
    }

    #[test]
    fn flags_parse() {
        let config = Config::try_parse_from([
            "keyless-server",
            "--listen",
            "0.0.0.0:9000",
            "--data-dir",
            "state",
            "--database-url",
            "sqlite://elsewhere.db",
            "--dist",
            "dist",
        ])
        .expect("parses");
        assert_eq!(config.listen.port(), 9000);
        assert_eq!(config.database_url(), "sqlite://elsewhere.db");
        assert_eq!(config.dist, Some(PathBuf::from("dist")));
    }
}
