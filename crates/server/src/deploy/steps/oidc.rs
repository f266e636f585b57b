//! `Fetch credentials via OIDC`: mints the deployment's token (into `PULUMI_OIDC_TOKEN` and
//! `pulumi.oidc` in the work directory), then trades it with each configured cloud for
//! short-lived credentials, setting the variables the providers read.
//!
//! The log shows the token's decoded header and claims (never the token or its signature), the
//! identity each cloud granted and until when; a failure shows the cloud's code and message and
//! what to change and the claim values presented (`iss`, `aud`, `sub`), and ends the deployment
//! at once. Each of these events is also written as one `##[keyless:oidc-…]` marker line
//! ([`keyless_api_types::oidc_log`]), which the console reads instead of the sentences.

use std::future::Future;

use keyless_api_types::OidcConfig;
use keyless_api_types::oidc_log::{
    self, FailureEvent, GrantEvent, OidcLogEvent, Presented, TokenEvent,
};
use keyless_api_types::session_name::SessionVars;
use keyless_exchange::{Credentials, Endpoint, ExchangeError};

use super::{StepError, StepResult};
use crate::deploy::job::Job;
use crate::deploy::protocol::MintedToken;

/// The token's file in the work directory, as Pulumi Deployments names it.
const TOKEN_FILE: &str = "pulumi.oidc";

pub async fn run(job: &mut Job, index: i64) -> StepResult {
    let oidc = job
        .deployment
        .settings
        .oidc()
        .cloned()
        .ok_or_else(|| StepError::Failed("no cloud is configured for OIDC".into()))?;
    let minted = mint(job, index).await?;
    let presented = Presented {
        iss: minted.issuer.clone(),
        aud: minted.audience.clone(),
        sub: minted.subject.clone(),
    };
    exchange_all(job, index, &oidc, &minted.token, &presented).await
}

/// Logs `event` as its marker line.
async fn mark(job: &Job, index: i64, event: OidcLogEvent) {
    job.sink.line(index, &oidc_log::marker_line(&event)).await;
}

/// Mints the token, hands it to the deployment and logs what it says.
async fn mint(job: &mut Job, index: i64) -> Result<MintedToken, StepError> {
    let minted = job
        .control
        .mint()
        .await
        .map_err(|err| StepError::Failed(format!("cannot mint the OIDC token: {err}")))?;
    let token = &minted.token;
    job.set_env("PULUMI_OIDC_TOKEN", token, true);
    if let Some((_, signature)) = token.rsplit_once('.') {
        job.sink.add_secret(signature);
    }
    let file = job.work_dir.join(TOKEN_FILE);
    // A new file: never one a deployment's process placed (a link would be followed).
    crate::files::write_private(&file, token.as_bytes(), true)
        .map_err(|err| StepError::Failed(format!("cannot write {TOKEN_FILE}: {err}")))?;
    job.sink
        .line(
            index,
            &format!(
                "Minted an OIDC token for {} (issuer {}), in PULUMI_OIDC_TOKEN and {}",
                minted.subject,
                minted.issuer,
                file.display()
            ),
        )
        .await;
    let rendered = keyless_oidc::render_for_log(token)
        .map_err(|err| StepError::Failed(format!("cannot decode the minted token: {err}")))?;
    for line in rendered.lines() {
        job.sink.line(index, line).await;
    }
    let expires_at = crate::timestamp::format(
        time::OffsetDateTime::from_unix_timestamp(minted.expires_at as i64)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH),
    );
    job.sink
        .line(
            index,
            &format!("The token expires at {expires_at} (signature not shown)"),
        )
        .await;
    let (header, decoded) = keyless_oidc::decode_unverified(token)
        .map_err(|err| StepError::Failed(format!("cannot decode the minted token: {err}")))?;
    let object = |value: serde_json::Value| match value {
        serde_json::Value::Object(map) => map,
        _ => serde_json::Map::new(),
    };
    let event = TokenEvent {
        issuer: minted.issuer.clone(),
        subject: minted.subject.clone(),
        audience: minted.audience.clone(),
        expires_at,
        header: object(header),
        claims: object(decoded),
    };
    mark(job, index, OidcLogEvent::Token(event)).await;
    Ok(minted)
}

/// Exchanges `token` with each configured cloud in turn; the first failure ends the step and
/// logs `presented`, the claim values the cloud judged.
async fn exchange_all(
    job: &mut Job,
    index: i64,
    oidc: &OidcConfig,
    token: &str,
    presented: &Presented,
) -> StepResult {
    let exchanger = job.config.exchanger.clone();
    let record = &job.deployment;
    let vars = SessionVars::new(
        &record.stack.stack,
        record.operation.as_str(),
        record.version,
        record.id.as_str(),
    );
    for exchange in keyless_exchange::exchanges(oidc, &vars) {
        let result = cancellable(job, exchange.run(&exchanger, token)).await?;
        let endpoint = configured(&exchanger, exchange.endpoint());
        apply(
            job,
            index,
            &exchange.describe(),
            endpoint,
            presented,
            result,
        )
        .await?;
    }
    Ok(())
}

/// Where `endpoint` points when it is not the cloud's own, as one log sentence: an exchange
/// with a proxy or a local stand-in must not read as a grant from the cloud itself.
fn configured(exchanger: &keyless_exchange::Exchanger, endpoint: Endpoint) -> Option<String> {
    exchanger.endpoints().configured(endpoint).map(|url| {
        format!(
            "{url} (set by {}; not the cloud's own endpoint)",
            endpoint.flag()
        )
    })
}

/// Waits for `exchange` unless the deployment is cancelled first.
async fn cancellable<T>(job: &Job, exchange: impl Future<Output = T>) -> Result<T, StepError> {
    let mut cancel = job.cancel.clone();
    tokio::select! {
        result = exchange => Ok(result),
        reason = cancel.requested() => Err(StepError::Cancelled(reason)),
    }
}

/// Logs an exchange's outcome and sets its variables; a failure ends the step. `endpoint`
/// names where the exchange happened when that was not the cloud's own endpoint.
async fn apply(
    job: &mut Job,
    index: i64,
    intro: &str,
    endpoint: Option<String>,
    presented: &Presented,
    result: Result<Credentials, ExchangeError>,
) -> StepResult {
    match &endpoint {
        Some(endpoint) => {
            job.sink
                .line(index, &format!("{intro}, at {endpoint}"))
                .await
        }
        None => job.sink.line(index, intro).await,
    }
    match result {
        Ok(credentials) => {
            for (name, value) in &credentials.env {
                job.set_env(name, value.expose(), value.is_secret());
            }
            let minutes = credentials.seconds_left() / 60;
            let names: Vec<&str> = credentials.env.iter().map(|(n, _)| n.as_str()).collect();
            let lines = [
                format!(
                    "{}: obtained {}, valid until {} ({minutes} minutes from now)",
                    credentials.cloud,
                    credentials.identity,
                    credentials.expires_at_rfc3339()
                ),
                format!("{}: set {}", credentials.cloud, names.join(", ")),
            ];
            for line in lines {
                job.sink.line(index, &line).await;
            }
            for (name, value) in &credentials.details {
                job.sink
                    .line(index, &format!("{}:   {name}: {value}", credentials.cloud))
                    .await;
            }
            let event = GrantEvent {
                cloud: credentials.cloud,
                identity: credentials.identity.clone(),
                expires_at: credentials.expires_at_rfc3339(),
                variables: names.iter().map(|&n| n.to_owned()).collect(),
                details: credentials
                    .details
                    .iter()
                    .cloned()
                    .chain(endpoint.map(|url| ("Endpoint".to_owned(), url)))
                    .collect(),
            };
            mark(job, index, OidcLogEvent::Grant(event)).await;
            Ok(())
        }
        Err(err) => {
            let cloud = err
                .cloud()
                .map_or("The exchange".to_owned(), |c| c.to_string());
            if let Some(code) = err.code() {
                job.sink
                    .line(index, &format!("{cloud} error code: {code}"))
                    .await;
            }
            job.sink.line(index, &format!("{cloud} said: {err}")).await;
            let Presented { iss, aud, sub } = presented;
            job.sink
                .line(
                    index,
                    &format!("Presented: iss {iss}, aud {aud}, sub {sub}"),
                )
                .await;
            let explanation = err.explain();
            job.sink
                .line(index, &format!("What to do: {explanation}"))
                .await;
            let event = FailureEvent {
                cloud: err.cloud(),
                code: err.code().map(str::to_owned),
                message: err.to_string(),
                explanation,
                presented: presented.clone(),
            };
            mark(job, index, OidcLogEvent::Failure(event)).await;
            Err(StepError::Failed(format!(
                "{cloud} did not grant credentials; later steps are skipped"
            )))
        }
    }
}
