//! An in-process server on a runtime of its own. A test blocks its own thread now and then (the
//! CLI runs as a child process and is waited for); a server on the test's runtime would stop
//! with it, in the middle of a write transaction if it was in one, and the CLI waiting for that
//! write lock would wait for the busy timeout. A server on its own threads keeps serving, as a
//! real deployment's would.

use super::{Http, Setup, settings};
use latchkey_manage::keys::MasterKeys;
use latchkey_server::RunningServer;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

/// A running server and the runtime it runs on.
pub(crate) struct Node {
    runtime: Option<tokio::runtime::Runtime>,
    server: Option<RunningServer>,
    address: SocketAddr,
}

impl Node {
    /// Starts a server on the database at `db_url`, sealing with the master key in the file.
    pub(crate) async fn start(db_url: &str, master_key_file: &Path, setup: &Setup) -> Node {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("test-server")
            .enable_all()
            .build()
            .expect("building the server's runtime");
        let db_url = if setup.hears_notices || !db_url.starts_with("postgres") {
            db_url.to_owned()
        } else {
            let joint = if db_url.contains('?') { '&' } else { '?' };
            format!("{db_url}{joint}listen=off")
        };
        let master_key_file = master_key_file.to_path_buf();
        let settings = settings(setup);
        let clock = Arc::clone(&setup.clock);
        let server = runtime
            .spawn(async move {
                let store = latchkey_store::open(&db_url)
                    .await
                    .expect("opening the test database");
                let master_keys =
                    MasterKeys::from_file(master_key_file).expect("reading the master key file");
                RunningServer::start(store, Arc::new(master_keys), &settings, clock)
                    .await
                    .expect("starting the server")
            })
            .await
            .expect("the server's start");
        Node {
            address: server.local_addr(),
            runtime: Some(runtime),
            server: Some(server),
        }
    }

    /// The bound address of the metrics listener, if it serves metrics.
    pub(crate) fn metrics_addr(&self) -> Option<SocketAddr> {
        self.server.as_ref().and_then(RunningServer::metrics_addr)
    }

    /// The bound address.
    pub(crate) fn local_addr(&self) -> SocketAddr {
        self.address
    }

    /// Requests to this server.
    pub(crate) fn http(&self) -> Http {
        Http::new(self.address)
    }

    /// Stops the server gracefully: it stops accepting, finishes in-flight requests and its
    /// tasks.
    pub(crate) async fn stop(mut self) -> std::io::Result<()> {
        let server = self.server.take().expect("the server is running");
        let runtime = self.runtime.as_ref().expect("the runtime is running");
        runtime
            .spawn(server.stop())
            .await
            .expect("the server's stop")
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            // A runtime may not be dropped (which blocks) inside the test's async context.
            runtime.shutdown_background();
        }
    }
}
