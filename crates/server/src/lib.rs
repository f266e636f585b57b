//! Keyless's API server: the Pulumi Cloud Deployments REST API subset the console speaks,
//! over a [`store::Store`], with secrets sealed by [`crypto::Cipher`].

pub mod config;
mod console;
pub mod crypto;
pub mod deploy;
pub mod error;
mod files;
mod git_auth;
pub mod http;
pub mod oidc;
pub mod rate_limit;
pub mod seed;
pub mod store;
pub mod timestamp;
pub mod tokens;
pub mod webhook;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::any;
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

/// The whole server: the API, `/healthz`, and the console from `state.dist` when set.
pub fn app(state: AppState) -> Router {
    let api = http::routes()
        .into_router()
        .merge(oidc::router(&state.oidc.path()))
        .route("/api", any(http::not_found))
        .route("/api/{*path}", any(http::not_found))
        .method_not_allowed_fallback(http::method_not_allowed);
    let site = match &state.dist {
        Some(dist) => api.fallback_service(console::service(dist)),
        None => api.fallback(http::not_found),
    };
    site.layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// How deployments run, from `config` (whose paths are absolute): the work root is created,
/// the sandbox is tried, and `--pulumi`'s folder is checked before any deployment sees it.
fn exec_config(
    config: &Config,
    cipher: Arc<crypto::Cipher>,
    oidc: Arc<oidc::OidcIssuer>,
    exchanger: keyless_exchange::Exchanger,
) -> Result<deploy::ExecConfig, BoxError> {
    let deploy = &config.deploy;
    let work_root = deploy
        .work_dir
        .clone()
        .ok_or("the configuration has no work dir")?;
    files::create_private_dir(&work_root)
        .map_err(|err| format!("cannot create the work dir {}: {err}", work_root.display()))?;
    let work_root = work_root.canonicalize()?;
    let data_dir = config.data_dir.canonicalize()?;
    if work_root.starts_with(&data_dir) || data_dir.starts_with(&work_root) {
        return Err(format!(
            "--work-dir {} must be apart from the data dir {}: deployments see their work dir",
            work_root.display(),
            data_dir.display()
        )
        .into());
    }
    let pulumi = match &deploy.pulumi {
        Some(cli) => {
            let cli = cli.canonicalize().unwrap_or_else(|_| cli.clone());
            if let Some(dir) = cli.parent().filter(|d| !d.starts_with("/usr")) {
                deploy::sandbox::may_show(dir, &data_dir, &work_root).map_err(|why| {
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
    let sandbox = deploy::Sandbox::detect(deploy.no_sandbox, deploy.bwrap.as_deref(), &work_root);
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
    let timeout = keyless_api_types::duration::parse(&deploy.deployment_timeout)
        .map_err(|err| format!("--deployment-timeout {err}"))?;
    Ok(deploy::ExecConfig {
        data_dir,
        work_root,
        sandbox,
        timeout: Duration::from_secs(timeout.max(1)),
        max_log_bytes: deploy.max_log_bytes,
        cipher,
        pulumi,
        cancel_grace: CANCEL_GRACE,
        oidc,
        exchanger,
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
    files::create_private_dir(&config.data_dir)?;
    let store = store::open(&config.database_url()).await?;
    store.migrate().await?;
    let cipher = Arc::new(crypto::Cipher::load_or_create(&config.data_dir)?);
    let tokens = seed::seed_if_empty(store.as_ref(), &cipher, &config.data_dir).await?;
    let public_url = format!("http://{local_addr}");
    let issuer_url = config
        .deploy
        .oidc_issuer
        .clone()
        .unwrap_or_else(|| format!("{public_url}/oidc"));
    let lifetime = keyless_api_types::duration::parse(&config.deploy.oidc_token_lifetime)
        .map_err(|err| format!("--oidc-token-lifetime {err}"))?;
    let oidc = Arc::new(oidc::OidcIssuer::load_or_create(
        &config.data_dir,
        &issuer_url,
        Duration::from_secs(lifetime),
        cipher.clone(),
    )?);
    let exchanger = keyless_exchange::Exchanger::new(config.deploy.endpoints())?;
    let exec = exec_config(config, cipher.clone(), oidc.clone(), exchanger.clone())?;
    let limits = deploy::queue::Limits {
        per_org: config.deploy.max_concurrent_deployments,
        total: config.deploy.max_running_deployments,
    };
    let deployments = deploy::Engine::start(store.clone(), exec, limits).await?;
    let state = AppState {
        store,
        cipher,
        dist: config.dist.clone(),
        public_url,
        deployments,
        oidc,
        exchanger,
        oidc_tests: Arc::new(rate_limit::RateLimiter::new(
            http::OIDC_TESTS_PER_MINUTE,
            Duration::from_secs(60),
        )),
    };
    Ok((state, tokens))
}
