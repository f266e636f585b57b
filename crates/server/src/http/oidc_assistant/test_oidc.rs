//! `POST …/oidc/test` ("Test OIDC", admins only): mints a token with the real claims of a
//! deployment running the chosen operation — `deployment` 0, which no deployment has, tells it
//! apart — exchanges it with every configured cloud through the configured endpoints, and
//! reports each outcome with the decoded claims, never the token or the credentials. Creates no
//! deployment; each run is recorded (`GET …/oidc/tests` lists them) and limited per stack.

use axum::Json;
use axum::extract::State;
use keyless_api_types::session_name::SessionVars;
use keyless_api_types::trust::Explained;
use keyless_api_types::{
    Cloud, CloudResult, OidcConfig, OidcTestList, OidcTestRequest, OidcTestRun, OrgRole,
    PastedTrust,
};
use keyless_exchange::{Credentials, ExchangeError};
use keyless_trust::Claims;
use serde_json::Value;

use super::explain::judge;
use super::oidc_settings;
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::http::extract::{JsonBody, StackAccess};
use crate::oidc::unix_now;
use crate::store::{Limit, NewOidcTest, OidcTestRecord, StackRecord};

/// How many runs a stack may have per minute.
pub const OIDC_TESTS_PER_MINUTE: usize = 10;

const PER_MINUTE: Limit = Limit {
    max: OIDC_TESTS_PER_MINUTE,
    window: 60_000,
};
/// How many runs `GET …/oidc/tests` lists.
const LISTED: u32 = 50;

pub async fn run(
    State(state): State<AppState>,
    access: StackAccess,
    JsonBody(request): JsonBody<OidcTestRequest>,
) -> Result<Json<OidcTestRun>> {
    if access.role != OrgRole::Admin {
        return Err(Error::admins_only(&access.stack.stack.org));
    }
    let stack = &access.stack;
    let unsaved = request
        .settings
        .map(|block| serde_json::to_value(block).unwrap_or_default());
    let oidc = oidc_settings(&state, stack, unsaved).await?;
    if oidc.is_empty() {
        return Err(Error::bad_request("No cloud is configured for OIDC"));
    }
    // Counted in the store, so that every server sharing it holds the stack to one limit.
    let key = format!("oidc-test {}", stack.id);
    if let Err(wait) = state.store.hit(&key, PER_MINUTE).await? {
        let retry_after = u64::try_from(wait).unwrap_or(1).div_ceil(1000).max(1);
        return Err(Error::TooManyRequests {
            message: format!(
                "At most {OIDC_TESTS_PER_MINUTE} OIDC tests per stack per minute; try again in \
                 {retry_after}s"
            ),
            retry_after,
        });
    }
    let id = uuid::Uuid::new_v4().to_string();
    let (token, minted) = state
        .oidc
        .mint(stack, request.operation.as_str(), 0)
        .await
        .map_err(|err| Error::Internal(format!("cannot mint a test token: {err}")))?;
    let claims = serde_json::to_value(&minted)
        .map_err(|err| Error::Internal(format!("cannot serialise claims: {err}")))?;
    let test = Test {
        state: &state,
        stack,
        oidc: &oidc,
        trust: &request.trust,
        claims: &claims,
        id: &id,
    };
    let results = test.exchange_all(&token, request.operation.as_str()).await;
    let created = crate::timestamp::now();
    let results_json = serde_json::to_value(&results)
        .map_err(|err| Error::Internal(format!("cannot serialise results: {err}")))?;
    state
        .store
        .record_oidc_test(NewOidcTest {
            id: &id,
            stack_id: &stack.id,
            requested_by: &access.user.account.id,
            operation: request.operation,
            created: &created,
            jti: minted.jti(),
            claims: &claims,
            results: &results_json,
        })
        .await?;
    Ok(Json(OidcTestRun {
        id,
        requested_by: access.user.account.login,
        created,
        operation: request.operation,
        claims,
        results,
    }))
}

pub async fn list(
    State(state): State<AppState>,
    access: StackAccess,
) -> Result<Json<OidcTestList>> {
    let records = state.store.oidc_tests(&access.stack.id, LISTED).await?;
    let tests = records
        .into_iter()
        .map(to_run)
        .collect::<Result<Vec<_>>>()?;
    Ok(Json(OidcTestList { tests }))
}

fn to_run(record: OidcTestRecord) -> Result<OidcTestRun> {
    let results = serde_json::from_value(record.results)
        .map_err(|err| Error::Internal(format!("a recorded OIDC test does not decode: {err}")))?;
    Ok(OidcTestRun {
        id: record.id,
        requested_by: record.requested_by,
        created: record.created,
        operation: record.operation,
        claims: record.claims,
        results,
    })
}

/// One run's context.
struct Test<'a> {
    state: &'a AppState,
    stack: &'a StackRecord,
    oidc: &'a OidcConfig,
    trust: &'a PastedTrust,
    claims: &'a Value,
    id: &'a str,
}

impl Test<'_> {
    /// Exchanges `token` with every configured cloud, each whatever the others answered.
    async fn exchange_all(&self, token: &str, operation: &str) -> Vec<CloudResult> {
        // Version 0, which no deployment has, as in the test token's claims.
        let vars = SessionVars::new(&self.stack.stack, operation, 0, self.id);
        let mut results = Vec::new();
        for exchange in keyless_exchange::exchanges(self.oidc, &vars) {
            let outcome = exchange.run(&self.state.exchanger, token).await;
            results.push(self.result(exchange.cloud(), outcome));
        }
        results
    }

    /// One cloud's outcome; a refusal carries the explainer's verdict on pasted trust.
    fn result(&self, cloud: Cloud, outcome: Result<Credentials, ExchangeError>) -> CloudResult {
        let mut result = CloudResult {
            cloud,
            success: false,
            identity: None,
            expires_at: None,
            code: None,
            message: None,
            explanation: None,
            verdict: None,
        };
        match outcome {
            Ok(credentials) => {
                result.success = true;
                result.identity = Some(credentials.identity.clone());
                result.expires_at = Some(credentials.expires_at_rfc3339());
            }
            Err(err) => {
                result.code = err.code().map(str::to_owned);
                result.message = Some(err.to_string());
                result.explanation = Some(err.explain());
                result.verdict = self.verdict(cloud);
            }
        }
        result
    }

    fn verdict(&self, cloud: Cloud) -> Option<Explained> {
        let pasted = self.trust.get(cloud)?;
        let judged = Claims::from_json(self.claims.clone())
            .and_then(|claims| judge(cloud, &claims, unix_now(), self.oidc, pasted));
        Some(judged.into())
    }
}
