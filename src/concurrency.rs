//! Running borrowed futures at most `limit` at a time, results in input order: the
//! refresh of many resources waits for the slowest call, not the sum of them all.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Run `futures` with at most `limit` of them in flight; their outputs in input order.
pub async fn bounded<'a, T: Send + 'a>(futures: Vec<BoxFuture<'a, T>>, limit: usize) -> Vec<T> {
    let total = futures.len();
    let mut waiting = futures.into_iter().enumerate();
    let mut running: Vec<(usize, BoxFuture<'a, T>)> = Vec::new();
    let mut done: Vec<Option<T>> = (0..total).map(|_| None).collect();
    let mut finished = 0;
    std::future::poll_fn(|cx| {
        loop {
            while running.len() < limit.max(1) {
                match waiting.next() {
                    Some(f) => running.push(f),
                    None => break,
                }
            }
            let mut progressed = false;
            let mut i = 0;
            while i < running.len() {
                if let Poll::Ready(v) = running[i].1.as_mut().poll(cx) {
                    let (index, _) = running.swap_remove(i);
                    done[index] = Some(v);
                    finished += 1;
                    progressed = true;
                } else {
                    i += 1;
                }
            }
            if finished == total {
                return Poll::Ready(());
            }
            // Freed slots start new futures at once; otherwise wait to be woken.
            if !progressed {
                return Poll::Pending;
            }
        }
    })
    .await;
    done.into_iter().map(|v| v.expect("every future finished")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    #[tokio::test]
    async fn at_most_limit_run_at_once_and_results_keep_their_order() {
        let now = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let futures: Vec<BoxFuture<'_, usize>> = (0..40usize)
            .map(|i| {
                let (now, peak) = (now.clone(), peak.clone());
                Box::pin(async move {
                    let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(n, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(((i * 7) % 5) as u64)).await;
                    now.fetch_sub(1, Ordering::SeqCst);
                    i
                }) as BoxFuture<'_, usize>
            })
            .collect();
        let out = bounded(futures, 6).await;
        assert_eq!(out, (0..40).collect::<Vec<_>>());
        assert_eq!(peak.load(Ordering::SeqCst), 6, "the limit is reached and never passed");
        assert!(bounded(Vec::<BoxFuture<'_, ()>>::new(), 3).await.is_empty());
    }
}
