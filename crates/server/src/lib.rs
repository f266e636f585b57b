//! Keyless's API server: the Pulumi Cloud Deployments REST API subset the console speaks,
//! over a [`store::Store`], with secrets sealed by [`crypto::Cipher`].

pub mod agent;
pub mod config;
mod console;
pub mod cors;
pub mod crypto;
pub mod deploy;
pub mod error;
mod files;
mod git_auth;
pub mod http;
pub mod log_archive;
pub mod oidc;
pub mod rate_limit;
pub mod seed;
pub mod settings;
pub mod store;
pub mod timestamp;
pub mod tokens;
pub mod webhook;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::connect_info::Connected;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::Response;
use axum::routing::any;
use axum::serve::IncomingStream;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::server::TlsStream;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use config::Config;
pub use http::AppState;
use seed::DemoTokens;

/// Errors of startup code, outside request handling.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The largest request body accepted.
const BODY_LIMIT: usize = 1024 * 1024;
/// How long a request may take before it is answered 408.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The policy of every response but the console's (which sets its own, see `console.rs`):
/// JSON and text load nothing and are framed nowhere.
const API_CONTENT_SECURITY_POLICY: HeaderValue =
    HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'");

/// The whole server: the API, `/healthz`, and the console from `state.dist` when set.
pub fn app(state: AppState) -> Router {
    let api = http::routes()
        .into_router()
        .merge(http::issuer::router(&state.oidc.path()))
        .merge(http::agent::router())
        .route("/api", any(http::not_found))
        .route("/api/{*path}", any(http::not_found))
        .method_not_allowed_fallback(http::method_not_allowed);
    let site = match &state.dist {
        Some(dist) => {
            api.fallback_service(console::service(dist, state.console_api_origin.as_deref()))
        }
        None => api.fallback(http::not_found),
    };
    let site = site
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ));
    // Outside the timeout, so that a 408 reaches a console served elsewhere too.
    let site = match &state.cors {
        Some(cors) => site.layer(from_fn_with_state(cors.clone(), cors::api_cors)),
        None => site,
    };
    site.layer(from_fn(no_store_api))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            API_CONTENT_SECURITY_POLICY,
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// API replies (errors included) hold an organization's data for one token: no cache, shared
/// or private, keeps them.
async fn no_store_api(request: Request, next: Next) -> Response {
    let api = is_api(request.uri().path());
    let mut response = next.run(request).await;
    if api {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// Whether `path` is the API's (`/api` and below), not the console's.
fn is_api(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}

/// The TLS configuration from `--tls-cert` and `--tls-key`, or `None` to serve plain HTTP.
pub fn tls_config(config: &Config) -> Result<Option<Arc<rustls::ServerConfig>>, BoxError> {
    let (Some(cert), Some(key)) = (&config.tls_cert, &config.tls_key) else {
        return Ok(None);
    };
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|err| format!("--tls-cert {}: {err}", cert.display()))?;
    if chain.is_empty() {
        return Err(format!("--tls-cert {}: no certificate in it", cert.display()).into());
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|err| format!("--tls-key {}: {err}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|err| format!("--tls-cert and --tls-key: {err}"))?;
    Ok(Some(Arc::new(tls)))
}

/// Serves [`app`] on `listener` until `shutdown` resolves, over TLS when `tls` is given (see
/// [`tls_config`]); connections still open then are finished first.
pub async fn serve(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = app(state).into_make_service_with_connect_info::<ClientAddr>();
    match tls {
        Some(tls) => {
            let listener = TlsListener::new(listener, tls)?;
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
        }
        None => {
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
        }
    }
}

/// The address a request's connection comes from (a proxy's, behind one), for limits per
/// source.
#[derive(Clone, Copy, Debug)]
pub struct ClientAddr(pub SocketAddr);

impl Connected<IncomingStream<'_, TcpListener>> for ClientAddr {
    fn connect_info(stream: IncomingStream<'_, TcpListener>) -> Self {
        Self(*stream.remote_addr())
    }
}

impl Connected<IncomingStream<'_, TlsListener>> for ClientAddr {
    fn connect_info(stream: IncomingStream<'_, TlsListener>) -> Self {
        Self(*stream.remote_addr())
    }
}

/// How long a client has to finish the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A TCP listener whose connections are handed over once their TLS handshake is done. Each
/// handshake runs in a task of its own, so that a slow or silent client holds up no other.
struct TlsListener {
    local_addr: SocketAddr,
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    accepting: JoinHandle<()>,
}

impl TlsListener {
    fn new(listener: TcpListener, tls: Arc<rustls::ServerConfig>) -> std::io::Result<Self> {
        let local_addr = listener.local_addr()?;
        let acceptor = tokio_rustls::TlsAcceptor::from(tls);
        let (sender, ready) = mpsc::channel(64);
        let accepting = tokio::spawn(async move {
            let mut listener = listener;
            loop {
                // axum's own accept: it logs and retries on errors.
                let (stream, peer) = axum::serve::Listener::accept(&mut listener).await;
                let (acceptor, sender) = (acceptor.clone(), sender.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(stream)) => {
                            let _ = sender.send((stream, peer)).await;
                        }
                        Ok(Err(err)) => tracing::debug!(%peer, %err, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(Self {
            local_addr,
            ready,
            accepting,
        })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(connection) => connection,
            // The accepting task, which holds a sender, is gone: nothing more will connect.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.local_addr)
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

/// How deployments run, from `run` (whose paths are absolute), on a server with `data_dir` and
/// `secret_key_file` or an agent (which has neither): the work root is created, the sandbox is
/// tried, and `--pulumi`'s folder is checked before any deployment sees it.
pub fn exec_config(
    run: &config::RunConfig,
    data_dir: Option<&std::path::Path>,
    secret_key_file: Option<&std::path::Path>,
) -> Result<deploy::ExecConfig, BoxError> {
    let exchanger = keyless_exchange::Exchanger::new(run.endpoints())?;
    let work_root = run
        .work_dir
        .clone()
        .ok_or("the configuration has no work dir")?;
    files::create_private_dir(&work_root)
        .map_err(|err| format!("cannot create the work dir {}: {err}", work_root.display()))?;
    let work_root = work_root.canonicalize()?;
    let data_dir = data_dir.map(std::path::Path::canonicalize).transpose()?;
    if let Some(data_dir) = &data_dir
        && (work_root.starts_with(data_dir) || data_dir.starts_with(&work_root))
    {
        return Err(format!(
            "--work-dir {} must be apart from the data dir {}: deployments see their work dir",
            work_root.display(),
            data_dir.display()
        )
        .into());
    }
    let secret_key = match secret_key_file {
        Some(file) => {
            let file = file.canonicalize()?;
            if deploy::sandbox::always_shown(&file) || file.starts_with(&work_root) {
                return Err(format!(
                    "--secret-key-file {}: deployments can see that path; keep the key where \
                     they cannot (e.g. /etc/keyless/ or the data dir)",
                    file.display()
                )
                .into());
            }
            Some(file)
        }
        None => None,
    };
    let guarded = deploy::sandbox::Guarded {
        data_dir: data_dir.as_deref(),
        work_root: &work_root,
        secret_key: secret_key.as_deref(),
    };
    let pulumi = match &run.pulumi {
        Some(cli) => {
            let cli = cli.canonicalize().unwrap_or_else(|_| cli.clone());
            if let Some(dir) = cli.parent().filter(|d| !d.starts_with("/usr")) {
                deploy::sandbox::may_show(dir, &guarded).map_err(|why| {
                    format!(
                        "--pulumi {}: its folder is shown to deployments, and {why}; install the \
                         CLI in a folder of its own",
                        cli.display()
                    )
                })?;
            }
            Some(cli)
        }
        None => None,
    };
    let local_repos = match &run.local_repos {
        Some(dir) => Some(
            dir.canonicalize()
                .map_err(|err| format!("--local-repos {}: {err}", dir.display()))?,
        ),
        None => None,
    };
    let sandbox = deploy::Sandbox::detect(run.no_sandbox, run.bwrap.as_deref(), &work_root);
    match &sandbox {
        deploy::Sandbox::Bubblewrap(bwrap) => {
            tracing::info!(bwrap = %bwrap.display(), "deployments run in a bubblewrap sandbox");
        }
        deploy::Sandbox::Off => {
            tracing::warn!(
                "--no-sandbox: deployments run without a sandbox, as this server's user"
            );
        }
        deploy::Sandbox::Unavailable(why) => {
            tracing::error!("deployments will not start: {why}");
        }
    }
    Ok(deploy::ExecConfig {
        data_dir,
        secret_key,
        work_root,
        sandbox,
        pulumi,
        local_repos,
        cancel_grace: CANCEL_GRACE,
        exchanger,
    })
}

/// What the server allows every deployment, from `--deployment-timeout`, `--max-log-bytes` and
/// `--deployment-lease`.
fn allowance(deploy: &config::DeployConfig) -> Result<deploy::Allowance, BoxError> {
    let timeout = keyless_api_types::duration::parse(&deploy.deployment_timeout)
        .map_err(|err| format!("--deployment-timeout {err}"))?;
    let lease = keyless_api_types::duration::parse(&deploy.deployment_lease)
        .map_err(|err| format!("--deployment-lease {err}"))?;
    Ok(deploy::Allowance {
        timeout: Duration::from_secs(timeout.max(1)),
        max_log_bytes: deploy.max_log_bytes,
        lease: Duration::from_secs(lease.max(1)),
    })
}

/// How long a cancelled deployment's processes have between SIGTERM and SIGKILL.
const CANCEL_GRACE: Duration = Duration::from_secs(10);

/// Opens the data directory's store and key, migrates, seeds an empty store, and starts the
/// deployments engine; returns the state to serve and the demo tokens when it seeded.
/// `local_addr` is the address the server listens on (the bound one, when the port was 0).
pub async fn start(
    config: &Config,
    local_addr: SocketAddr,
) -> Result<(AppState, Option<DemoTokens>), BoxError> {
    let config = &config
        .absolute()
        .map_err(|err| format!("cannot resolve the configured paths: {err}"))?;
    let cors = cors::ApiCors::new(&config.cors_origins)?;
    let console_api_origin = match &config.dist {
        Some(dist) => console::api_origin(dist)?,
        None => None,
    };
    files::create_private_dir(&config.data_dir)?;
    let store = store::open(&config.database_url()).await?;
    store.migrate().await?;
    let cipher = Arc::new(config.cipher()?);
    let tokens = seed::seed_if_empty(store.as_ref(), &cipher, &config.data_dir).await?;
    let public_url = config.public_url(local_addr);
    let issuer_url = config
        .deploy
        .oidc_issuer
        .clone()
        .unwrap_or_else(|| format!("{public_url}/oidc"));
    let lifetime = keyless_api_types::duration::parse(&config.deploy.oidc_token_lifetime)
        .map_err(|err| format!("--oidc-token-lifetime {err}"))?;
    let oidc = Arc::new(
        oidc::OidcIssuer::load_or_create(
            store.clone(),
            &config.data_dir,
            &issuer_url,
            Duration::from_secs(lifetime),
            cipher.clone(),
        )
        .await?,
    );
    let exec = exec_config(
        &config.deploy.run,
        Some(&config.data_dir),
        config.secret_key_file.as_deref(),
    )?;
    let exchanger = exec.exchanger.clone();
    let plane = deploy::Plane {
        cipher: cipher.clone(),
        oidc: oidc.clone(),
        allowance: allowance(&config.deploy)?,
        exclusive_store: !store.shared(),
    };
    let per_org = config.deploy.max_concurrent_deployments;
    let deployments = deploy::Engine::start(store.clone(), exec, plane, per_org).await?;
    let log_archives = Arc::new(log_archive::LogArchives::new(store.clone()));
    let state = AppState {
        store,
        cipher,
        dist: config.dist.clone(),
        console_api_origin,
        cors,
        public_url,
        deployments,
        oidc,
        exchanger,
        refused_deliveries: Arc::new(rate_limit::RateLimiter::new(
            http::REFUSED_DELIVERIES_PER_MINUTE,
            Duration::from_secs(60),
        )),
        local_agents: Arc::default(),
        log_archives,
    };
    if config.deploy.agents > 0 {
        start_local_agents(config, &state).await?;
    }
    Ok((state, tokens))
}

/// Starts the server's local agents, and the loopback listener they talk to.
async fn start_local_agents(config: &Config, state: &AppState) -> Result<(), BoxError> {
    let program = match &config.deploy.agent_program {
        Some(program) => program.clone(),
        None => std::env::current_exe()?,
    };
    let listener = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await?;
    let addr = listener.local_addr()?;
    let app = http::agent::router()
        .layer(axum::Extension(http::agent::LocalListener))
        .with_state(state.clone());
    tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, app).await {
            tracing::error!(%err, "the local agents' listener stopped");
        }
    });
    let launch = agent::local::Launch {
        program: &program,
        count: config.deploy.agents,
        max_running: config.deploy.max_running_deployments,
        run: &config.deploy.run,
        data_dir: &config.data_dir,
        secret_key: config.secret_key_file.as_deref(),
    };
    state.local_agents.start(&launch, addr);
    Ok(())
}
