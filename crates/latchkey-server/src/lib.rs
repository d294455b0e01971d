//! The latchkey server: the in-memory registry the token path reads, the refresh task that
//! keeps it current, app and key management shared by the CLI and the HTTP API, and the thin
//! HTTP layer.
//!
//! The token path touches memory and one signature: it reads an `Arc<Snapshot>` (no lock, no
//! database), decides with `latchkey-protocol`, and signs with an already-parsed `Signer`.

pub mod admin;
pub mod apps;
pub mod audit;
pub mod clock;
pub mod http;
pub mod keys;
pub mod refresh;
pub mod registry;
pub mod reuse;
pub mod serve;
pub mod tenants;
pub mod tokens;
pub mod views;

pub use clock::{Clock, ManualClock, SystemClock};
pub use registry::{Registry, Snapshot};
pub use serve::{RunningServer, ServerSettings};
