//! The HTTP layer: routes, and turning protocol results into responses. Handlers gather inputs,
//! call the protocol core and write the answer; they make no decisions of their own.

mod discovery;
pub(crate) mod error;
mod extract;
mod health;
mod introspect;
mod jwks;
pub mod oauth;
pub(crate) mod observe;
mod presented;
pub(crate) mod request_id;
pub(crate) mod response;
mod revoke;
pub(crate) mod scrape;
pub mod source;
pub(crate) mod strict_host;
pub(crate) mod token;
pub(crate) mod trace;

pub use error::ErrorCode;

use crate::assertions::Assertions;
use crate::freshness::Freshness;
use crate::metrics::Metrics;
use crate::registry::Registry;
use crate::reuse::TokenCache;
use crate::throttle::Throttle;
use latchkey_manage::clock::Clock;
use std::sync::Arc;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The registry snapshot holder.
    pub registry: Arc<Registry>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Tokens that apps with token reuse may get again.
    pub reuse: Arc<TokenCache>,
    /// When this node last heard from its store.
    pub freshness: Arc<Freshness>,
    /// Who is refused for failing to authenticate, and whom to believe about a source.
    pub(crate) throttle: Arc<Throttle>,
    /// What this node counts, when it serves metrics.
    pub metrics: Option<Arc<Metrics>>,
    /// Remote keys, the replay cache and the federated login audit of assertion logins.
    pub(crate) assertions: Arc<Assertions>,
}

impl AppState {
    /// Applies a change this node just stored (and whatever the log holds before it) to its
    /// snapshot, so that the request after the answer is served with it; other nodes follow
    /// through the change log. Called by every write before it answers.
    pub(crate) async fn serve_own_write(&self) {
        match self.registry.catch_up(self.clock.now()).await {
            Ok(_) => self.freshness.contact(),
            Err(error) => {
                // The write happened: answering with an error would invite a retry that changes
                // things twice. The refresh task applies it at its next poll.
                tracing::warn!(error = %error, "a stored change could not be applied at once; the next poll applies it");
            }
        }
    }
}

pub use crate::paths;
