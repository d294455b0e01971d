//! latchkey's management services: what the CLI and the admin API both do to apps (and their
//! federations), tenants, signing and master keys, revocations and the audit trail, with the
//! rules that go with them and the JSON views both answer with. Every change is written through
//! the `Store` and recorded in the audit trail; the serving nodes learn of it from the change
//! log.
//!
//! This layer knows no HTTP and no CLI: its errors are neutral, and each caller adds its own
//! hints (a flag, a command, an endpoint).

pub mod apps;
pub mod audit;
pub mod clock;
pub mod federations;
pub mod keys;
pub mod revocations;
pub mod schema;
pub mod tenants;
pub mod views;
