//! Certificates made in the test: a `TestCa` of its own issues a server certificate for
//! `localhost` and `127.0.0.1`, and HTTPS clients trust that CA and nothing else.

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use rustls::pki_types::pem::PemObject;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A reqwest client builder. reqwest is built with rustls for the HTTPS tests, and rustls
/// needs its crypto provider chosen once per process: aws-lc-rs, as the server's.
pub(crate) fn http_client_builder() -> reqwest::ClientBuilder {
    static PROVIDER: std::sync::Once = std::sync::Once::new();
    PROVIDER.call_once(|| {
        // Another caller may have installed the same provider first.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    });
    reqwest::Client::builder()
}

/// A reqwest client with the defaults (`http_client_builder`).
pub(crate) fn http_client() -> reqwest::Client {
    http_client_builder()
        .build()
        .expect("building the HTTP client")
}

/// A certificate authority of the test's own.
pub(crate) struct TestCa {
    issuer: Issuer<'static, KeyPair>,
    /// The CA certificate, PEM (what `curl --cacert` reads).
    pub(crate) pem: String,
}

/// A server certificate and its key, PEM.
pub(crate) struct ServerPair {
    pub(crate) cert: String,
    pub(crate) key: String,
}

impl TestCa {
    /// A new CA named `name`.
    pub(crate) fn new(name: &str) -> TestCa {
        let key = KeyPair::generate().expect("a CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let cert = params.self_signed(&key).expect("a self-signed CA");
        TestCa {
            issuer: Issuer::new(params, key),
            pem: cert.pem(),
        }
    }

    /// A certificate for `localhost` and `127.0.0.1` signed by this CA.
    pub(crate) fn server_pair(&self) -> ServerPair {
        let key = KeyPair::generate().expect("a server key");
        let params = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .expect("server certificate parameters");
        let cert = params
            .signed_by(&key, &self.issuer)
            .expect("a server certificate");
        ServerPair {
            cert: cert.pem(),
            key: key.serialize_pem(),
        }
    }

    /// Writes the CA certificate into `dir`, for curl.
    pub(crate) fn write(&self, dir: &Path) -> PathBuf {
        let path = dir.join("ca.pem");
        std::fs::write(&path, &self.pem).expect("writing the CA certificate");
        path
    }

    /// A client that trusts only this CA, offering `alpn` (`b"h2"`, `b"http/1.1"`).
    pub(crate) fn client(&self, alpn: &[&[u8]]) -> reqwest::Client {
        let mut roots = rustls::RootCertStore::empty();
        let ca = rustls::pki_types::CertificateDer::from_pem_slice(self.pem.as_bytes())
            .expect("the CA certificate as PEM");
        roots.add(ca).expect("a root certificate");
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = alpn.iter().map(|protocol| protocol.to_vec()).collect();
        let builder = super::http_client_builder().use_preconfigured_tls(config);
        let builder = if alpn == [b"http/1.1"] {
            builder.http1_only()
        } else {
            builder
        };
        builder.build().expect("an HTTPS client")
    }
}

impl ServerPair {
    /// Writes the pair as `cert.pem` and `key.pem` in `dir`, replacing what was there.
    pub(crate) fn write(&self, dir: &Path) -> (PathBuf, PathBuf) {
        let cert = dir.join("cert.pem");
        let key = dir.join("key.pem");
        std::fs::write(&cert, &self.cert).expect("writing the certificate");
        std::fs::write(&key, &self.key).expect("writing the key");
        (cert, key)
    }
}
