//! GitHub push-to-deploy: verifying deliveries ([`signature`]) and deciding which stacks a
//! push or pull request deploys ([`matching`]). The HTTP side is `http::webhooks`.

pub mod matching;
pub mod signature;
