//! HTTPS: the certificate and key a server presents, read from PEM files, and their reloading.
//! A replaced pair (either file's modification time or size changed, or SIGHUP) is used for
//! new connections; connections already open keep the one they were opened with. A broken
//! replacement is refused and logged, naming the file, and the pair in use is kept. Never
//! logs or prints key bytes.

use arc_swap::ArcSwap;
use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

/// How often the files are looked at for a replacement.
const CHECK_EVERY: Duration = Duration::from_secs(1);

/// Where a server's certificate chain and private key are, both PEM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain, the server's own certificate first.
    pub cert: PathBuf,
    /// The private key of the first certificate (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// Why a certificate pair could not be used. Each names the file at fault and never holds key
/// material.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read.
    #[error("could not read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The certificate file holds no PEM certificate.
    #[error("{} holds no PEM certificate", path.display())]
    NoCertificate {
        /// The file.
        path: PathBuf,
    },
    /// The key file holds no PEM private key.
    #[error("{} holds no PEM private key", path.display())]
    NoKey {
        /// The file.
        path: PathBuf,
    },
    /// The key is not one rustls can sign with, or it is not the certificate's.
    #[error("the private key in {} cannot serve the certificate in {}", key.display(), cert.display())]
    Unusable {
        /// The key file.
        key: PathBuf,
        /// The certificate file.
        cert: PathBuf,
        /// What rustls said (a mismatch, an unsupported key type): no key bytes.
        source: rustls::Error,
    },
}

/// A server's TLS: the acceptor its connections go through, and the pair it presents now.
pub(crate) struct Tls {
    acceptor: TlsAcceptor,
    current: Arc<CurrentCert>,
    files: TlsFiles,
}

impl Tls {
    /// Reads the pair and builds the server configuration: TLS 1.2 and 1.3, HTTP/2 and
    /// HTTP/1.1 offered by ALPN.
    pub(crate) fn load(files: &TlsFiles) -> Result<Tls, TlsError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let certified = read_pair(files, &provider)?;
        let current = Arc::new(CurrentCert {
            certified: ArcSwap::from_pointee(certified),
            provider: Arc::clone(&provider),
        });
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|source| TlsError::Unusable {
                key: files.key.clone(),
                cert: files.cert.clone(),
                source,
            })?
            .with_no_client_auth()
            .with_cert_resolver(Arc::clone(&current) as Arc<dyn ResolvesServerCert>);
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Tls {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            current,
            files: files.clone(),
        })
    }

    /// The acceptor new connections go through.
    pub(crate) fn acceptor(&self) -> TlsAcceptor {
        self.acceptor.clone()
    }

    /// Watches the files (and SIGHUP) until `shutdown`, swapping in each good replacement.
    pub(crate) fn spawn_reloader(&self, mut shutdown: watch::Receiver<bool>) -> JoinHandle<()> {
        let current = Arc::clone(&self.current);
        let files = self.files.clone();
        // What the files looked like when last read, and at the tick before: a pair is read
        // once it has stayed the same for one tick, so that a cert and key written one after
        // the other are read together rather than refused half-written. Stamped here, before
        // the server says it serves, not when the task first runs: a file replaced in between
        // would otherwise count as the one already read, and never be reloaded.
        let mut read = Stamp::of(&files);
        tokio::spawn(async move {
            let mut hangups = hangups();
            let mut ticks = tokio::time::interval(CHECK_EVERY);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut seen = read.clone();
            loop {
                tokio::select! {
                    _ = shutdown.wait_for(|stopped| *stopped) => return,
                    _ = hangups.recv() => {
                        read = Stamp::of(&files);
                        seen = read.clone();
                        current.reload(&files, "SIGHUP");
                    }
                    _ = ticks.tick() => {
                        let now = Stamp::of(&files);
                        if now == seen && now != read {
                            read = now.clone();
                            current.reload(&files, "a file changed");
                        }
                        seen = now;
                    }
                }
            }
        })
    }
}

/// The pair handed to each new handshake.
#[derive(Debug)]
struct CurrentCert {
    certified: ArcSwap<CertifiedKey>,
    provider: Arc<CryptoProvider>,
}

impl ResolvesServerCert for CurrentCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.certified.load_full())
    }
}

impl CurrentCert {
    fn reload(&self, files: &TlsFiles, why: &'static str) {
        match read_pair(files, &self.provider) {
            Ok(certified) => {
                self.certified.store(Arc::new(certified));
                tracing::info!(cert = %files.cert.display(), reason = why, "TLS certificate reloaded");
            }
            Err(error) => tracing::error!(
                error = %chain(&error),
                "TLS certificate not reloaded: still serving the previous one"
            ),
        }
    }
}

/// Reads and checks a pair: the key must be the first certificate's.
fn read_pair(files: &TlsFiles, provider: &CryptoProvider) -> Result<CertifiedKey, TlsError> {
    let cert_pem = read(&files.cert)?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .ok()
        .filter(|chain| !chain.is_empty())
        .ok_or_else(|| TlsError::NoCertificate {
            path: files.cert.clone(),
        })?;
    let key_pem = read(&files.key)?;
    // The PEM error is left out: it may quote a line of the key file.
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|_| TlsError::NoKey {
        path: files.key.clone(),
    })?;
    CertifiedKey::from_der(chain, key, provider).map_err(|source| TlsError::Unusable {
        key: files.key.clone(),
        cert: files.cert.clone(),
        source,
    })
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// An error with its causes, for one log line.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(next) = cause {
        text.push_str(": ");
        text.push_str(&next.to_string());
        cause = next.source();
    }
    text
}

/// The modification time and size of both files (`None` for one that cannot be read).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp([Option<(SystemTime, u64)>; 2]);

impl Stamp {
    fn of(files: &TlsFiles) -> Stamp {
        let one = |path: &Path| {
            let metadata = std::fs::metadata(path).ok()?;
            Some((metadata.modified().ok()?, metadata.len()))
        };
        Stamp([one(&files.cert), one(&files.key)])
    }
}

/// SIGHUP as a stream of wake-ups (never, where there is no such signal or it cannot be
/// registered).
#[cfg(unix)]
struct Hangups(Option<tokio::signal::unix::Signal>);

#[cfg(unix)]
fn hangups() -> Hangups {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::hangup()) {
        Ok(signal) => Hangups(Some(signal)),
        Err(error) => {
            tracing::warn!(%error, "could not listen for SIGHUP: TLS files are still watched");
            Hangups(None)
        }
    }
}

#[cfg(unix)]
impl Hangups {
    async fn recv(&mut self) {
        match &mut self.0 {
            Some(signal) => {
                if signal.recv().await.is_none() {
                    self.0 = None;
                }
            }
            None => std::future::pending().await,
        }
    }
}

#[cfg(not(unix))]
struct Hangups;

#[cfg(not(unix))]
fn hangups() -> Hangups {
    Hangups
}

#[cfg(not(unix))]
impl Hangups {
    async fn recv(&mut self) {
        std::future::pending().await
    }
}
