//! The latchkey server: the in-memory snapshot the token path reads, the registry and refresh
//! task that keep it current, token reuse, the thin HTTP layer, and the admin API (which does
//! its work through `latchkey-manage`, as the CLI does).
//!
//! The token path touches memory and one signature: it reads an `Arc<Snapshot>` (no lock, no
//! database), decides with `latchkey-protocol`, and signs with an already-parsed `Signer`.

pub mod admin;
pub(crate) mod assertions;
pub mod console;
pub mod freshness;
pub mod http;
pub mod listener;
pub mod metrics;
pub mod paths;
pub mod quota;
pub mod refresh;
pub mod registry;
pub(crate) mod remote_keys;
pub mod reuse;
pub mod serve;
pub mod throttle;
pub mod tls;

pub use latchkey_manage::clock::{Clock, ManualClock, SystemClock};
pub use listener::ConnectionLimits;
pub use registry::{Registry, Snapshot};
pub use serve::{RunningServer, ServerSettings};
pub use throttle::FailedLoginLimits;
pub use tls::TlsFiles;
