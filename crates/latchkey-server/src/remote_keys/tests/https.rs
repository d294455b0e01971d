//! `RemoteKeys` over HTTPS, against a server on 127.0.0.1 with a certificate from a test CA:
//! the key set is fetched when the CA is trusted, and refused (unreachable) with the Mozilla
//! roots, so the certificate is checked.

use super::super::fetch::{Fetcher, Limits};
use super::super::{KeySource, MAX_SOURCES, RemoteKeyError, RemoteKeys};
use super::{holds, jwks, listen};
use latchkey_manage::clock::ManualClock;
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinHandle;

/// A CA certificate, and a certificate for 127.0.0.1 it signed with its key.
struct Certificates {
    ca: CertificateDer<'static>,
    server: CertificateDer<'static>,
    server_key: PrivateKeyDer<'static>,
}

fn certificates() -> Certificates {
    let ca_key = KeyPair::generate().expect("a CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).expect("a self-signed CA");
    let issuer = Issuer::new(ca_params, ca_key);
    let server_key = KeyPair::generate().expect("a server key");
    let server = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .expect("server certificate parameters")
        .signed_by(&server_key, &issuer)
        .expect("a server certificate");
    Certificates {
        ca: ca.der().clone(),
        server: server.der().clone(),
        server_key: PrivatePkcs8KeyDer::from(server_key.serialize_der()).into(),
    }
}

/// A server that answers each request with the JWK Set `body`, over TLS.
fn https_server(certificates: &Certificates, body: String) -> (SocketAddr, JoinHandle<()>) {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![certificates.server.clone()],
            certificates.server_key.clone_key(),
        )
        .expect("the server certificate");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = listen(SocketAddr::from(([127, 0, 0, 1], 0)));
    let address = listener.local_addr().expect("the listener's address");
    let task = tokio::spawn(async move {
        // Each test connects once or twice.
        for _ in 0..4 {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let Ok(mut stream) = acceptor.accept(stream).await else {
                continue;
            };
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request).await;
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(body.as_bytes()).await;
            let _ = stream.shutdown().await;
        }
    });
    (address, task)
}

#[tokio::test]
async fn a_key_set_is_fetched_over_https_from_a_trusted_server() {
    let certificates = certificates();
    let (address, _server) = https_server(&certificates, jwks(&["a"]));
    let mut roots = rustls::RootCertStore::empty();
    roots.add(certificates.ca.clone()).expect("the test CA");
    let remote = RemoteKeys::with_fetcher(
        Arc::new(ManualClock::new(0)),
        Fetcher::trusting(Limits::default(), roots),
        MAX_SOURCES,
    );
    let url = format!("https://{address}/jwks");
    assert!(holds(
        &remote.keys(KeySource::JwksUri(&url), Some("a")).await,
        "a"
    ));
}

#[tokio::test]
async fn a_server_certificate_no_trusted_root_signed_is_refused() {
    let certificates = certificates();
    let (address, _server) = https_server(&certificates, jwks(&["a"]));
    let remote = RemoteKeys::new(Arc::new(ManualClock::new(0)));
    let url = format!("https://{address}/jwks");
    assert_eq!(
        remote.keys(KeySource::JwksUri(&url), Some("a")).await.err(),
        Some(RemoteKeyError::Unreachable)
    );
}
