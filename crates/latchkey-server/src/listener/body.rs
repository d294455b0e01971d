//! The body deadline: a request body that has not arrived in full within `body_timeout` of its
//! head fails to read, whoever reads it (the form extractor, the admin API's JSON), and the
//! listener answers 408 for it. The timer is made only when a read has to wait, so a body that
//! came with its head costs none.

use http_body::{Body, Frame, SizeHint};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::{Instant, Sleep};

/// Set once a body's deadline has passed.
#[derive(Debug, Clone, Default)]
pub(super) struct Expired(Arc<AtomicBool>);

impl Expired {
    /// Whether the deadline passed while the body was being read.
    pub(super) fn is_set(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// The deadline passed before the body's end.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive in time")]
pub(super) struct BodyTimeout;

/// A body that fails once its deadline passes.
pub(super) struct Deadline<B> {
    inner: B,
    due: Instant,
    timer: Option<Pin<Box<Sleep>>>,
    expired: Expired,
}

impl<B> Deadline<B> {
    /// `inner`, due in full within `timeout` from now.
    pub(super) fn new(inner: B, timeout: Duration) -> (Deadline<B>, Expired) {
        let expired = Expired::default();
        let body = Deadline {
            inner,
            due: Instant::now() + timeout,
            timer: None,
            expired: expired.clone(),
        };
        (body, expired)
    }
}

impl<B> Body for Deadline<B>
where
    B: Body + Unpin,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Data = B::Data;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, Self::Error>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|frame| frame.map_err(Into::into)));
        }
        let due = this.due;
        let timer = this
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(due)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => {
                this.expired.0.store(true, Ordering::Release);
                Poll::Ready(Some(Err(Box::new(BodyTimeout))))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
