//! `latchkey serve` and `latchkey quickstart`.

use crate::cli::ServeArgs;
use anyhow::Context;
use latchkey_keys::lifecycle::RotationPolicy;
use latchkey_manage::apps::{self, NewApp};
use latchkey_manage::audit::Actor;
use latchkey_manage::keys::MasterKeys;
use latchkey_protocol::{AppSettingsPatch, ClientSecret, Scope};
use latchkey_server::{
    ConnectionLimits, FailedLoginLimits, RunningServer, ServerSettings, SystemClock, TlsFiles,
};
use latchkey_store::{DEFAULT_TENANT, Store};
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

/// The name of the app `quickstart` manages.
const DEMO_APP: &str = "quickstart-demo";
/// The scope the demo app is allowed.
const DEMO_SCOPE: &str = "demo";

/// The default tenant's issuer when `serve` is given none (`https` when serving TLS).
const DEFAULT_ISSUER_AUTHORITY: &str = "localhost:8080";

/// Runs the server until SIGTERM or Ctrl-C, then stops gracefully.
pub(crate) async fn serve(
    store: Arc<dyn Store>,
    master_keys: Arc<MasterKeys>,
    args: ServeArgs,
) -> anyhow::Result<()> {
    let signals = ShutdownSignals::register()?;
    let issuer = args
        .issuer
        .clone()
        .unwrap_or_else(|| format!("{}://{DEFAULT_ISSUER_AUTHORITY}", scheme(&args)));
    let settings = settings(args, issuer);
    let server = RunningServer::start(store, master_keys, &settings, Arc::new(SystemClock)).await?;
    run(server, signals, &settings, None).await
}

/// `https` when the server is given a certificate, else `http`.
fn scheme(args: &ServeArgs) -> &'static str {
    if args.tls_cert.is_some() {
        "https"
    } else {
        "http"
    }
}

fn settings(args: ServeArgs, issuer: String) -> ServerSettings {
    // Both or neither: the CLI requires each with the other.
    let tls = args
        .tls_cert
        .zip(args.tls_key)
        .map(|(cert, key)| TlsFiles { cert, key });
    ServerSettings {
        listen: args.listen,
        issuer,
        refresh_interval: Duration::from_millis(args.refresh_ms),
        maintenance_interval: Duration::from_millis(args.maintenance_ms),
        key_rotation: RotationPolicy::every_days(args.key_rotation_days),
        strict_hosts: args.strict_hosts,
        max_staleness: args.max_staleness,
        failed_logins: FailedLoginLimits {
            per_client: args.auth_failures_per_client,
            per_address: args.auth_failures_per_address,
        },
        trusted_proxies: args.trusted_proxies,
        tls,
        limits: ConnectionLimits {
            header_timeout: args.header_timeout,
            body_timeout: args.body_timeout,
            idle_timeout: args.idle_timeout,
            max_connections: args.max_connections as usize,
            max_header_bytes: args.max_header_bytes as usize,
            shutdown_timeout: args.shutdown_timeout,
        },
        metrics_listen: args.metrics_listen,
    }
}

/// Serves until SIGTERM or Ctrl-C, then stops gracefully. `banner` is printed once the server
/// is listening.
async fn run(
    server: RunningServer,
    signals: ShutdownSignals,
    settings: &ServerSettings,
    banner: Option<Banner>,
) -> anyhow::Result<()> {
    let address = server.local_addr();
    let scheme = if settings.tls.is_some() {
        "https"
    } else {
        "http"
    };
    tracing::info!(%address, issuer = %settings.issuer, "latchkey is serving");
    // One line on stdout, for people and for scripts that start the server on port 0.
    let mut text = format!("latchkey listening on {scheme}://{address}\n");
    if let Some(metrics) = server.metrics_addr() {
        text.push_str(&format!("latchkey metrics on http://{metrics}/metrics\n"));
    }
    if let Some(banner) = banner {
        text.push_str(&banner.text(&format!("{scheme}://{address}")));
    }
    // A server keeps serving when whoever read its first line has gone away (unlike a command,
    // which `output::write_line` ends), so a failed write is not an error here.
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
    drop(stdout);
    signals.recv(settings.tls.is_some()).await;
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
    /// SIGHUP is how a supervisor asks for a reload (`systemctl reload`): the TLS pair is read
    /// again by its own watcher (`latchkey_server::tls`), and without TLS there is nothing to
    /// reload. Held here so that it never has its default action, which ends the process.
    hangup: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl ShutdownSignals {
    fn register() -> anyhow::Result<ShutdownSignals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(ShutdownSignals {
            terminate: signal(SignalKind::terminate()).context("could not listen for SIGTERM")?,
            interrupt: signal(SignalKind::interrupt()).context("could not listen for SIGINT")?,
            hangup: signal(SignalKind::hangup()).context("could not listen for SIGHUP")?,
        })
    }

    /// Waits for SIGTERM or SIGINT; a SIGHUP on the way is only logged when `tls` is off.
    async fn recv(mut self, tls: bool) {
        loop {
            tokio::select! {
                _ = self.terminate.recv() => return,
                _ = self.interrupt.recv() => return,
                Some(()) = self.hangup.recv() => {
                    if !tls {
                        tracing::info!("SIGHUP: nothing to reload without TLS; still serving");
                    }
                }
            }
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

    async fn recv(self, _tls: bool) {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// What quickstart prints once the server is up.
pub(crate) struct Banner {
    client_id: String,
    secret: ClientSecret,
}

impl Banner {
    fn text(&self, base: &str) -> String {
        format!(
            "\nA demo app is ready. Get a token:\n\n  \
             curl -s -X POST {base}/oauth2/token \\\n    \
             -d grant_type=client_credentials \\\n    \
             -d client_id={} \\\n    \
             -d client_secret={} \\\n    \
             -d scope={DEMO_SCOPE}\n\n\
             Verify tokens against {base}/oauth2/jwks. The demo secret is shown only now;\n\
             running quickstart again gives the demo app a new one.\n\n\
             The console is at {base}/console: sign in with an admin app, made with\n  \
             latchkey app create --name console --scope latchkey:admin\n\
             Stop with Ctrl-C.\n",
            self.client_id,
            self.secret.expose()
        )
    }
}

/// Makes sure the demo app exists with a fresh secret (a stored secret can never be shown
/// again), then serves. Its issuer is the URL it prints (unless `--issuer` says otherwise), so
/// that discovery clients checking the issuer against the URL they were given accept it.
pub(crate) async fn quickstart(
    store: Arc<dyn Store>,
    master_keys: Arc<MasterKeys>,
    args: ServeArgs,
) -> anyhow::Result<()> {
    let signals = ShutdownSignals::register()?;
    let listener = RunningServer::bind(&args.listen).await?;
    let base = format!("{}://{}", scheme(&args), listener.local_addr()?);
    let issuer = args.issuer.clone().unwrap_or(base);
    let now = super::now();
    let existing = store
        .apps(DEFAULT_TENANT)
        .await
        .context("could not read apps")?
        .into_iter()
        .find(|app| app.name == DEMO_APP);
    let banner = match existing {
        Some(app) => {
            let rotated = apps::rotate_secret(
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
                secret: rotated.secret,
            }
        }
        None => {
            let new = NewApp {
                tenant: DEFAULT_TENANT.to_owned(),
                name: DEMO_APP.to_owned(),
                app_type: latchkey_protocol::ClientType::M2m,
                settings: AppSettingsPatch {
                    scopes: Some(vec![Scope::parse(DEMO_SCOPE)?]),
                    ..AppSettingsPatch::default()
                },
            };
            let (app, secret) = apps::create(store.as_ref(), new, Actor::CLI, now).await?;
            let secret = secret.context("an m2m app always gets a secret")?;
            Banner {
                client_id: app.client_id,
                secret,
            }
        }
    };
    let settings = settings(args, issuer);
    let server = RunningServer::start_on(
        listener,
        store,
        master_keys,
        &settings,
        Arc::new(SystemClock),
    )
    .await?;
    run(server, signals, &settings, Some(banner)).await
}
