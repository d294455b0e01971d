//! Black-box tests of latchkey: the real router on an ephemeral 127.0.0.1 port with a temporary
//! SQLite file, the `latchkey` binary on the same file, `jsonwebtoken` as an independent verifier
//! and the `oauth2` crate as a real client. One test binary; `helpers` has the harness.

mod helpers;

mod cli;
mod client_auth;
mod discovery;
mod jwks;
mod live_changes;
mod oauth2_client;
mod restart;
mod serve;
mod token;
mod token_reuse;
