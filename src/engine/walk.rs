//! A generic walk of a dependency graph, knowing nothing about resources: it starts nodes
//! in order once every node they depend on is done, at most `parallelism` at a time; a
//! failed node skips everything that depends on it, transitively; once the visitor says
//! stop (an interrupt, a state write that failed) nothing new starts; every `heartbeat`
//! the visitor hears what is running. Each node runs as its own task, and a task that
//! panics is reported as its own node's failure.

use async_trait::async_trait;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

/// A node's work, run as its own task.
pub type Task<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'static>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeStatus {
    Pending,
    Running(Instant),
    Done,
    Failed,
    Skipped,
}

#[async_trait]
pub trait Visitor: Send {
    type Out: Send + 'static;
    /// Start node `i`: the future it runs (as a task), or `None` if it cannot start.
    fn start(&mut self, i: usize) -> Option<Task<Self::Out>>;
    /// Node `i` ended after `elapsed` (`Err` with the panic if its task panicked). Returns
    /// whether it succeeded.
    async fn finish(&mut self, i: usize, elapsed: Duration, out: Result<Self::Out, String>) -> bool;
    /// Start nothing new.
    fn stopped(&self) -> bool;
    /// What is running now: (node, time since it started).
    fn heartbeat(&self, running: &[(usize, Duration)]);
    /// Called every [`TICK`] while nodes run, between their ends.
    async fn tick(&mut self) {}
}

/// How often [`Visitor::tick`] is called while nodes run.
pub const TICK: Duration = Duration::from_secs(1);

pub struct Walked {
    pub status: Vec<NodeStatus>,
    /// Nodes skipped, with the failed or skipped node they depend on.
    pub skipped: Vec<(usize, usize)>,
}

/// Linear in the graph: each node's dependencies are counted down as they finish, and a
/// failure's dependents are skipped once each (a 10,000-step apply does not rescan every
/// node after every step).
pub async fn walk<V: Visitor>(deps: &[Vec<usize>], parallelism: usize, heartbeat: Duration, v: &mut V) -> Walked {
    let n = deps.len();
    let mut status = vec![NodeStatus::Pending; n];
    let mut skipped = Vec::new();
    let mut running: JoinSet<V::Out> = JoinSet::new();
    let mut tasks: HashMap<tokio::task::Id, usize> = HashMap::new();
    let parallelism = parallelism.max(1);
    let mut last_beat = Instant::now();
    let mut last_tick = Instant::now();
    // What each node waits for, who waits for it, and what may start now (in order).
    let mut waiting: Vec<usize> = deps.iter().map(Vec::len).collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, ds) in deps.iter().enumerate() {
        for &d in ds {
            dependents[d].push(i);
        }
    }
    let mut ready: std::collections::BTreeSet<usize> = (0..n).filter(|&i| waiting[i] == 0).collect();
    loop {
        // Start what is ready, in order.
        if !v.stopped() {
            while running.len() < parallelism {
                let Some(i) = ready.pop_first() else { break };
                if let Some(task) = v.start(i) {
                    status[i] = NodeStatus::Running(Instant::now());
                    tasks.insert(running.spawn(task).id(), i);
                }
            }
        }
        if running.is_empty() {
            break;
        }
        let wait = heartbeat.saturating_sub(last_beat.elapsed()).min(TICK.saturating_sub(last_tick.elapsed()));
        let next = tokio::time::timeout(wait, running.join_next_with_id()).await;
        if last_tick.elapsed() >= TICK {
            v.tick().await;
            last_tick = Instant::now();
        }
        let (i, out) = match next {
            Err(_) if last_beat.elapsed() < heartbeat => continue,
            Err(_) => {
                let now: Vec<(usize, Duration)> = status
                    .iter()
                    .enumerate()
                    .filter_map(|(i, s)| match s {
                        NodeStatus::Running(t) => Some((i, t.elapsed())),
                        _ => None,
                    })
                    .collect();
                v.heartbeat(&now);
                last_beat = Instant::now();
                continue;
            }
            Ok(None) => break,
            Ok(Some(Ok((id, out)))) => match tasks.remove(&id) {
                Some(i) => (i, Ok(out)),
                None => continue,
            },
            Ok(Some(Err(e))) => match tasks.remove(&e.id()) {
                Some(i) => (i, Err(format!("the step panicked: {e}"))),
                None => continue,
            },
        };
        let elapsed = match status[i] {
            NodeStatus::Running(t) => t.elapsed(),
            _ => Duration::ZERO,
        };
        let ok = v.finish(i, elapsed, out).await;
        status[i] = if ok { NodeStatus::Done } else { NodeStatus::Failed };
        if ok {
            for &d in &dependents[i] {
                waiting[d] -= 1;
                if waiting[d] == 0 && status[d] == NodeStatus::Pending {
                    ready.insert(d);
                }
            }
        } else {
            // Skip what can no longer run, transitively, naming what it waited for.
            let mut queue = std::collections::VecDeque::from([i]);
            while let Some(bad) = queue.pop_front() {
                for &d in &dependents[bad] {
                    if status[d] == NodeStatus::Pending {
                        status[d] = NodeStatus::Skipped;
                        ready.remove(&d);
                        skipped.push((d, bad));
                        queue.push_back(d);
                    }
                }
            }
        }
    }
    Walked { status, skipped }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Nodes that fail when listed in `fail`; records the order of starts.
    struct Fake {
        fail: Vec<usize>,
        started: Vec<usize>,
        stop_after: Option<usize>,
    }

    #[async_trait]
    impl Visitor for Fake {
        type Out = usize;
        fn start(&mut self, i: usize) -> Option<Task<usize>> {
            self.started.push(i);
            Some(Box::pin(async move { i }))
        }
        async fn finish(&mut self, i: usize, _: Duration, out: Result<usize, String>) -> bool {
            out.is_ok() && !self.fail.contains(&i)
        }
        fn stopped(&self) -> bool {
            self.stop_after.is_some_and(|n| self.started.len() >= n)
        }
        fn heartbeat(&self, _: &[(usize, Duration)]) {}
    }

    #[tokio::test]
    async fn a_failure_skips_its_dependents_transitively_and_nothing_else() {
        // 0 → 1 → 2, and 3 on its own; 1 fails.
        let deps = vec![vec![], vec![0], vec![1], vec![]];
        let mut v = Fake { fail: vec![1], started: vec![], stop_after: None };
        let w = walk(&deps, 4, Duration::from_secs(60), &mut v).await;
        use NodeStatus::*;
        assert_eq!(w.status, vec![Done, Failed, Skipped, Done]);
        assert_eq!(w.skipped, vec![(2, 1)]);
        assert!(!v.started.contains(&2));
    }

    #[tokio::test]
    async fn nothing_starts_once_stopped() {
        let deps = vec![vec![], vec![0], vec![1]];
        let mut v = Fake { fail: vec![], started: vec![], stop_after: Some(1) };
        let w = walk(&deps, 1, Duration::from_secs(60), &mut v).await;
        assert_eq!(v.started, vec![0]);
        assert_eq!(w.status[1..], [NodeStatus::Pending, NodeStatus::Pending]);
    }
}
