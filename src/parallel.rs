//! Thread pools of a requested size, built once and reused across calls.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use rayon::{ThreadPool, ThreadPoolBuilder};

use crate::PqError;

/// Runs `work` on a pool of `threads` threads, or on rayon's global pool (all cores, or
/// `RAYON_NUM_THREADS`) when `threads` is `None`.
pub fn with_threads<R: Send>(threads: Option<usize>, work: impl FnOnce() -> R + Send) -> Result<R, PqError> {
    let Some(threads) = threads else {
        return Ok(work());
    };
    Ok(pool(threads)?.install(work))
}

fn pool(threads: usize) -> Result<Arc<ThreadPool>, PqError> {
    static POOLS: OnceLock<Mutex<HashMap<usize, Arc<ThreadPool>>>> = OnceLock::new();
    let mut pools =
        POOLS.get_or_init(Mutex::default).lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(pool) = pools.get(&threads) {
        return Ok(Arc::clone(pool));
    }
    let pool = ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("panoptiq-{i}"))
        .build()
        .map_err(|e| PqError::ThreadPool { threads, message: e.to_string() })?;
    let pool = Arc::new(pool);
    pools.insert(threads, Arc::clone(&pool));
    Ok(pool)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_on_the_requested_number_of_threads() {
        assert_eq!(with_threads(Some(3), rayon::current_num_threads).unwrap(), 3);
        assert_eq!(with_threads(Some(1), rayon::current_num_threads).unwrap(), 1);
        assert_eq!(with_threads(None, || 7).unwrap(), 7);
    }
}
