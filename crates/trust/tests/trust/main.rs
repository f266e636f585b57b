//! Integration tests of the public API: generated configurations read back from their
//! commands, explained for in-scope and out-of-scope tokens, and each failure kind's message.

mod aws;
mod azure;
mod commands;
mod fixtures;
mod gcp;
mod roundtrip;
