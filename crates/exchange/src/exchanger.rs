//! The HTTP side shared by every exchange.

use std::time::Duration;

use crate::endpoints::{Endpoint, Endpoints};
use crate::error::ExchangeError;

/// How long to wait for the clouds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// To open the connection (TCP and TLS).
    pub connect: Duration,
    /// For the whole request, answer included.
    pub total: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            total: Duration::from_secs(30),
        }
    }
}

/// Exchanges OIDC tokens for cloud credentials: [`Exchanger::aws`], [`Exchanger::azure`],
/// [`Exchanger::gcp`]. Cheap to clone; reuse one for connection pooling.
#[derive(Clone, Debug)]
pub struct Exchanger {
    pub(crate) http: reqwest::Client,
    pub(crate) endpoints: Endpoints,
}

/// A cloud's answer: HTTP status and body.
pub(crate) struct Answer {
    pub status: u16,
    pub body: String,
}

impl Exchanger {
    /// An exchanger with the default [`Timeouts`] (connect 10 s, total 30 s).
    pub fn new(endpoints: Endpoints) -> Result<Self, ExchangeError> {
        Self::with_timeouts(endpoints, Timeouts::default())
    }

    /// An exchanger with the given timeouts.
    pub fn with_timeouts(endpoints: Endpoints, timeouts: Timeouts) -> Result<Self, ExchangeError> {
        let http = reqwest::Client::builder()
            .connect_timeout(timeouts.connect)
            .timeout(timeouts.total)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("keyless-exchange/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ExchangeError::Client(e.to_string()))?;
        Ok(Self { http, endpoints })
    }

    /// The endpoints this exchanger talks to.
    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    /// `base` of `endpoint` joined with `path` segments (each percent-encoded as needed).
    pub(crate) fn url(
        &self,
        endpoint: Endpoint,
        segments: &[&str],
    ) -> Result<reqwest::Url, ExchangeError> {
        let base = self.endpoints.base(endpoint);
        let unusable = |reason: &str| ExchangeError::Unreachable {
            endpoint,
            url: base.to_owned(),
            reason: reason.to_owned(),
        };
        let mut url = reqwest::Url::parse(base).map_err(|_| unusable("not a valid URL"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(unusable("not an http(s) URL"));
        }
        url.path_segments_mut()
            .map_err(|()| unusable("not a valid base URL"))?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    /// Sends `request` and reads the answer, turning transport failures into
    /// [`ExchangeError::Unreachable`].
    pub(crate) async fn send(
        &self,
        endpoint: Endpoint,
        url: &reqwest::Url,
        request: reqwest::RequestBuilder,
    ) -> Result<Answer, ExchangeError> {
        let unreachable = |err: reqwest::Error| ExchangeError::Unreachable {
            endpoint,
            url: without_query(url),
            reason: transport_reason(&err),
        };
        let response = request.send().await.map_err(unreachable)?;
        let status = response.status().as_u16();
        let body = response.text().await.map_err(unreachable)?;
        Ok(Answer { status, body })
    }
}

fn without_query(url: &reqwest::Url) -> String {
    let mut url = url.clone();
    url.set_query(None);
    url.to_string()
}

/// The root cause of a transport failure in a few words (`Connection refused (os error 111)`).
fn transport_reason(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        return "no answer in time (timed out)".into();
    }
    let mut cause: &dyn std::error::Error = err;
    while let Some(next) = cause.source() {
        cause = next;
    }
    let root = cause.to_string();
    if err.is_connect() {
        format!("could not connect: {root}")
    } else {
        format!("the connection failed: {root}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_keep_base_paths_and_encode_segments() {
        let endpoints = Endpoints {
            gcp_iam_credentials: "http://127.0.0.1:1/prefix/".into(),
            ..Endpoints::default()
        };
        let exchanger = Exchanger::new(endpoints).expect("client");
        let url = exchanger
            .url(
                Endpoint::GcpIamCredentials,
                &[
                    "v1",
                    "projects",
                    "-",
                    "serviceAccounts",
                    "a b@x:generateAccessToken",
                ],
            )
            .expect("url");
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:1/prefix/v1/projects/-/serviceAccounts/a%20b@x:generateAccessToken"
        );
        let sts = exchanger.url(Endpoint::AwsSts, &[""]).expect("url");
        assert_eq!(sts.as_str(), "https://sts.amazonaws.com/");
    }

    #[test]
    fn unusable_base_urls_are_reported_with_the_endpoint() {
        let endpoints = Endpoints {
            aws_sts: "ftp://example".into(),
            ..Endpoints::default()
        };
        let err = Exchanger::new(endpoints)
            .expect("client")
            .url(Endpoint::AwsSts, &[""])
            .expect_err("ftp");
        assert!(err.to_string().contains("AWS STS"), "{err}");
        assert!(err.explain().contains("--aws-sts-endpoint"));
        assert!(err.explain().contains("KEYLESS_AWS_STS_ENDPOINT"));
    }
}
