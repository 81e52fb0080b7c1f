//! The threads the host-side quantised products run on: a small pool whose workers spin between
//! products instead of sleeping, as llama.cpp's do.
//!
//! Why not rayon: a forward pass is hundreds of products of tens of microseconds each, separated by a
//! few microseconds of other work. Rayon's idle workers go to sleep within microseconds, and waking one
//! (a futex, and on a virtual machine an interrupt to a halted virtual CPU) cost about as much as the
//! product itself: measured on the 2-core machine, a 576x576 Q4_1 product with one row took 54 µs on one
//! thread and 49 µs on two under rayon. Here a worker spins for [`SPIN`] after its last task (yielding
//! its core to any other runnable thread now and then) and only then parks, so the products of one
//! forward pass find it awake.
//!
//! One caller at a time: a product started while the pool is busy (another thread's product, or a
//! product inside a task) runs its tasks itself, on its own thread, so nothing waits on a busy pool.
//! Where threads cannot be spawned (wasm32 without threads) the pool has no workers and every product
//! runs on the calling thread.
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long an idle worker spins for the next product before it parks.
pub const SPIN: Duration = Duration::from_millis(3);

/// One product's tasks: `f(i)` for `i` in `0..tasks`, taken one by one from `next`.
struct Job {
    /// The caller's closure, lifetime erased. Only called for an index below `tasks` taken from `next`,
    /// which can only happen before `done` reaches `tasks`, while the caller still waits and `f` lives.
    f: *const (dyn Fn(usize) + Sync),
    tasks: usize,
    next: AtomicUsize,
    done: AtomicUsize,
    /// The first panic of a task, re-raised on the caller once every task has finished.
    panic: Mutex<Option<Box<dyn std::any::Any + Send>>>,
}

// SAFETY: `f` is `Sync` and only called while the caller keeps it alive (see `Job::f`).
unsafe impl Send for Job {}
unsafe impl Sync for Job {}

impl Job {
    /// Run tasks until none are left.
    fn work(&self) {
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            if i >= self.tasks {
                return;
            }
            // SAFETY: `i < tasks`, so the caller has not yet seen `done == tasks` and `f` is alive.
            let f = unsafe { &*self.f };
            if let Err(p) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(i))) {
                self.panic.lock().unwrap().get_or_insert(p);
            }
            self.done.fetch_add(1, Ordering::Release);
        }
    }
}

struct Shared {
    /// Bumped once per published job.
    epoch: AtomicUsize,
    job: Mutex<Option<Arc<Job>>>,
    /// Held by the one caller that owns the pool.
    busy: AtomicBool,
    /// Workers parked on `wake`.
    parked: AtomicUsize,
    wake: Condvar,
}

/// The pool: `workers` spinning threads plus the caller.
pub struct Pool {
    shared: Arc<Shared>,
    workers: usize,
}

impl Pool {
    /// A pool with `threads - 1` workers (the caller is the last thread); fewer if spawning fails.
    pub fn new(threads: usize) -> Self {
        let shared = Arc::new(Shared {
            epoch: AtomicUsize::new(0),
            job: Mutex::new(None),
            busy: AtomicBool::new(false),
            parked: AtomicUsize::new(0),
            wake: Condvar::new(),
        });
        let mut workers = 0;
        for i in 1..threads.max(1) {
            let s = shared.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("bedside-pool-{i}"))
                .spawn(move || worker(&s));
            if spawned.is_err() {
                break;
            }
            workers += 1;
        }
        Pool { shared, workers }
    }

    /// Threads a product runs on: the workers and the caller.
    pub fn threads(&self) -> usize {
        self.workers + 1
    }

    /// `f(i)` for every `i` in `0..tasks`, spread over the pool; returns when all have run. A task that
    /// panics (on any thread) lets the others finish, then its panic resumes on the caller.
    pub fn run(&self, tasks: usize, f: &(dyn Fn(usize) + Sync)) {
        let s = &*self.shared;
        if tasks <= 1
            || self.workers == 0
            || s.busy
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_err()
        {
            (0..tasks).for_each(f);
            return;
        }
        // SAFETY: only the lifetime is erased; see `Job::f`.
        let f: *const (dyn Fn(usize) + Sync) = unsafe { std::mem::transmute(f) };
        let job = Arc::new(Job {
            f,
            tasks,
            next: AtomicUsize::new(0),
            done: AtomicUsize::new(0),
            panic: Mutex::new(None),
        });
        *s.job.lock().unwrap() = Some(job.clone());
        // SeqCst here and in `worker`: the epoch bump and the `parked` check on this side, the `parked`
        // count and the epoch check on the worker's, so that either the worker sees the new epoch or
        // this side sees it parked and wakes it.
        s.epoch.fetch_add(1, Ordering::SeqCst);
        if s.parked.load(Ordering::SeqCst) > 0 {
            let _g = s.job.lock().unwrap();
            s.wake.notify_all();
        }
        job.work();
        while job.done.load(Ordering::Acquire) < tasks {
            std::hint::spin_loop();
        }
        s.busy.store(false, Ordering::Release);
        let panic = job.panic.lock().unwrap().take();
        if let Some(p) = panic {
            std::panic::resume_unwind(p);
        }
    }
}

fn worker(s: &Shared) {
    let mut seen = s.epoch.load(Ordering::Acquire);
    loop {
        let mut idle = Instant::now();
        let mut spins = 0u32;
        loop {
            let e = s.epoch.load(Ordering::Acquire);
            if e != seen {
                seen = e;
                break;
            }
            spins += 1;
            if spins % 64 == 0 {
                if idle.elapsed() > SPIN {
                    // Park until the next job (re-checking the epoch under the lock the caller
                    // notifies under, so no wake-up is missed).
                    let mut g = s.job.lock().unwrap();
                    s.parked.fetch_add(1, Ordering::SeqCst);
                    while s.epoch.load(Ordering::SeqCst) == seen {
                        g = s.wake.wait(g).unwrap();
                    }
                    s.parked.fetch_sub(1, Ordering::SeqCst);
                    drop(g);
                    idle = Instant::now();
                } else {
                    // Let any other runnable thread on this core go first.
                    std::thread::yield_now();
                }
            } else {
                std::hint::spin_loop();
            }
        }
        let job = s.job.lock().unwrap().clone();
        if let Some(job) = job {
            job.work();
        }
    }
}

/// The process's pool, sized like rayon's (`RAYON_NUM_THREADS`, else every core).
pub fn global() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| Pool::new(rayon::current_num_threads()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;

    #[test]
    fn every_task_runs_exactly_once_from_many_callers() {
        let pool = Arc::new(Pool::new(3));
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let pool = pool.clone();
                std::thread::spawn(move || {
                    for round in 0..200 {
                        let n = 1 + (t * 7 + round) % 37;
                        let hits: Vec<AtomicU64> = (0..n).map(|_| AtomicU64::new(0)).collect();
                        pool.run(n, &|i| {
                            hits[i].fetch_add(1, Ordering::Relaxed);
                        });
                        assert!(hits.iter().all(|h| h.load(Ordering::Relaxed) == 1));
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    }

    #[test]
    fn a_parked_worker_wakes_for_the_next_job() {
        let pool = Pool::new(2);
        assert_eq!(pool.threads(), 2);
        std::thread::sleep(SPIN * 3);
        let sum = AtomicU64::new(0);
        pool.run(64, &|i| {
            sum.fetch_add(i as u64, Ordering::Relaxed);
        });
        assert_eq!(sum.load(Ordering::Relaxed), 64 * 63 / 2);
        // Nested use runs on the calling thread instead of waiting for itself.
        let nested = AtomicU64::new(0);
        pool.run(4, &|_| {
            pool.run(3, &|_| {
                nested.fetch_add(1, Ordering::Relaxed);
            })
        });
        assert_eq!(nested.load(Ordering::Relaxed), 12);
    }

    #[test]
    fn a_panicking_task_reaches_the_caller_after_the_others_finish() {
        let pool = Pool::new(2);
        let ran = AtomicU64::new(0);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            pool.run(50, &|i| {
                ran.fetch_add(1, Ordering::Relaxed);
                assert!(i != 17, "task 17 fails");
            })
        }));
        assert!(r.is_err());
        assert_eq!(ran.load(Ordering::Relaxed), 50);
        // The pool still works afterwards.
        let sum = AtomicU64::new(0);
        pool.run(8, &|i| {
            sum.fetch_add(i as u64, Ordering::Relaxed);
        });
        assert_eq!(sum.load(Ordering::Relaxed), 28);
    }
}
