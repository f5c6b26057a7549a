//! Two threads for the trainer: the calling thread and one persistent worker.
//!
//! [`Workers::join`] runs one closure on the calling thread and another on the worker, and
//! returns when both have finished: what [`std::thread::scope`] does with one spawned thread,
//! except that the worker is started once and then waits for work. A minibatch step of the
//! `default` preset's networks takes about a third of a millisecond on one thread. On the
//! book's machine, waking a sleeping thread to hand it half of that costs tens of
//! microseconds, as much as starting a new one; so a side that waits first spins, watching
//! one atomic counter, and hands over in under a microsecond (`cargo bench --bench parallel`,
//! chapter 14). Only a wait longer than `SPIN` ends asleep, and a spinning side offers its
//! core to other threads as it goes, for machines with more threads than cores.
//!
//! The closures may borrow anything the caller can (the networks, the rollout buffer), which
//! is what makes one `unsafe` necessary: the worker is not scoped, so the compiler cannot see
//! that it is done with the borrows before they end. [`Workers::join`] makes sure it is, by
//! never returning (or unwinding) before the worker has reported back.

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// The calling thread, and a worker thread when two threads were asked for.
#[derive(Default)]
pub struct Workers {
    worker: Option<Worker>,
}

struct Worker {
    shared: Arc<Shared>,
    handle: Option<JoinHandle<()>>,
}

/// What the calling thread and the worker share: one state behind a lock, a condition
/// variable that a side asleep waits on for the other to change the state, and a count of
/// changes that a side awake watches instead.
#[derive(Default)]
struct Shared {
    slot: Mutex<Slot>,
    changed: Condvar,
    /// Incremented at every change of the state, so that a waiting side can spin on one
    /// atomic read instead of taking the lock.
    changes: AtomicU64,
}

#[derive(Default)]
struct Slot {
    state: State,
    /// Threads blocked on `changed`: a change wakes them only if there are any, since the
    /// wake-up is a system call.
    sleepers: u32,
}

/// How long a side that waits watches `changes` before it goes to sleep. A handover between
/// minibatches comes within tens of microseconds, and waking a sleeping thread costs about
/// as much as the work it is woken for (chapter 14); a longer gap (collecting a rollout,
/// the run's end) costs at most this much of a core's time before the side sleeps.
const SPIN: Duration = Duration::from_micros(200);
#[derive(Default)]
enum State {
    /// Waiting for a job.
    #[default]
    Idle,
    /// A job to run.
    Job(Job),
    /// The job ran; if it panicked, with what.
    Done(Option<Box<dyn Any + Send>>),
    /// The [`Workers`] were dropped: the worker thread ends.
    Quit,
}

/// A closure on the stack of a thread blocked in [`Workers::join`], its lifetime erased.
struct Job(*mut (dyn FnMut() + Send + 'static));

// SAFETY: the closure behind the pointer is `Send` (the type says so), and it is only called
// while the thread that owns it waits in `join`, which neither touches it nor returns.
unsafe impl Send for Job {}

impl Shared {
    /// Locks the slot. Neither side runs user code while holding the lock, so it cannot be
    /// poisoned by a panic; the poisoned case is handled anyway, since `join` must not unwind
    /// while the worker may still be running its job.
    fn lock(&self) -> MutexGuard<'_, Slot> {
        self.slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    // ANCHOR: wait_until
    /// Waits until `ready` holds for the state, and returns the lock. Spins first: while the
    /// count of changes stays what it was, nothing can have become ready, and reading it
    /// costs neither side a lock.
    fn wait_until(&self, ready: impl Fn(&State) -> bool) -> MutexGuard<'_, Slot> {
        let mut slot = self.lock();
        if ready(&slot.state) {
            return slot;
        }
        let seen = self.changes.load(Ordering::Acquire);
        drop(slot);
        let start = Instant::now();
        'spin: while start.elapsed() < SPIN {
            for _ in 0..64 {
                if self.changes.load(Ordering::Acquire) != seen {
                    break 'spin;
                }
                std::hint::spin_loop();
            }
            // If the machine has more runnable threads than cores, the thread this one waits
            // for may be waiting for this core: offer it.
            thread::yield_now();
        }
        slot = self.lock();
        while !ready(&slot.state) {
            slot.sleepers += 1;
            slot = self.changed.wait(slot).unwrap_or_else(|poisoned| poisoned.into_inner());
            slot.sleepers -= 1;
        }
        slot
    }

    fn set(&self, mut slot: MutexGuard<'_, Slot>, new: State) {
        slot.state = new;
        self.changes.fetch_add(1, Ordering::Release);
        let sleepers = slot.sleepers;
        drop(slot);
        if sleepers > 0 {
            self.changed.notify_all();
        }
    }
    // ANCHOR_END: wait_until
}

impl Workers {
    /// Workers for `threads` threads in all, the calling one included. Only two are ever used:
    /// any number above one starts one worker; zero and one start none (everything then runs
    /// on the calling thread).
    ///
    /// # Panics
    /// If the operating system cannot start a thread.
    pub fn new(threads: usize) -> Workers {
        if threads < 2 {
            return Workers::default();
        }
        let shared = Arc::new(Shared::default());
        let theirs = Arc::clone(&shared);
        let handle = thread::Builder::new()
            .name("ppo-worker".into())
            .spawn(move || work(&theirs))
            .expect("cannot start a worker thread");
        Workers { worker: Some(Worker { shared, handle: Some(handle) }) }
    }

    /// Threads that [`join`](Self::join) runs on: 1 or 2.
    pub fn threads(&self) -> usize {
        if self.worker.is_some() { 2 } else { 1 }
    }

    // ANCHOR: join
    /// Runs `here` on the calling thread and `there` on the worker, at the same time, and
    /// returns both results once both have finished. Without a worker, runs `here` and then
    /// `there` on the calling thread: the same computations, so the same results.
    ///
    /// # Panics
    /// If either closure panics, after both have finished, with the first one's panic.
    pub fn join<A, B, RA, RB>(&mut self, here: A, there: B) -> (RA, RB)
    where
        A: FnOnce() -> RA,
        B: FnOnce() -> RB + Send,
        RB: Send,
    {
        let Some(worker) = &self.worker else {
            let first = here();
            return (first, there());
        };
        let mut there = Some(there);
        let mut result = None;
        let mut job = || {
            if let Some(there) = there.take() {
                result = Some(there());
            }
        };
        let job: &mut (dyn FnMut() + Send + '_) = &mut job;
        // SAFETY: only the lifetime changes (the pointer's type is otherwise the same). The
        // worker calls the closure between receiving it here and setting `State::Done`, and
        // this function waits for `Done` below before it returns or unwinds (`here`'s panic is
        // caught, and waiting itself cannot panic), so the closure and everything it borrows
        // outlive its use.
        let job = unsafe {
            std::mem::transmute::<*mut (dyn FnMut() + Send + '_), *mut (dyn FnMut() + Send)>(job)
        };
        let shared = &worker.shared;
        let idle = shared.wait_until(|s| matches!(s, State::Idle));
        shared.set(idle, State::Job(Job(job)));
        let first = panic::catch_unwind(AssertUnwindSafe(here));
        let mut done = shared.wait_until(|s| matches!(s, State::Done(_)));
        let State::Done(panicked) = std::mem::take(&mut done.state) else { unreachable!() };
        shared.set(done, State::Idle);
        match (first, panicked) {
            (Err(payload), _) | (Ok(_), Some(payload)) => panic::resume_unwind(payload),
            (Ok(first), None) => (first, result.expect("the worker ran the job")),
        }
    }
    // ANCHOR_END: join
}

/// The worker's loop: wait for a job, run it, report, until told to quit.
fn work(shared: &Shared) {
    loop {
        let mut state = shared.wait_until(|s| matches!(s, State::Job(_) | State::Quit));
        let State::Job(job) = std::mem::take(&mut state.state) else { return };
        drop(state);
        // SAFETY: `join` keeps the closure alive and untouched until it sees `Done`.
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| unsafe { (*job.0)() }));
        shared.set(shared.lock(), State::Done(outcome.err()));
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let state = self.shared.wait_until(|s| matches!(s, State::Idle));
        self.shared.set(state, State::Quit);
        if let Some(handle) = self.handle.take() {
            // The worker catches its jobs' panics, so it ends normally.
            let _ = handle.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_runs_both_closures_on_two_threads_with_borrowed_data() {
        let mut workers = Workers::new(2);
        assert_eq!(workers.threads(), 2);
        let data: Vec<u64> = (1..=1000).collect();
        let mut written = vec![0u64; 10];
        let here = thread::current().id();
        for round in 0..100 {
            let (sum, (other, thread)) = workers.join(
                || data.iter().sum::<u64>() + round,
                || {
                    written.iter_mut().for_each(|x| *x += 1);
                    (data[round as usize], thread::current().id())
                },
            );
            assert_eq!((sum, other), (500_500 + round, round + 1));
            assert_ne!(thread, here, "the second closure ran on the calling thread");
        }
        assert_eq!(written, [100; 10]);
    }

    #[test]
    fn a_side_that_waited_past_its_spin_is_woken() {
        // Longer than SPIN on both sides: the worker waits for the next job, and then the
        // caller waits for the worker's slow job, each asleep on the condition variable.
        let mut workers = Workers::new(2);
        let past_spin = SPIN * 5;
        for round in 0..3 {
            thread::sleep(past_spin);
            let (here, there) = workers.join(
                || round,
                || {
                    thread::sleep(past_spin);
                    round * 10
                },
            );
            assert_eq!((here, there), (round, round * 10));
        }
    }

    #[test]
    fn dropping_the_workers_ends_the_worker_thread() {
        let mut workers = Workers::new(2);
        assert_eq!(workers.join(|| 1, || 2), (1, 2));
        // The worker thread holds the other reference to the shared state until it ends.
        let shared = Arc::downgrade(&workers.worker.as_ref().expect("a worker").shared);
        drop(workers);
        assert!(shared.upgrade().is_none(), "the worker thread outlived its Workers");
    }

    #[test]
    fn one_thread_runs_both_closures_in_order_on_the_calling_thread() {
        let mut workers = Workers::new(1);
        assert_eq!(workers.threads(), 1);
        let mut order = Vec::new();
        let here = thread::current().id();
        let order_ref = &mut order;
        let (_, thread) = workers.join(|| order_ref.push(1), || thread::current().id());
        order.push(2);
        assert_eq!((order, thread), (vec![1, 2], here));
    }

    #[test]
    fn a_panic_on_either_side_reaches_the_caller_after_both_finished() {
        let mut workers = Workers::new(2);
        let finished = std::sync::atomic::AtomicBool::new(false);
        let caught = panic::catch_unwind(AssertUnwindSafe(|| {
            workers.join(
                || panic!("here"),
                || {
                    thread::sleep(std::time::Duration::from_millis(20));
                    finished.store(true, std::sync::atomic::Ordering::SeqCst);
                },
            )
        }));
        assert!(caught.is_err());
        assert!(finished.load(std::sync::atomic::Ordering::SeqCst), "join returned early");
        let caught = panic::catch_unwind(AssertUnwindSafe(|| {
            workers.join(|| 1, || -> u32 { panic!("there") })
        }));
        let message = caught.unwrap_err().downcast::<&str>().map(|s| *s);
        assert_eq!(message.ok(), Some("there"));
        // The worker survives its job's panic.
        assert_eq!(workers.join(|| 2, || 3), (2, 3));
    }
}
