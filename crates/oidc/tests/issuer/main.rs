//! Tests of the issuer from the outside, verifying tokens with an independent JWT library
//! (`jsonwebtoken`) that sees only the JWKS JSON.

mod helpers;
mod persistence;
mod rotation;
mod tokens;
