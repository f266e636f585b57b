//! `keyless-server`: parse the configuration, open and migrate the store, seed demo data on
//! first start, then serve until Ctrl-C or SIGTERM; or run an agent (`agent`), or a
//! maintenance command (`rotate-oidc-key`, `migrate-store`).

use clap::Parser;
use keyless_server::config::{Cli, Command, default_database_url};
use keyless_server::{BoxError, oidc, seed, store};
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("keyless_server=info,tower_http=info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Agent(config)) => {
            let token = std::env::var(keyless_server::agent::TOKEN_VAR).map_err(|_| {
                format!(
                    "set {} to the agent pool's token (shown once, when the pool was made)",
                    keyless_server::agent::TOKEN_VAR
                )
            })?;
            return keyless_server::agent::run(*config, token).await;
        }
        Some(Command::RotateOidcKey {
            data_dir,
            database_url,
            secret_key_file,
        }) => {
            let url = database_url.unwrap_or_else(|| default_database_url(&data_dir));
            // Nothing is created here: a wrong path or a missing key must not make new ones.
            if let Some(file) = url.strip_prefix("sqlite://")
                && !std::path::Path::new(file).exists()
            {
                return Err(format!("no store at {file}: start the server once first").into());
            }
            let key =
                secret_key_file.unwrap_or_else(|| data_dir.join(keyless_server::crypto::KEY_FILE));
            let cipher = keyless_server::crypto::Cipher::load(&key)?;
            let store = store::open(&url).await?;
            let kid = oidc::rotate(store.as_ref(), &cipher).await?;
            println!(
                "New OIDC signing key {kid}; the previous key stays published until its tokens \
                 expire."
            );
            return Ok(());
        }
        Some(Command::MigrateStore { from, to }) => {
            for (table, rows) in store::copy::copy(&from, &to).await? {
                println!("{table}: {rows} rows");
            }
            println!(
                "Copied and verified. Start the server with --database-url and the same data dir."
            );
            return Ok(());
        }
        None => {}
    }
    let config = cli.config;
    let tls = keyless_server::tls_config(&config)?;
    let listener = TcpListener::bind(config.listen).await?;
    let local_addr = listener.local_addr()?;
    let (state, demo_tokens) = keyless_server::start(&config, local_addr).await?;
    let url = state.public_url.clone();
    let deployments = state.deployments.clone();
    let local_agents = state.local_agents.clone();
    println!("Keyless listening on {}://{local_addr}", config.scheme());
    if config.public_url.is_some() {
        println!("Public URL: {url}");
    }
    if config.dist.is_none() {
        println!("Serving the API only; pass --dist <dir> to serve the built console too.");
    }
    let tokens_file = config.data_dir.join(seed::TOKENS_FILE);
    match demo_tokens {
        Some(tokens) => println!(
            "{}",
            seed::sign_in_instructions(&url, &tokens, &config.data_dir)
        ),
        None if tokens_file.exists() => {
            println!("Demo access tokens: {}", tokens_file.display());
        }
        None => {}
    }
    let stopping = {
        let deployments = deployments.clone();
        async move {
            shutdown_signal().await;
            deployments.close_claims();
        }
    };
    keyless_server::serve(listener, tls, state, stopping).await?;
    // Running deployments end with the server and its local agents; the next start marks them
    // failed.
    deployments.shutdown();
    local_agents.shutdown();
    Ok(())
}

/// Resolves on Ctrl-C or, on Unix, SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(%err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(%err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}
