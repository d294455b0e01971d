//! The head and idle deadlines of one connection, kept by its socket reads. A connection is in
//! one of three states: waiting for a request head (from its start, or from the first byte
//! after an idle spell): it must complete within `header_timeout`; serving (a request is in the
//! router): no deadline here, the body has its own; idle (no request since the last answer):
//! it is closed after `idle_timeout`. A deadline that passes fails the read, and hyper closes
//! the connection.

use super::ConnectionLimits;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// What the requests of one connection tell its reads: how many are in the router, and a count
/// of every start and end (so a read can tell that a request came and went since it last
/// looked).
#[derive(Debug, Default)]
pub(super) struct Activity {
    serving: AtomicU64,
    changes: AtomicU64,
    /// The read that waited while a request was in the router, woken when none is: it has no
    /// deadline armed, and the socket alone might never wake it.
    waiting_read: Mutex<Option<Waker>>,
}

impl Activity {
    /// Marks a request in the router until the guard is dropped.
    pub(super) fn serving(self: &Arc<Activity>) -> Serving {
        self.serving.fetch_add(1, Ordering::AcqRel);
        self.changes.fetch_add(1, Ordering::AcqRel);
        Serving(Arc::clone(self))
    }
}

/// A request in the router.
pub(super) struct Serving(Arc<Activity>);

impl Drop for Serving {
    fn drop(&mut self) {
        let was = self.0.serving.fetch_sub(1, Ordering::AcqRel);
        self.0.changes.fetch_add(1, Ordering::AcqRel);
        if was == 1 {
            let waiting = self.0.waiting_read.lock().map(|mut read| read.take());
            if let Ok(Some(read)) = waiting {
                read.wake();
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Head,
    Idle,
}

/// A socket whose reads keep the connection's deadlines.
pub(super) struct Watched<T> {
    inner: T,
    activity: Arc<Activity>,
    header_timeout: Duration,
    idle_timeout: Duration,
    phase: Phase,
    /// `activity.changes` when the phase was last set.
    changes: u64,
    deadline: Pin<Box<Sleep>>,
}

impl<T> Watched<T> {
    /// A new connection: its first request's head is due within `header_timeout`.
    pub(super) fn new(inner: T, activity: Arc<Activity>, limits: &ConnectionLimits) -> Watched<T> {
        Watched {
            inner,
            activity,
            header_timeout: limits.header_timeout,
            idle_timeout: limits.idle_timeout,
            phase: Phase::Head,
            changes: 0,
            deadline: Box::pin(tokio::time::sleep(limits.header_timeout)),
        }
    }

    /// Whether a request is in the router, after moving to idle if one came and went since.
    fn serving(&mut self) -> bool {
        let changes = self.activity.changes.load(Ordering::Acquire);
        let serving = self.activity.serving.load(Ordering::Acquire) > 0;
        if changes != self.changes && !serving {
            self.changes = changes;
            self.phase = Phase::Idle;
            let due = Instant::now() + self.idle_timeout;
            self.deadline.as_mut().reset(due);
        }
        serving
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                // The first bytes after an idle spell start a head: it is due in full soon.
                if buf.filled().len() > before && !this.serving() && this.phase == Phase::Idle {
                    this.phase = Phase::Head;
                    let due = Instant::now() + this.header_timeout;
                    this.deadline.as_mut().reset(due);
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending => {
                if this.serving() {
                    if let Ok(mut waiting) = this.activity.waiting_read.lock() {
                        *waiting = Some(cx.waker().clone());
                    }
                    // The request may have ended meanwhile, with no waker to wake yet.
                    if !this.serving() {
                        cx.waker().wake_by_ref();
                    }
                    return Poll::Pending;
                }
                match this.deadline.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        match this.phase {
                            Phase::Head => "the request head did not arrive in time",
                            Phase::Idle => "the connection was idle too long",
                        },
                    ))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
