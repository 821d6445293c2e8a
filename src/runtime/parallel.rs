//! Thread pools that survive `fork`, work that can be interrupted, and panics turned into errors.
//!
//! Every parallel call of the crate runs on a pool from here, never on rayon's global pool: a
//! process forked after a pool started (mmdetection's `multiprocessing.Pool` does this) inherits
//! the pool's bookkeeping but none of its threads, so work sent there would wait forever. Pools
//! are therefore remembered with the id of the process that built them and rebuilt in a child.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{channel, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rayon::prelude::*;
use rayon::{ThreadPool, ThreadPoolBuilder};

use crate::PqError;

/// A flag that long loops check, so that work stops soon after the caller asks it to. Clones
/// share the flag.
#[derive(Debug, Default, Clone)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the work watching this flag to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    #[must_use]
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// `Err(PqError::Interrupted)` once cancelled.
    pub fn check(&self) -> Result<(), PqError> {
        if self.is_cancelled() {
            Err(PqError::Interrupted)
        } else {
            Ok(())
        }
    }
}

/// The number of threads used when none is asked for: `RAYON_NUM_THREADS` if set to a positive
/// number, else the CPUs this process may use (its affinity mask and cgroup CPU quota count, so a
/// container limited to 2 CPUs on a 64-core host gets 2).
#[must_use]
pub fn default_threads() -> usize {
    std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|value| value.trim().parse::<usize>().ok())
        .filter(|&threads| threads > 0)
        .or_else(|| std::thread::available_parallelism().ok().map(std::num::NonZeroUsize::get))
        .unwrap_or(1)
}

/// Runs `work` on a pool of `threads` threads (`None`: [`default_threads`]).
pub fn with_threads<R: Send>(threads: Option<usize>, work: impl FnOnce() -> R + Send) -> Result<R, PqError> {
    Ok(pool(threads)?.install(work))
}

/// How often a waiting caller asks whether to interrupt the work.
const POLL: Duration = Duration::from_millis(50);

/// Runs `work` on a pool of `threads` threads while the calling thread waits, asking
/// `interrupted` every 50 ms whether to stop. When it says so, the work's [`Cancel`] is set, the
/// work is waited for (it stops at its next check) and `Err(PqError::Interrupted)` is returned.
///
/// A panic in `work` becomes [`PqError::Panic`]; it never unwinds into the caller.
pub fn run_interruptible<R: Send>(
    threads: Option<usize>,
    work: impl FnOnce(&Cancel) -> Result<R, PqError> + Send,
    mut interrupted: impl FnMut() -> bool,
) -> Result<R, PqError> {
    let cancel = Cancel::new();
    let guarded = |cancel: &Cancel| {
        catch_unwind(AssertUnwindSafe(|| work(cancel))).unwrap_or_else(|p| Err(panic_error(&*p)))
    };
    if rayon::current_thread_index().is_some() {
        // Already on a pool thread: waiting here for another pool thread could deadlock a pool of
        // one, and whoever called us is the one watching for interrupts.
        return guarded(&cancel);
    }
    let pool = pool(threads)?;
    pool.in_place_scope(|scope| {
        let (done, result) = channel();
        let cancel = &cancel;
        scope.spawn(move |_| {
            // The receiver only goes away once a result arrived or after the work was cancelled.
            let _ = done.send(guarded(cancel));
        });
        loop {
            match result.recv_timeout(POLL) {
                Ok(outcome) => return outcome,
                Err(RecvTimeoutError::Timeout) => {
                    if interrupted() {
                        cancel.cancel();
                        let _ = result.recv();
                        return Err(PqError::Interrupted);
                    }
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(PqError::Panic { message: "a worker ended without a result".into() });
                }
            }
        }
    })
}

/// Maps `jobs` in parallel, keeping their order. On failure the error of the first failing job in
/// job order is returned, whatever the scheduling: once job `i` fails, jobs after `i` no longer
/// start, but every job before it still runs, so an earlier failure is never missed (and the
/// message a user sees does not change from run to run).
pub fn try_map_ordered<J: Sync, R: Send>(
    jobs: &[J],
    work: impl Fn(usize, &J) -> Result<R, PqError> + Sync,
) -> Result<Vec<R>, PqError> {
    let first_failure = AtomicUsize::new(usize::MAX);
    let results: Vec<Option<Result<R, PqError>>> = jobs
        .par_iter()
        .enumerate()
        .map(|(i, job)| {
            if i > first_failure.load(Ordering::Relaxed) {
                return None;
            }
            let result = work(i, job);
            if result.is_err() {
                first_failure.fetch_min(i, Ordering::Relaxed);
            }
            Some(result)
        })
        .collect();
    // Every job before the first failure ran, so the skipped ones all come after an error.
    results.into_iter().map(|r| r.unwrap_or(Err(PqError::Interrupted))).collect()
}

/// Runs `work`, turning a panic into [`PqError::Panic`] instead of unwinding into the caller.
pub fn catch_panic<R>(work: impl FnOnce() -> Result<R, PqError>) -> Result<R, PqError> {
    catch_unwind(AssertUnwindSafe(work)).unwrap_or_else(|payload| Err(panic_error(&*payload)))
}

/// A caught panic as an error: its message when it has one.
#[must_use]
pub fn panic_error(payload: &(dyn std::any::Any + Send)) -> PqError {
    let message = payload
        .downcast_ref::<&str>()
        .map(ToString::to_string)
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    PqError::Panic { message }
}

/// The pools built by the process `pid`, with their sizes.
struct Pools {
    pid: u32,
    by_size: Vec<(usize, Arc<ThreadPool>)>,
}

static POOLS: Mutex<Pools> = Mutex::new(Pools { pid: 0, by_size: Vec::new() });

fn pool(threads: Option<usize>) -> Result<Arc<ThreadPool>, PqError> {
    let threads = threads.unwrap_or_else(default_threads);
    let mut pools = POOLS.lock().unwrap_or_else(PoisonError::into_inner);
    let pid = std::process::id();
    if pools.pid != pid {
        // Pools built by the parent before a fork: their threads do not exist here. Dropping
        // them would signal threads that will never answer, so they are leaked instead.
        std::mem::forget(std::mem::take(&mut pools.by_size));
        pools.pid = pid;
    }
    if let Some((_, pool)) = pools.by_size.iter().find(|(size, _)| *size == threads) {
        return Ok(Arc::clone(pool));
    }
    let pool = ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("panoptiq-{i}"))
        .build()
        .map_err(|e| PqError::ThreadPool { threads, message: e.to_string() })?;
    let pool = Arc::new(pool);
    pools.by_size.push((threads, Arc::clone(&pool)));
    Ok(pool)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_on_the_requested_number_of_threads() {
        assert_eq!(with_threads(Some(3), rayon::current_num_threads).unwrap(), 3);
        assert_eq!(with_threads(Some(1), rayon::current_num_threads).unwrap(), 1);
        assert_eq!(with_threads(None, rayon::current_num_threads).unwrap(), default_threads());
    }

    #[test]
    fn interrupted_work_is_cancelled_and_waited_for() {
        let finished = AtomicBool::new(false);
        let mut polls = 0;
        let result: Result<(), PqError> = run_interruptible(
            Some(2),
            |cancel| {
                while !cancel.is_cancelled() {
                    std::thread::sleep(Duration::from_millis(1));
                }
                finished.store(true, Ordering::Relaxed);
                cancel.check()
            },
            || {
                polls += 1;
                polls == 3
            },
        );
        assert!(matches!(result, Err(PqError::Interrupted)));
        assert!(finished.load(Ordering::Relaxed), "the work had stopped before the call returned");
        assert_eq!(run_interruptible(Some(2), |_| Ok(7), || true).unwrap(), 7);
    }

    #[test]
    fn the_first_failure_in_job_order_is_reported() {
        let jobs: Vec<usize> = (0..2000).collect();
        for _ in 0..20 {
            let result = with_threads(Some(2), || {
                try_map_ordered(&jobs, |i, &job| {
                    if job % 300 == 299 {
                        Err(PqError::Panic { message: i.to_string() })
                    } else {
                        Ok(job)
                    }
                })
            })
            .unwrap();
            assert!(matches!(result, Err(PqError::Panic { message }) if message == "299"));
        }
        let doubled = try_map_ordered(&jobs[..10], |_, &j| Ok(2 * j)).unwrap();
        assert_eq!(doubled, (0..10).map(|j| 2 * j).collect::<Vec<_>>());
    }

    #[test]
    fn a_panic_becomes_an_error() {
        let result: Result<(), PqError> = run_interruptible(Some(1), |_| panic!("boom"), || false);
        assert!(matches!(result, Err(PqError::Panic { message }) if message == "boom"));
    }
}
