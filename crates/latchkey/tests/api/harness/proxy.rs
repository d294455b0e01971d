//! A TCP proxy the test controls, between latchkey and a database: it passes bytes, refuses
//! (closes every connection, new and open), or black-holes (holds every byte and answers
//! nothing, as a network that drops packets does). It runs on a runtime of its own, so a test
//! that blocks its thread (waiting for the CLI) does not stall it.

use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// What the proxy does with traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Link {
    /// Passes it.
    Up,
    /// Closes every connection.
    Refusing,
    /// Holds every byte, answers nothing.
    BlackHole,
}

/// A running proxy to one upstream address.
pub(crate) struct Proxy {
    address: SocketAddr,
    link: watch::Sender<Link>,
    upstream: watch::Sender<SocketAddr>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Proxy {
    /// Listens on a free 127.0.0.1 port, forwarding to `upstream`.
    pub(crate) fn start(upstream: SocketAddr) -> Proxy {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("test-proxy")
            .enable_all()
            .build()
            .expect("building the proxy's runtime");
        let (link, watching) = watch::channel(Link::Up);
        let (upstream, upstreams) = watch::channel(upstream);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binding the proxy");
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let address = listener.local_addr().expect("the proxy's address");
        let listener = {
            let _entered = runtime.enter();
            TcpListener::from_std(listener).expect("the proxy's listener")
        };
        runtime.spawn(accept(listener, upstreams, watching));
        Proxy {
            address,
            link,
            upstream,
            runtime: Some(runtime),
        }
    }

    /// The port latchkey should connect to.
    pub(crate) fn port(&self) -> u16 {
        self.address.port()
    }

    /// Changes what the proxy does, for open connections too.
    pub(crate) fn set(&self, link: Link) {
        self.link.send_replace(link);
    }

    /// Sends new connections to another server (a promoted standby, say); open ones are closed.
    pub(crate) fn redirect(&self, upstream: SocketAddr) {
        self.upstream.send_replace(upstream);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

async fn accept(
    listener: TcpListener,
    upstream: watch::Receiver<SocketAddr>,
    link: watch::Receiver<Link>,
) {
    while let Ok((client, _)) = listener.accept().await {
        let mut link = link.clone();
        let mut upstream = upstream.clone();
        tokio::spawn(async move {
            // A connection made while the link is down waits for it (black hole) or is closed.
            if !wait_until_up(&mut link).await {
                return;
            }
            let address = *upstream.borrow_and_update();
            let Ok(server) = TcpStream::connect(address).await else {
                return;
            };
            let (client_read, client_write) = client.into_split();
            let (server_read, server_write) = server.into_split();
            // Either direction ending, or a redirect, closes both.
            tokio::select! {
                _ = pump(client_read, server_write, link.clone()) => {}
                _ = pump(server_read, client_write, link) => {}
                _ = upstream.changed() => {}
            }
        });
    }
}

/// Copies bytes while the link is up; holds them while it is a black hole; ends (closing the
/// connection) when it refuses.
async fn pump(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, mut link: watch::Receiver<Link>) {
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let read = tokio::select! {
            read = from.read(&mut buffer) => read,
            changed = link.changed() => {
                if changed.is_err() || *link.borrow() == Link::Refusing {
                    return;
                }
                continue;
            }
        };
        let count = match read {
            Ok(0) | Err(_) => return,
            Ok(count) => count,
        };
        if !wait_until_up(&mut link).await || to.write_all(&buffer[..count]).await.is_err() {
            return;
        }
    }
}

/// Waits while the link is a black hole; `false` when it refuses.
async fn wait_until_up(link: &mut watch::Receiver<Link>) -> bool {
    loop {
        match *link.borrow_and_update() {
            Link::Up => return true,
            Link::Refusing => return false,
            Link::BlackHole => {}
        }
        if link.changed().await.is_err() {
            return false;
        }
    }
}
