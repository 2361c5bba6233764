//! The global allocator (mimalloc), which also counts the bytes the process
//! holds when asked to (`LOCKSTEP_TIMINGS`): the peak is how a test proves
//! that a streamed check holds the clusters in flight, not the fleet, and
//! it is a figure of the program itself, not of how the allocator keeps
//! its pages.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering::Relaxed};

pub struct Allocator;

/// Counting is off unless [`start_counting`] was called: one relaxed load
/// per allocation.
static COUNTING: AtomicBool = AtomicBool::new(false);
/// Bytes allocated and not freed since counting started (blocks allocated
/// before and freed after make it lower, never higher).
static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

/// Counts from now on.
pub fn start_counting() {
    COUNTING.store(true, Relaxed);
}

/// The most bytes held at once since counting started; `None` when it did
/// not.
pub fn peak() -> Option<usize> {
    COUNTING
        .load(Relaxed)
        .then(|| usize::try_from(PEAK.load(Relaxed)).unwrap_or(0))
}

fn grew(by: usize) {
    let by = by as isize;
    let now = LIVE.fetch_add(by, Relaxed) + by;
    PEAK.fetch_max(now, Relaxed);
}

fn shrank(by: usize) {
    LIVE.fetch_sub(by as isize, Relaxed);
}

// SAFETY: every call goes to mimalloc unchanged; the counters only observe.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is passed on.
        let p = unsafe { mimalloc::MiMalloc.alloc(layout) };
        if COUNTING.load(Relaxed) && !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is passed on.
        let p = unsafe { mimalloc::MiMalloc.alloc_zeroed(layout) };
        if COUNTING.load(Relaxed) && !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is passed on.
        unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) };
        if COUNTING.load(Relaxed) {
            shrank(layout.size());
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract is passed on.
        let p = unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) };
        if COUNTING.load(Relaxed) && !p.is_null() {
            if new_size >= layout.size() {
                grew(new_size - layout.size());
            } else {
                shrank(layout.size() - new_size);
            }
        }
        p
    }
}
