//! Token requests sent back to back in the background while a test breaks something, bounded in
//! count and time, counting what succeeded and keeping the first failures.

use super::Http;
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// At most this many requests, for at most `MAX_TIME`.
const MAX_REQUESTS: u32 = 200_000;
const MAX_TIME: Duration = Duration::from_secs(180);

/// A running token load.
pub(crate) struct TokenLoad {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<Tally>,
}

/// What a load saw.
#[derive(Debug)]
pub(crate) struct Tally {
    pub(crate) issued: u64,
    pub(crate) failed: u64,
    /// The first few failures, for the assertion message.
    pub(crate) failures: Vec<String>,
}

impl TokenLoad {
    /// Starts asking `node` for tokens of `app`, with a short pause between requests.
    pub(crate) fn start(node: &Http, app: &Value) -> TokenLoad {
        let stop = Arc::new(AtomicBool::new(false));
        let task = tokio::spawn({
            let (node, app, stop) = (node.clone(), app.clone(), Arc::clone(&stop));
            async move {
                let deadline = Instant::now() + MAX_TIME;
                let mut tally = Tally {
                    issued: 0,
                    failed: 0,
                    failures: Vec::new(),
                };
                for _ in 0..MAX_REQUESTS {
                    if stop.load(Ordering::Relaxed) || Instant::now() > deadline {
                        break;
                    }
                    let reply = node.token_for(&app, None).await;
                    if reply.status == 200 {
                        tally.issued += 1;
                    } else {
                        tally.failed += 1;
                        if tally.failures.len() < 5 {
                            tally.failures.push(format!("{reply:?}"));
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                tally
            }
        });
        TokenLoad { stop, task }
    }

    /// Stops the load and says what it saw.
    pub(crate) async fn finish(self) -> Tally {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.expect("the token load")
    }
}
