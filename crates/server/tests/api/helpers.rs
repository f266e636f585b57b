//! Starting a test server and talking to it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use keyless_api_types::{ApiError, OrgRole, StackRef};
use keyless_server::agent::local::LocalAgents;
use keyless_server::deploy::Engine;
use keyless_server::seed::DemoTokens;
use keyless_server::store::{NewAccount, StackId, Store, StoreError, StoredSettings};
use keyless_server::{Config, tokens};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::Value;
use tempfile::TempDir;
use tokio::task::JoinHandle;

use crate::support::Schema;

/// The stack the seed gives deployment settings.
pub const PROD: &str = "/api/stacks/acme/website/prod/deployments/settings";

/// A running server with a fresh, seeded data directory.
pub struct TestApp {
    pub base_url: String,
    /// Alice, admin of `acme`.
    pub admin: String,
    /// Bob, member of `acme`.
    pub member: String,
    pub store: Arc<dyn Store>,
    pub engine: Arc<Engine>,
    /// The server's local agents (child processes).
    local_agents: Arc<LocalAgents>,
    server: JoinHandle<std::io::Result<()>>,
    pub data_dir: TempDir,
    /// The store's PostgreSQL URL, when the tests run on PostgreSQL.
    postgres: Option<String>,
    client: reqwest::Client,
}

/// Starts the server without a console.
pub async fn spawn_app() -> TestApp {
    spawn_app_with_dist(None).await
}

/// Starts the server, serving the console from `dist` when given.
pub async fn spawn_app_with_dist(dist: Option<PathBuf>) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp data dir");
    let mut config = Config::new(([127, 0, 0, 1], 0).into(), data_dir.path().to_owned());
    config.dist = dist;
    let (app, tokens) = spawn_with(config, data_dir).await;
    app.signed_in(tokens.expect("a fresh data dir is seeded"))
}

/// Starts the server with `config` (whose data dir is `data_dir`); returns it with the demo
/// tokens when it seeded (else `admin` and `member` are empty).
pub async fn spawn_with(config: Config, data_dir: TempDir) -> (TestApp, Option<DemoTokens>) {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .expect("binds a free port");
    spawn_on(listener, config, data_dir).await
}

/// [`spawn_with`] on a listener bound beforehand (so its URL can go into the configuration).
pub async fn spawn_on(
    listener: tokio::net::TcpListener,
    config: Config,
    data_dir: TempDir,
) -> (TestApp, Option<DemoTokens>) {
    spawn_with_client(listener, config, data_dir, reqwest::Client::new()).await
}

/// [`spawn_on`], talked to with `client` (e.g. one that trusts the server's certificate).
pub async fn spawn_with_client(
    listener: tokio::net::TcpListener,
    config: Config,
    data_dir: TempDir,
    client: reqwest::Client,
) -> (TestApp, Option<DemoTokens>) {
    // The server's warnings and errors, shown with a failing test's output.
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter(tracing_subscriber::EnvFilter::new("keyless_server=warn"))
        .try_init();
    let mut config = on_test_store(config).await;
    // The local agents run this crate's server binary (the test binary is not one).
    config.deploy.agent_program = Some(env!("CARGO_BIN_EXE_keyless-server").into());
    let postgres = config
        .database_url
        .clone()
        .filter(|url| url.starts_with("postgres"));
    let local_addr = listener.local_addr().expect("local address");
    let tls = keyless_server::tls_config(&config).expect("TLS files load");
    let (state, tokens) = keyless_server::start(&config, local_addr)
        .await
        .expect("server starts");
    let store = state.store.clone();
    let engine = state.deployments.clone();
    let local_agents = state.local_agents.clone();
    let server = tokio::spawn(keyless_server::serve(
        listener,
        tls,
        state,
        std::future::pending(),
    ));
    let app = TestApp {
        base_url: format!("{}://{local_addr}", config.scheme()),
        admin: String::new(),
        member: String::new(),
        store,
        engine,
        local_agents,
        server,
        data_dir,
        postgres,
        client,
    };
    (app, tokens)
}

/// `config` with its store where the tests run: SQLite in the data dir by default, or with
/// `KEYLESS_TEST_STORE=postgres` (how `cargo xtask test` runs them a second time) a PostgreSQL
/// schema of the data dir's own, which a restart on the same data dir finds again. A
/// configuration that names its own database keeps it.
pub async fn on_test_store(mut config: Config) -> Config {
    static SCHEMAS: Mutex<BTreeMap<PathBuf, (Schema, String)>> = Mutex::new(BTreeMap::new());
    let postgres = std::env::var("KEYLESS_TEST_STORE").is_ok_and(|store| store == "postgres");
    if !postgres || config.database_url.is_some() {
        return config;
    }
    let known = SCHEMAS
        .lock()
        .expect("schemas")
        .get(&config.data_dir)
        .map(|(_, url)| url.clone());
    let url = match known {
        Some(url) => url,
        None => {
            // Kept for the process's life (restarts reuse it); the next run drops it.
            let (schema, url) = Schema::create().await;
            let mut schemas = SCHEMAS.lock().expect("schemas");
            schemas.insert(config.data_dir.clone(), (schema, url.clone()));
            url
        }
    };
    config.database_url = Some(url);
    // A shared store keeps a crashed server's deployments running until their lease lapses.
    config.deploy.deployment_lease = TEST_LEASE.into();
    config
}

/// The lease of deployments in tests on a shared store: short, so that a crashed server's
/// deployments fail soon.
pub const TEST_LEASE: &str = "3s";

/// A response's status and JSON body (`Value::Null` when the body is not JSON).
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub text: String,
}

impl Reply {
    /// The body as the API's error shape.
    pub fn error(&self) -> ApiError {
        serde_json::from_value(self.body.clone())
            .unwrap_or_else(|err| panic!("not an error body ({err}): {}", self.text))
    }

    /// The attributes the error names.
    pub fn error_attributes(&self) -> Vec<String> {
        self.error()
            .errors
            .into_iter()
            .map(|e| e.attribute)
            .collect()
    }
}

impl TestApp {
    /// The same server, talked to with these demo tokens.
    pub fn signed_in(self, tokens: DemoTokens) -> Self {
        Self {
            admin: tokens.admin,
            member: tokens.member,
            ..self
        }
    }

    /// Stops the server as a crash would (running deployments are left `running` in the store,
    /// its local agents and their processes killed) and hands back its data directory.
    pub fn crash(self) -> TempDir {
        self.engine.shutdown();
        self.local_agents.shutdown();
        self.server.abort();
        self.data_dir
    }

    /// A request to `path`, as `token` when given.
    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let builder = self
            .client
            .request(method, format!("{}{path}", self.base_url))
            .header("Accept", "application/vnd.pulumi+8");
        match token {
            Some(token) => builder.header("Authorization", format!("token {token}")),
            None => builder,
        }
    }

    /// A `GET` of `path` without any header.
    pub fn bare_get(&self, path: &str) -> RequestBuilder {
        self.client.get(format!("{}{path}", self.base_url))
    }

    /// A `POST` to `path` without any header.
    pub fn bare_post(&self, path: &str) -> RequestBuilder {
        self.client.post(format!("{}{path}", self.base_url))
    }

    /// Sends `builder` and reads the reply.
    pub async fn send(&self, builder: RequestBuilder) -> Reply {
        let response = builder.send().await.expect("request is answered");
        let status = response.status();
        let text = response.text().await.expect("body is read");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply { status, body, text }
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.send(self.request(Method::GET, path, Some(token)))
            .await
    }

    /// Sends `body` as JSON with `method`.
    pub async fn write(&self, method: Method, path: &str, token: &str, body: &Value) -> Reply {
        self.send(self.request(method, path, Some(token)).json(body))
            .await
    }

    /// `POST` of a merge patch, as the admin.
    pub async fn patch(&self, path: &str, body: &Value) -> Reply {
        self.write(Method::POST, path, &self.admin, body).await
    }

    /// Creates an account in `org` (creating the organization when new) and returns its token.
    pub async fn create_user(&self, org: &str, role: OrgRole) -> String {
        match self.store.create_organization(org, org).await {
            Ok(()) | Err(StoreError::Conflict) => {}
            Err(err) => panic!("cannot create organization {org}: {err}"),
        }
        let login = format!("user-{}", &tokens::generate()[4..16]);
        let account = self
            .store
            .create_account(NewAccount {
                login: &login,
                name: &login,
                email: &format!("{login}@{org}.example.com"),
            })
            .await
            .expect("account is created");
        self.store
            .add_member(org, &account.id, role)
            .await
            .expect("membership is created");
        let token = tokens::generate();
        self.store
            .add_token(&account.id, &tokens::hash(&token), "test")
            .await
            .expect("token is stored");
        token
    }

    /// `--database-url` for a command run on this server's store, when it is not the data
    /// dir's SQLite file.
    pub fn database_args(&self) -> Vec<String> {
        self.postgres
            .iter()
            .flat_map(|url| ["--database-url".to_owned(), url.clone()])
            .collect()
    }

    /// What the store holds for `org/project/stack`'s settings.
    pub async fn stored_settings(
        &self,
        org: &str,
        project: &str,
        stack: &str,
    ) -> Option<StoredSettings> {
        let record = self
            .store
            .stack(&StackRef::new(org, project, stack))
            .await
            .expect("store answers")
            .expect("stack exists");
        self.store
            .settings(&record.id)
            .await
            .expect("store answers")
    }

    /// The stable id of `org/project/stack`.
    pub async fn stack_id(&self, org: &str, project: &str, stack: &str) -> StackId {
        self.store
            .stack(&StackRef::new(org, project, stack))
            .await
            .expect("store answers")
            .expect("stack exists")
            .id
    }

    /// Every byte the server keeps (the data dir's files: database, WAL, key, tokens; and the
    /// rows of its PostgreSQL store, when it has one), for grepping.
    pub async fn stored_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        for entry in std::fs::read_dir(self.data_dir.path()).expect("data dir lists") {
            let path = entry.expect("entry").path();
            if path.is_file() {
                bytes.extend(read_elsewhere(&path));
            }
        }
        if let Some(url) = &self.postgres {
            bytes.extend(crate::support::contents(url).await);
        }
        bytes
    }
}

/// A file's bytes, read by another process. The server under test runs in this one, and a
/// file of its SQLite database opened and closed here would drop the locks SQLite holds on it
/// (POSIX locks belong to the process: closing any descriptor of the file releases them all).
/// Another process opening the database then takes itself for its only user and rebuilds the
/// WAL index under the running server, whose next reads fail ("disk I/O error"): that made
/// `rotate-oidc-key` after a grep of the data dir fail about one run in sixteen.
pub fn read_elsewhere(path: &std::path::Path) -> Vec<u8> {
    stdout_of(std::process::Command::new("cat").arg(path))
}

/// What `command` printed, after asserting that it ran and succeeded (else what it said).
fn stdout_of(command: &mut std::process::Command) -> Vec<u8> {
    let output = command.output().expect("the command runs");
    assert!(
        output.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

/// Runs `keyless-server rotate-oidc-key` with `args` (data dir, store, key); returns what it
/// printed, after asserting that it succeeded.
pub fn rotate_oidc_key<I, S>(args: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let stdout = stdout_of(
        std::process::Command::new(env!("CARGO_BIN_EXE_keyless-server"))
            .arg("rotate-oidc-key")
            .args(args),
    );
    String::from_utf8_lossy(&stdout).into_owned()
}

/// Verifies `token` as a relying party would: signed (RS256) by the key of `jwks` its header
/// names, issued by `issuer`, for `audience` when given. Returns that key's id and the claims.
pub fn verify_jwt(
    jwks: &Value,
    token: &str,
    issuer: &str,
    audience: Option<&str>,
) -> (String, Value) {
    let header = jsonwebtoken::decode_header(token).expect("a JWT");
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    let kid = header.kid.expect("a kid");
    let key = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .unwrap_or_else(|| panic!("kid {kid} not served: {jwks}"));
    let key = jsonwebtoken::DecodingKey::from_rsa_components(
        key["n"].as_str().expect("n"),
        key["e"].as_str().expect("e"),
    )
    .expect("an RSA key");
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    match audience {
        Some(audience) => validation.set_audience(&[audience]),
        None => validation.validate_aud = false,
    }
    validation.set_issuer(&[issuer]);
    validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);
    let claims = jsonwebtoken::decode::<Value>(token, &key, &validation)
        .expect("the token verifies against the JWKS")
        .claims;
    (kid, claims)
}
