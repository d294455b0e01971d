//! `latchkey serve` and `latchkey quickstart`.

use crate::cli::ServeArgs;
use anyhow::Context;
use latchkey_protocol::{ClientSecret, Scope};
use latchkey_server::apps::{self, NewApp};
use latchkey_server::audit::Actor;
use latchkey_server::keys::{MasterKeys, RotationPolicy};
use latchkey_server::{RunningServer, ServerSettings, SystemClock};
use latchkey_store::{DEFAULT_TENANT, Store};
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

/// The name of the app `quickstart` manages.
const DEMO_APP: &str = "quickstart-demo";
/// The scope the demo app is allowed.
const DEMO_SCOPE: &str = "demo";

/// Runs the server until SIGTERM or Ctrl-C, then stops gracefully. `banner` is printed once the
/// server is listening.
pub(crate) async fn serve(
    store: Arc<dyn Store>,
    master_keys: Arc<MasterKeys>,
    args: ServeArgs,
    banner: Option<Banner>,
) -> anyhow::Result<()> {
    let settings = ServerSettings {
        listen: args.listen,
        issuer: args.issuer,
        refresh_interval: Duration::from_millis(args.refresh_ms),
        maintenance_interval: Duration::from_millis(args.maintenance_ms),
        key_rotation: RotationPolicy::every_days(args.key_rotation_days),
        strict_hosts: args.strict_hosts,
    };
    let signals = ShutdownSignals::register()?;
    let server = RunningServer::start(store, master_keys, &settings, Arc::new(SystemClock)).await?;
    let address = server.local_addr();
    tracing::info!(%address, issuer = %settings.issuer, "latchkey is serving");
    // One line on stdout, for people and for scripts that start the server on port 0.
    println!("latchkey listening on http://{address}");
    if let Some(banner) = banner {
        banner.print(&format!("http://{address}"));
    }
    let _ = std::io::stdout().flush();
    signals.recv().await;
    tracing::info!("shutting down: finishing in-flight requests");
    server
        .stop()
        .await
        .context("the server stopped with an error")
}

/// SIGTERM and SIGINT (Ctrl-C), registered when this is built. Registering before the server
/// says it is listening matters: a supervisor may signal the moment it sees that line, and an
/// unregistered signal would kill the process instead of stopping it gracefully.
#[cfg(unix)]
struct ShutdownSignals {
    terminate: tokio::signal::unix::Signal,
    interrupt: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl ShutdownSignals {
    fn register() -> anyhow::Result<ShutdownSignals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(ShutdownSignals {
            terminate: signal(SignalKind::terminate()).context("could not listen for SIGTERM")?,
            interrupt: signal(SignalKind::interrupt()).context("could not listen for SIGINT")?,
        })
    }

    async fn recv(mut self) {
        tokio::select! {
            _ = self.terminate.recv() => {}
            _ = self.interrupt.recv() => {}
        }
    }
}

#[cfg(not(unix))]
struct ShutdownSignals;

#[cfg(not(unix))]
impl ShutdownSignals {
    fn register() -> anyhow::Result<ShutdownSignals> {
        Ok(ShutdownSignals)
    }

    async fn recv(self) {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// What quickstart prints once the server is up.
pub(crate) struct Banner {
    client_id: String,
    secret: ClientSecret,
}

impl Banner {
    fn print(&self, base: &str) {
        println!();
        println!("A demo app is ready. Get a token:");
        println!();
        println!("  curl -s -X POST {base}/oauth2/token \\");
        println!("    -d grant_type=client_credentials \\");
        println!("    -d client_id={} \\", self.client_id);
        println!("    -d client_secret={} \\", self.secret.expose());
        println!("    -d scope={DEMO_SCOPE}");
        println!();
        println!("Verify tokens against {base}/oauth2/jwks. The demo secret is shown only now;");
        println!("running quickstart again gives the demo app a new one. Stop with Ctrl-C.");
    }
}

/// Makes sure the demo app exists with a fresh secret (a stored secret can never be shown
/// again), then serves.
pub(crate) async fn quickstart(
    store: Arc<dyn Store>,
    master_keys: Arc<MasterKeys>,
    args: ServeArgs,
) -> anyhow::Result<()> {
    let now = super::now();
    let existing = store
        .apps(DEFAULT_TENANT)
        .await
        .context("could not read apps")?
        .into_iter()
        .find(|app| app.name == DEMO_APP);
    let banner = match existing {
        Some(app) => {
            let secret = apps::rotate_secret(
                store.as_ref(),
                DEFAULT_TENANT,
                &app.client_id,
                None,
                Actor::CLI,
                now,
            )
            .await?;
            Banner {
                client_id: app.client_id,
                secret,
            }
        }
        None => {
            let new = NewApp {
                tenant: DEFAULT_TENANT.to_owned(),
                name: DEMO_APP.to_owned(),
                app_type: latchkey_protocol::ClientType::M2m,
                scopes: vec![Scope::parse(DEMO_SCOPE)?],
                default_scopes: vec![],
                grant_types: None,
                token_ttl: None,
                can_introspect: false,
                token_reuse_percent: None,
                audiences: Vec::new(),
                custom_claims: None,
            };
            let (app, secret) = apps::create(store.as_ref(), new, Actor::CLI, now).await?;
            let secret = secret.context("an m2m app always gets a secret")?;
            Banner {
                client_id: app.client_id,
                secret,
            }
        }
    };
    serve(store, master_keys, args, Some(banner)).await
}
