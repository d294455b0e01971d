//! Starting and stopping a server: load the registry, bind, follow the change log, serve
//! (`listener`, with `tls`), and shut down gracefully (in-flight requests finish, for at most
//! the shutdown timeout).

use crate::admin;
use crate::assertions::Assertions;
use crate::console;
use crate::freshness::Freshness;
use crate::http::observe::ObserveLayer;
use crate::http::source::TrustedProxies;
use crate::http::{self, AppState};
use crate::listener::{self, ConnectionLimits};
use crate::metrics::Metrics;
use crate::refresh;
use crate::registry::{Registry, RegistryError};
use crate::reuse::TokenCache;
use crate::throttle::{FailedLoginLimits, Throttle};
use crate::tls::{Tls, TlsError, TlsFiles};
use axum::Router;
use latchkey_keys::lifecycle::RotationPolicy;
use latchkey_manage::clock::Clock;
use latchkey_manage::keys::MasterKeys;
use latchkey_store::Store;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tower::ServiceBuilder;
use tower::layer::util::{Identity, Stack};

/// Per-node server settings.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// Address to listen on.
    pub listen: String,
    /// Issuer of the `default` tenant.
    pub issuer: String,
    /// How often to poll the store for changes made elsewhere.
    pub refresh_interval: Duration,
    /// How often to run key rotation steps and purge expired revocations.
    pub maintenance_interval: Duration,
    /// The signing key life cycle.
    pub key_rotation: RotationPolicy,
    /// Answer 404 to a Host no tenant claims, instead of serving the `default` tenant.
    pub strict_hosts: bool,
    /// How long to keep issuing tokens from memory after the store last answered (zero:
    /// without limit).
    pub max_staleness: Duration,
    /// Failed client authentications allowed a minute, per address and per client_id.
    pub failed_logins: FailedLoginLimits,
    /// Proxies whose `Forwarded` and `X-Forwarded-For` headers name a request's source.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The certificate pair to serve HTTPS with (`None`: plain HTTP).
    pub tls: Option<TlsFiles>,
    /// Limits on what a connection may hold, and the shutdown timeout.
    pub limits: ConnectionLimits,
    /// Where to serve `GET /metrics` (`None`: no metrics, and nothing is counted).
    pub metrics_listen: Option<String>,
}

/// Why the server could not start. Each variant's cause is its `source`, not part of its
/// message, so that a printed chain names every cause once.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Sealing stored keys or making a tenant's first key failed.
    #[error("could not prepare the signing keys")]
    Keys(#[from] latchkey_manage::keys::SigningKeyError),
    /// Loading apps and keys failed.
    #[error("could not load apps and keys")]
    Registry(#[from] RegistryError),
    /// Binding the listen address failed.
    #[error("could not listen on {addr}")]
    Bind {
        /// The address.
        addr: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The TLS certificate or key cannot be used.
    #[error("could not use the TLS certificate")]
    Tls(#[from] TlsError),
}

/// A started server.
pub struct RunningServer {
    local_addr: SocketAddr,
    metrics_addr: Option<SocketAddr>,
    registry: Arc<Registry>,
    shutdown: watch::Sender<bool>,
    serving: JoinHandle<()>,
    serving_metrics: Option<JoinHandle<()>>,
    refreshing: JoinHandle<()>,
    reloading: Option<JoinHandle<()>>,
}

impl RunningServer {
    /// Loads the registry from `store` (creating missing signing keys), binds, and starts
    /// serving and following changes.
    pub async fn start(
        store: Arc<dyn Store>,
        master_keys: Arc<MasterKeys>,
        settings: &ServerSettings,
        clock: Arc<dyn Clock>,
    ) -> Result<RunningServer, StartError> {
        // Loaded before binding, so that nothing connects to a server that is not ready yet.
        let tls = load_tls(settings)?;
        let registry = load(store, master_keys, settings, clock.as_ref()).await?;
        let listener = RunningServer::bind(&settings.listen).await?;
        let metrics = bind_metrics(settings).await?;
        RunningServer::run(listener, metrics, registry, tls, settings, clock)
    }

    /// Binds a listen address, for `start_on`.
    pub async fn bind(listen: &str) -> Result<TcpListener, StartError> {
        TcpListener::bind(listen)
            .await
            .map_err(|source| StartError::Bind {
                addr: listen.to_owned(),
                source,
            })
    }

    /// `start` on a listener already bound (`settings.listen` is not used): for a caller that
    /// needs the address before the server starts, such as an issuer naming the bound port.
    pub async fn start_on(
        listener: TcpListener,
        store: Arc<dyn Store>,
        master_keys: Arc<MasterKeys>,
        settings: &ServerSettings,
        clock: Arc<dyn Clock>,
    ) -> Result<RunningServer, StartError> {
        let tls = load_tls(settings)?;
        let registry = load(store, master_keys, settings, clock.as_ref()).await?;
        let metrics = bind_metrics(settings).await?;
        RunningServer::run(listener, metrics, registry, tls, settings, clock)
    }

    fn run(
        listener: TcpListener,
        metrics_listener: Option<TcpListener>,
        registry: Arc<Registry>,
        tls: Option<Tls>,
        settings: &ServerSettings,
        clock: Arc<dyn Clock>,
    ) -> Result<RunningServer, StartError> {
        let local_addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: settings.listen.clone(),
            source,
        })?;
        let (shutdown, shutdown_rx) = watch::channel(false);
        let reuse = Arc::new(TokenCache::default());
        // The registry was just loaded: the store answered now.
        let freshness = Arc::new(Freshness::new(settings.max_staleness));
        let refreshing = tokio::spawn(refresh::follow_changes(
            Arc::clone(&registry),
            Arc::clone(&reuse),
            Arc::clone(&freshness),
            Arc::clone(&clock),
            refresh::Timing {
                poll: settings.refresh_interval,
                maintenance: settings.maintenance_interval,
                key_rotation: settings.key_rotation,
            },
            shutdown_rx.clone(),
        ));
        let metrics_addr = metrics_listener
            .as_ref()
            .map(TcpListener::local_addr)
            .transpose()
            .map_err(|source| StartError::Bind {
                addr: settings.metrics_listen.clone().unwrap_or_default(),
                source,
            })?;
        let state = AppState {
            registry: Arc::clone(&registry),
            assertions: Arc::new(Assertions::new(
                Arc::clone(&clock),
                Arc::clone(registry.store()),
            )),
            clock,
            reuse,
            freshness,
            throttle: Arc::new(Throttle::new(
                settings.failed_logins,
                TrustedProxies::new(settings.trusted_proxies.clone()),
            )),
            metrics: metrics_listener.as_ref().map(|_| Arc::new(Metrics::new())),
        };
        // The metrics listener has the same connection limits, and no TLS: it is meant for
        // an internal address that only the scraper reaches.
        let serving_metrics = metrics_listener.map(|listener| {
            tokio::spawn(listener::serve(
                listener,
                http::scrape::router(state.clone()),
                None,
                settings.limits,
                shutdown_rx.clone(),
            ))
        });
        let app = app(state);
        let reloading = tls
            .as_ref()
            .map(|tls| tls.spawn_reloader(shutdown_rx.clone()));
        let serving = tokio::spawn(listener::serve(
            listener,
            app,
            tls.map(|tls| tls.acceptor()),
            settings.limits,
            shutdown_rx,
        ));
        Ok(RunningServer {
            local_addr,
            metrics_addr,
            registry,
            shutdown,
            serving,
            serving_metrics,
            refreshing,
            reloading,
        })
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The bound address of the metrics listener, if the server serves metrics.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// The registry this server reads.
    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// Stops accepting connections, closes idle ones, lets in-flight requests finish (for at
    /// most the shutdown timeout, then closes their connections), and waits for every task.
    pub async fn stop(self) -> std::io::Result<()> {
        let _ = self.shutdown.send(true);
        let served = self.serving.await.map_err(std::io::Error::other);
        if let Some(serving_metrics) = self.serving_metrics {
            let _ = serving_metrics.await;
        }
        let _ = self.refreshing.await;
        if let Some(reloading) = self.reloading {
            let _ = reloading.await;
        }
        served
    }
}

/// Every route a server answers: the OAuth routes, the admin API and a 404 for the rest, behind
/// the layers every request passes.
pub fn app(state: AppState) -> Router {
    let layers = layers(state.metrics.clone());
    Router::new()
        .merge(http::oauth::router())
        .merge(admin::router())
        .merge(console::router())
        .fallback(http::response::not_found)
        .layer(layers)
        .with_state(state)
}

/// What every request passes through, outermost first. Each concern that is about requests
/// rather than about one endpoint (request ids, logs, metrics) is one layer here, reading what
/// it needs from the request or from the answer's extensions (`http::ErrorCode`,
/// `RequestFacts`).
fn layers(
    metrics: Option<Arc<Metrics>>,
) -> ServiceBuilder<Stack<http::trace::RequestSpanLayer, Stack<ObserveLayer, Identity>>> {
    ServiceBuilder::new()
        .layer(ObserveLayer { metrics })
        .layer(http::trace::layer())
}

/// Binds the metrics listener, if the server serves metrics.
async fn bind_metrics(settings: &ServerSettings) -> Result<Option<TcpListener>, StartError> {
    match &settings.metrics_listen {
        Some(address) => Ok(Some(RunningServer::bind(address).await?)),
        None => Ok(None),
    }
}

/// Reads the certificate pair, if the server serves HTTPS: a broken pair stops the start.
fn load_tls(settings: &ServerSettings) -> Result<Option<Tls>, StartError> {
    Ok(settings.tls.as_ref().map(Tls::load).transpose()?)
}

/// Loads the registry a server starts with, after making the store ready for it (the only
/// writes of a start: loading and following changes only read).
async fn load(
    store: Arc<dyn Store>,
    master_keys: Arc<MasterKeys>,
    settings: &ServerSettings,
    clock: &dyn Clock,
) -> Result<Arc<Registry>, StartError> {
    latchkey_manage::keys::prepare(store.as_ref(), &master_keys, clock.now()).await?;
    let registry = Registry::load(
        store,
        master_keys,
        &settings.issuer,
        settings.strict_hosts,
        clock.now(),
    )
    .await?;
    Ok(Arc::new(registry))
}
