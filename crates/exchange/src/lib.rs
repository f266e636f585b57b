//! Token exchange with AWS, Azure and Google Cloud.
//!
//! The "Fetch credentials via OIDC" step hands a deployment's OIDC token to each configured
//! cloud through that cloud's real protocol and gets back [`Credentials`]: environment
//! variables for the deployment, the identity obtained and when it expires. Every endpoint is
//! configurable ([`Endpoints`]) so tests can point them at the local stand-ins in
//! `relying_party` (feature `relying-parties`).
//!
//! ```no_run
//! # async fn run(settings: &keyless_api_types::settings::AwsOidc, token: &str) {
//! use keyless_exchange::{Endpoints, Exchanger};
//!
//! let exchanger = Exchanger::new(Endpoints::from_env()).expect("TLS backend");
//! match exchanger.aws(settings, "acme-web-prod-update-7", token).await {
//!     Ok(credentials) => println!("{credentials}"),
//!     Err(err) => eprintln!("{err}\n{}", err.explain()),
//! }
//! # }
//! ```

mod aws;
mod azure;
mod credentials;
mod endpoints;
mod error;
mod exchanger;
mod gcp;
mod plan;
mod token;

#[cfg(feature = "relying-parties")]
pub mod relying_party;

pub use credentials::{Credentials, Secret, SecretOrPlain};
pub use endpoints::{Endpoint, Endpoints};
pub use error::{ExchangeError, Rejection};
pub use exchanger::{Exchanger, Timeouts};
pub use plan::{Exchange, exchanges};
