//! Command-line and environment configuration.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::crypto::{Cipher, CryptoError};

/// The command line: serve (the default), or one of the maintenance commands.
#[derive(Debug, clap::Parser)]
#[command(name = "keyless-server", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub config: Config,
}

/// An agent, and maintenance commands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Runs an agent: claims deployments of the agent pool whose token is in the
    /// KEYLESS_AGENT_TOKEN environment variable from the server at --server, and runs each in
    /// its own sandbox on this machine.
    Agent(Box<AgentConfig>),
    /// Adds a new OIDC signing key; the previous one stays in the JWKS until every token it
    /// signed has expired. Running servers pick the new key up by themselves.
    RotateOidcKey {
        /// The server's data directory (its secret key seals the signing keys).
        #[arg(long, env = "KEYLESS_DATA_DIR", default_value = ".keyless")]
        data_dir: PathBuf,
        /// The server's store, as `--database-url` (by default `<data-dir>/keyless.db`).
        #[arg(long, env = "KEYLESS_DATABASE_URL")]
        database_url: Option<String>,
        /// The server's key, as `--secret-key-file` (by default `<data-dir>/secret.key`).
        #[arg(long, env = "KEYLESS_SECRET_KEY_FILE")]
        secret_key_file: Option<PathBuf>,
    },
    /// Copies a SQLite store into an empty PostgreSQL database (creating its schema) and
    /// verifies every table's row count. Stop the server first; then start it with the same
    /// data dir (its keys open the copied secrets) and `--database-url <the target>`.
    MigrateStore {
        /// The SQLite store, e.g. `sqlite://.keyless/keyless.db`.
        #[arg(long)]
        from: String,
        /// The PostgreSQL database, e.g. `postgres://keyless@db.internal/keyless`.
        #[arg(long)]
        to: String,
    },
}

/// What an agent is given: its server, how much it runs at once, and how deployments run here.
#[derive(Clone, Debug, clap::Args)]
pub struct AgentConfig {
    /// The server's URL, e.g. https://keyless.example.com.
    #[arg(long, env = "KEYLESS_SERVER_URL", value_parser = parse_public_url)]
    pub server: String,

    /// How many deployments this agent runs at once.
    #[arg(long, env = "KEYLESS_AGENT_MAX_RUNNING", default_value_t = DEFAULT_AGENT_RUNNING)]
    pub max_running: usize,

    /// The server's data dir, which deployments must never see (given by a server to its local
    /// agents).
    #[arg(long, hide = true)]
    pub server_data_dir: Option<PathBuf>,

    /// The server's secret key file, which deployments must never see (likewise).
    #[arg(long, hide = true)]
    pub server_secret_key: Option<PathBuf>,

    #[command(flatten)]
    pub run: RunConfig,
}

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

    /// The key that seals secrets and signing keys (32 bytes), when it is not
    /// `<data-dir>/secret.key`: servers sharing one store must all be given the same key.
    #[arg(long, env = "KEYLESS_SECRET_KEY_FILE")]
    pub secret_key_file: Option<PathBuf>,

    /// Database URL: `sqlite:…` (by default the file `<data-dir>/keyless.db`) or
    /// `postgres://…` (a database that exists; the server creates its schema).
    #[arg(long, env = "KEYLESS_DATABASE_URL")]
    pub database_url: Option<String>,

    /// Directory of the built console (its `index.html` answers every non-API path).
    #[arg(long, env = "KEYLESS_DIST")]
    pub dist: Option<PathBuf>,

    /// PEM file of the certificate chain to serve HTTPS with (needs `--tls-key`).
    #[arg(long, env = "KEYLESS_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// PEM file of the certificate's private key (needs `--tls-cert`).
    #[arg(long, env = "KEYLESS_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// The URL browsers and clouds reach this server at, e.g. `https://keyless.example.com`
    /// behind a proxy that terminates TLS: the base of the OIDC issuer, console links and
    /// webhook URLs. Defaults to `https://<listen address>` with `--tls-cert`, else `http://…`.
    #[arg(long, env = "KEYLESS_PUBLIC_URL", value_parser = parse_public_url)]
    pub public_url: Option<String>,

    /// An origin a console served elsewhere runs at, e.g. `https://console.example.com`:
    /// browsers let it call this server's API (`/api/…`). Repeat the flag, or separate origins
    /// with commas; each is exact (no `*`). Without it the API sends no CORS headers, and only
    /// a console served from this server's own origin can call it.
    #[arg(
        long = "cors-origin",
        env = "KEYLESS_CORS_ORIGIN",
        value_name = "ORIGIN",
        value_delimiter = ',',
        value_parser = crate::cors::parse_origin
    )]
    pub cors_origins: Vec<String>,

    #[command(flatten)]
    pub deploy: DeployConfig,
}

/// How deployments run, and where their credentials come from.
#[derive(Clone, Debug, clap::Args)]
pub struct DeployConfig {
    /// The OIDC issuer URL in deployment tokens; its discovery document and keys are served
    /// under its path. Defaults to `<public URL>/oidc`.
    #[arg(long, env = "KEYLESS_OIDC_ISSUER")]
    pub oidc_issuer: Option<String>,

    /// How long a deployment's OIDC token is valid (a Go duration, 1s to 2h).
    #[arg(long, env = "KEYLESS_OIDC_TOKEN_LIFETIME", default_value = DEFAULT_TOKEN_LIFETIME)]
    pub oidc_token_lifetime: String,

    /// How many deployments of one organization may run at once.
    #[arg(long, env = "KEYLESS_MAX_CONCURRENT_DEPLOYMENTS", default_value_t = DEFAULT_MAX_CONCURRENT)]
    pub max_concurrent_deployments: usize,

    /// How long a deployment may run before it is cancelled (a Go duration).
    #[arg(long, env = "KEYLESS_DEPLOYMENT_TIMEOUT", default_value = DEFAULT_DEPLOYMENT_TIMEOUT)]
    pub deployment_timeout: String,

    /// How long a running deployment's lease lasts unless its server renews it (a Go duration):
    /// when servers share a PostgreSQL store, how long a deployment of a server that died stays
    /// running before another fails it.
    #[arg(long, env = "KEYLESS_DEPLOYMENT_LEASE", default_value = DEFAULT_DEPLOYMENT_LEASE)]
    pub deployment_lease: String,

    /// The most bytes of log a deployment keeps; later output is dropped, with a line saying so.
    #[arg(long, env = "KEYLESS_MAX_LOG_BYTES", default_value_t = DEFAULT_MAX_LOG_BYTES)]
    pub max_log_bytes: u64,

    /// How many deployments this server's local agents run at once, all organizations together
    /// (agents of pools run what they can each).
    #[arg(long, env = "KEYLESS_MAX_RUNNING_DEPLOYMENTS", default_value_t = DEFAULT_MAX_RUNNING)]
    pub max_running_deployments: usize,

    /// How many local agents (child processes) run the deployments of no agent pool; 0 for a
    /// server whose agents all run elsewhere.
    #[arg(long, env = "KEYLESS_AGENTS", default_value_t = DEFAULT_AGENTS)]
    pub agents: usize,

    /// The program local agents run (`keyless-server agent`): this one, unless an embedder
    /// (a test) says otherwise.
    #[arg(skip)]
    pub agent_program: Option<PathBuf>,

    #[command(flatten)]
    pub run: RunConfig,
}

/// Where and how deployments run, on the server or on an agent, and the cloud endpoints their
/// tokens are traded at.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct RunConfig {
    /// The pulumi CLI to run; by default the one on PATH (or in ~/.pulumi/bin).
    #[arg(long, env = "KEYLESS_PULUMI")]
    pub pulumi: Option<PathBuf>,

    /// Directory under which each deployment gets its own work dir (kept apart from the data
    /// dir); defaults to `keyless-work` (an agent's to `keyless-agent-work`) in the system's
    /// temporary directory.
    #[arg(long, env = "KEYLESS_WORK_DIR")]
    pub work_dir: Option<PathBuf>,

    /// Run deployments without the bubblewrap sandbox: only for a server that runs inside a
    /// container of its own, holding nothing else. Every deployment's log says so.
    #[arg(long, env = "KEYLESS_NO_SANDBOX")]
    pub no_sandbox: bool,

    /// Only local repositories (paths and file:// URLs) inside this folder may be deployed;
    /// by default any that is not, nor holds, the data dir, the work dir or the server
    /// user's home. Set it on a server shared by organizations.
    #[arg(long, env = "KEYLESS_LOCAL_REPOS")]
    pub local_repos: Option<PathBuf>,

    /// The bubblewrap binary deployments run in; by default `bwrap` on PATH.
    #[arg(long, env = "KEYLESS_BWRAP")]
    pub bwrap: Option<PathBuf>,

    /// AWS STS endpoint for AssumeRoleWithWebIdentity.
    #[arg(long, env = "KEYLESS_AWS_STS_ENDPOINT")]
    pub aws_sts_endpoint: Option<String>,

    /// Microsoft Entra ID authority host for client-assertion token requests.
    #[arg(long, env = "KEYLESS_AZURE_AUTHORITY_HOST")]
    pub azure_authority_host: Option<String>,

    /// Google STS endpoint for the token exchange.
    #[arg(long, env = "KEYLESS_GCP_STS_ENDPOINT")]
    pub gcp_sts_endpoint: Option<String>,

    /// Google IAM Credentials endpoint for generateAccessToken.
    #[arg(long, env = "KEYLESS_GCP_IAM_CREDENTIALS_ENDPOINT")]
    pub gcp_iam_credentials_endpoint: Option<String>,
}

/// `--public-url`: a scheme and a host only, since the console is served at the root; a trailing
/// slash is dropped, so that paths can be appended.
fn parse_public_url(value: &str) -> Result<String, String> {
    let url = value.trim_end_matches('/');
    let host = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or("must start with https:// or http://")?;
    if host.is_empty() || host.contains(['/', '?', '#']) {
        return Err(
            "must be a scheme and a host (and port) only, e.g. https://keyless.example.com".into(),
        );
    }
    Ok(url.to_owned())
}

const DEFAULT_TOKEN_LIFETIME: &str = "1h";
const DEFAULT_MAX_CONCURRENT: usize = 4;
const DEFAULT_MAX_RUNNING: usize = 8;
const DEFAULT_AGENT_RUNNING: usize = 2;
const DEFAULT_AGENTS: usize = 1;
const DEFAULT_DEPLOYMENT_TIMEOUT: &str = "2h";
/// Long enough that a busy server renews in time (every 2 s), short enough that a dead one's
/// deployments fail within half a minute.
const DEFAULT_DEPLOYMENT_LEASE: &str = "30s";
const DEFAULT_MAX_LOG_BYTES: u64 = 100_000_000;

impl RunConfig {
    /// The flags that give an agent this configuration.
    pub fn args(&self) -> Vec<String> {
        let mut args = Vec::new();
        let mut flag = |name: &str, value: Option<String>| {
            if let Some(value) = value {
                args.extend([format!("--{name}"), value]);
            }
        };
        let path = |path: &Option<PathBuf>| path.as_ref().map(|p| p.display().to_string());
        flag("pulumi", path(&self.pulumi));
        flag("work-dir", path(&self.work_dir));
        flag("local-repos", path(&self.local_repos));
        flag("bwrap", path(&self.bwrap));
        flag("aws-sts-endpoint", self.aws_sts_endpoint.clone());
        flag("azure-authority-host", self.azure_authority_host.clone());
        flag("gcp-sts-endpoint", self.gcp_sts_endpoint.clone());
        flag(
            "gcp-iam-credentials-endpoint",
            self.gcp_iam_credentials_endpoint.clone(),
        );
        if self.no_sandbox {
            args.push("--no-sandbox".into());
        }
        args
    }

    /// The same with every path made absolute, and the work dir defaulted to `default_work` in
    /// the system's temporary directory.
    pub fn absolute(&self, default_work: &str) -> std::io::Result<Self> {
        let absolute =
            |path: &Option<PathBuf>| path.as_deref().map(std::path::absolute).transpose();
        let work_dir = self
            .work_dir
            .clone()
            .unwrap_or_else(|| std::env::temp_dir().join(default_work));
        Ok(Self {
            pulumi: absolute(&self.pulumi)?,
            bwrap: absolute(&self.bwrap)?,
            local_repos: absolute(&self.local_repos)?,
            work_dir: Some(std::path::absolute(work_dir)?),
            ..self.clone()
        })
    }

    /// The cloud endpoints: each flag, or the cloud's public URL.
    pub fn endpoints(&self) -> keyless_exchange::Endpoints {
        let defaults = keyless_exchange::Endpoints::default();
        let pick = |flag: &Option<String>, default: String| flag.clone().unwrap_or(default);
        keyless_exchange::Endpoints {
            aws_sts: pick(&self.aws_sts_endpoint, defaults.aws_sts),
            azure_authority_host: pick(&self.azure_authority_host, defaults.azure_authority_host),
            gcp_sts: pick(&self.gcp_sts_endpoint, defaults.gcp_sts),
            gcp_iam_credentials: pick(
                &self.gcp_iam_credentials_endpoint,
                defaults.gcp_iam_credentials,
            ),
        }
    }
}

impl Default for DeployConfig {
    fn default() -> Self {
        Self {
            oidc_issuer: None,
            oidc_token_lifetime: DEFAULT_TOKEN_LIFETIME.into(),
            max_concurrent_deployments: DEFAULT_MAX_CONCURRENT,
            deployment_timeout: DEFAULT_DEPLOYMENT_TIMEOUT.into(),
            deployment_lease: DEFAULT_DEPLOYMENT_LEASE.into(),
            max_log_bytes: DEFAULT_MAX_LOG_BYTES,
            max_running_deployments: DEFAULT_MAX_RUNNING,
            agents: DEFAULT_AGENTS,
            agent_program: None,
            run: RunConfig::default(),
        }
    }
}

impl Config {
    /// A configuration with every default, for `data_dir`, listening on `listen`.
    pub fn new(listen: SocketAddr, data_dir: PathBuf) -> Self {
        Self {
            listen,
            data_dir,
            database_url: None,
            secret_key_file: None,
            dist: None,
            tls_cert: None,
            tls_key: None,
            public_url: None,
            cors_origins: Vec::new(),
            deploy: DeployConfig::default(),
        }
    }

    /// `https` when this server serves TLS itself, else `http`.
    pub fn scheme(&self) -> &'static str {
        if self.tls_cert.is_some() {
            "https"
        } else {
            "http"
        }
    }

    /// Where this server is reached: `--public-url`, or what it serves on `local_addr`.
    pub fn public_url(&self, local_addr: SocketAddr) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("{}://{local_addr}", self.scheme()))
    }

    /// The same configuration with every path made absolute against the current directory,
    /// so that nothing depends on the directory a later process starts in (deployments run
    /// elsewhere) and the work dir defaulted.
    pub fn absolute(&self) -> std::io::Result<Self> {
        let mut config = self.clone();
        config.data_dir = std::path::absolute(&self.data_dir)?;
        let absolute =
            |path: &Option<PathBuf>| path.as_deref().map(std::path::absolute).transpose();
        config.dist = absolute(&self.dist)?;
        config.secret_key_file = absolute(&self.secret_key_file)?;
        config.deploy.run = self.deploy.run.absolute("keyless-work")?;
        Ok(config)
    }

    /// The key that seals secrets: the given file, which must exist, or the data dir's, made
    /// on first start.
    pub fn cipher(&self) -> Result<Cipher, CryptoError> {
        match &self.secret_key_file {
            Some(path) => Cipher::load(path),
            None => Cipher::load_or_create(&self.data_dir),
        }
    }

    /// The database URL to open.
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| default_database_url(&self.data_dir))
    }
}

/// The store when no `--database-url` is given: SQLite in the data dir.
pub fn default_database_url(data_dir: &Path) -> String {
    format!("sqlite://{}", data_dir.join("keyless.db").display())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use std::path::Path;

    #[test]
    fn the_database_defaults_to_a_file_in_the_data_dir() {
        let config = Config::new(([127, 0, 0, 1], 8080).into(), PathBuf::from("state"));
        assert_eq!(config.database_url(), "sqlite://state/keyless.db");
    }

    #[test]
    fn every_path_is_made_absolute() {
        let config =
            Config::try_parse_from(["keyless-server", "--dist", "dist", "--pulumi", "bin/pulumi"])
                .expect("parses")
                .absolute()
                .expect("absolute");
        let cwd = std::env::current_dir().expect("cwd");
        assert_eq!(config.data_dir, cwd.join(".keyless"));
        assert_eq!(config.dist, Some(cwd.join("dist")));
        assert_eq!(config.deploy.run.pulumi, Some(cwd.join("bin/pulumi")));
        let work = config.deploy.run.work_dir.clone().expect("a work dir");
        assert!(work.is_absolute() && !work.starts_with(&config.data_dir));
        assert_eq!(
            config.database_url(),
            format!("sqlite://{}", cwd.join(".keyless/keyless.db").display())
        );
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
            "--max-concurrent-deployments",
            "2",
            "--aws-sts-endpoint",
            "http://127.0.0.1:1/sts",
        ])
        .expect("parses");
        assert_eq!(config.listen.port(), 9000);
        assert_eq!(config.database_url(), "sqlite://elsewhere.db");
        assert_eq!(config.dist, Some(PathBuf::from("dist")));
        assert_eq!(config.deploy.max_concurrent_deployments, 2);
        assert_eq!(
            config.deploy.run.endpoints().aws_sts,
            "http://127.0.0.1:1/sts"
        );
        assert_eq!(
            config.deploy.run.endpoints().gcp_sts,
            "https://sts.googleapis.com"
        );
    }

    #[test]
    fn the_public_url_defaults_to_the_listen_address_with_the_scheme_served() {
        let addr = ([127, 0, 0, 1], 8443).into();
        let plain = Config::try_parse_from(["keyless-server"]).expect("parses");
        assert_eq!(plain.public_url(addr), "http://127.0.0.1:8443");
        let tls = Config::try_parse_from([
            "keyless-server",
            "--tls-cert",
            "cert.pem",
            "--tls-key",
            "key.pem",
        ])
        .expect("parses");
        assert_eq!(tls.public_url(addr), "https://127.0.0.1:8443");
        let proxied =
            Config::try_parse_from(["keyless-server", "--public-url", "https://k.example.com/"])
                .expect("parses");
        assert_eq!(proxied.public_url(addr), "https://k.example.com");
    }

    #[test]
    fn the_public_url_is_a_scheme_and_a_host_and_tls_needs_both_files() {
        for bad in [
            "k.example.com",
            "ftp://k.example.com",
            "https://",
            "https://k.example.com/keyless",
            "https://k.example.com?x",
        ] {
            assert!(
                Config::try_parse_from(["keyless-server", "--public-url", bad]).is_err(),
                "{bad}"
            );
        }
        assert!(Config::try_parse_from(["keyless-server", "--tls-cert", "cert.pem"]).is_err());
        assert!(Config::try_parse_from(["keyless-server", "--tls-key", "key.pem"]).is_err());
    }

    #[test]
    fn cors_origins_repeat_or_are_separated_by_commas_and_are_never_a_wildcard() {
        let config = Config::try_parse_from([
            "keyless-server",
            "--cors-origin",
            "https://console.example.com, http://localhost:8080/",
            "--cors-origin",
            "https://Other.example.com",
        ])
        .expect("parses");
        assert_eq!(
            config.cors_origins,
            [
                "https://console.example.com",
                "http://localhost:8080",
                "https://other.example.com"
            ]
        );
        let err = Config::try_parse_from(["keyless-server", "--cors-origin", "*"])
            .expect_err("a wildcard")
            .to_string();
        assert!(err.contains("wildcards are not accepted"), "{err}");
        assert!(
            Config::try_parse_from(["keyless-server"])
                .expect("parses")
                .cors_origins
                .is_empty()
        );
    }

    #[test]
    fn a_local_agent_is_given_the_servers_run_configuration() {
        let server = Cli::parse_from([
            "keyless-server",
            "--pulumi",
            "/opt/pulumi/bin/pulumi",
            "--work-dir",
            "/var/tmp/work",
            "--no-sandbox",
            "--local-repos",
            "/srv/repos",
            "--bwrap",
            "/usr/bin/bwrap",
            "--aws-sts-endpoint",
            "http://127.0.0.1:1/sts",
            "--azure-authority-host",
            "http://127.0.0.1:2",
            "--gcp-sts-endpoint",
            "http://127.0.0.1:3",
            "--gcp-iam-credentials-endpoint",
            "http://127.0.0.1:4",
        ]);
        let run = server.config.deploy.run;
        let mut argv = vec!["keyless-server".to_owned(), "agent".into()];
        argv.extend(["--server".into(), "http://127.0.0.1:5".into()]);
        argv.extend(run.args());
        let Some(Command::Agent(agent)) = Cli::parse_from(argv).command else {
            panic!("an agent");
        };
        assert_eq!(format!("{:?}", agent.run), format!("{run:?}"));
    }

    #[test]
    fn the_rotation_command_parses() {
        let cli = Cli::try_parse_from(["keyless-server", "rotate-oidc-key", "--data-dir", "d"])
            .expect("parses");
        assert!(matches!(
            cli.command,
            Some(Command::RotateOidcKey { data_dir, database_url: None, secret_key_file: None })
                if data_dir == Path::new("d")
        ));
    }
}
