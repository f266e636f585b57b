//! GitHub push-to-deploy: verifying deliveries ([`signature`], under the secret [`secrets`]
//! picks), deciding which stacks a push or pull request deploys ([`matching`]), and checking
//! with the repository that a pushed commit is on its branch ([`reachability`]). The HTTP side
//! is `http::webhooks`.

pub mod matching;
pub mod reachability;
pub mod secrets;
pub mod signature;
