//! The OIDC issuer of Keyless: the identity a deployment presents to a cloud.
//!
//! - [`KeyRing`]: RS256 signing keys (RSA 2048) with rotation and pruning, persisted as JSON whose
//!   private keys are sealed by the caller's [`Sealer`].
//! - [`DeploymentClaims`]: the claims of one deployment's token, as Pulumi issues them.
//! - [`mint`]: a compact JWS signed by the ring's active key; [`decode_unverified`] and
//!   [`render_for_log`] show a token's header and claims (never its signature).
//! - [`discovery_document`] and [`jwks`]: what the server serves at
//!   `{issuer}/.well-known/openid-configuration` and `{issuer}/.well-known/jwks`.
//!
//! Times are Unix seconds passed in by the caller (`now`), so the issuer has no clock of its own.
//!
//! ```
//! # fn main() -> Result<(), keyless_oidc::Error> {
//! use keyless_oidc::{Deployment, DeploymentClaims, Issuer, KeyRing, MAX_TOKEN_LIFETIME, jwks, mint};
//!
//! let now = 1_700_000_000;
//! let issuer = Issuer::new("https://keyless.example.com/oidc")?;
//! let ring = KeyRing::generate(now)?;
//! let deployment = Deployment {
//!     org: "Acme",
//!     project: "website",
//!     stack: "prod",
//!     stack_id: "6f1c2a8e-0d7b-4c55-9a43-0d2f3e1b7c10",
//!     operation: "update",
//!     version: 42,
//! };
//! let claims = DeploymentClaims::new(&issuer, &deployment, now, MAX_TOKEN_LIFETIME)?;
//! let token = mint(&ring, &claims)?;
//! let keys = jwks(&ring, now); // serve as JSON
//! # let _ = (token, keys);
//! # Ok(())
//! # }
//! ```

mod claims;
mod documents;
mod error;
mod keys;
mod ring;
mod token;

pub use claims::{Deployment, DeploymentClaims, Issuer, MAX_TOKEN_LIFETIME};
pub use documents::{Discovery, Jwks, discovery_document, jwks};
pub use error::Error;
pub use keys::{Jwk, SigningKey};
pub use ring::{KeyRing, RETIRED_KEY_GRACE, Sealer};
pub use token::{decode_unverified, mint, render_for_log};
