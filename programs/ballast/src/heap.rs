//! The program's heap allocator: a bump allocator over the largest heap a transaction may request
//! (`HEAP_BYTES`, 256 KiB) that grows **upward** from the start of the heap region.
//!
//! The runtime maps 32 KiB of heap unless the transaction asks for more (`ComputeBudgetInstruction::
//! request_heap_frame`). The stock allocator hands memory out from the top of a fixed 32 KiB down, so it can
//! never use a larger frame. This one starts at the bottom: an instruction that needs less than 32 KiB works
//! in any transaction (every vault of up to `DIRECT_MAX_ASSETS` assets), and one that needs more works when its
//! transaction requests the frame (clients do for larger vaults: `docs/large-vaults.md`, "Heap"). Unlike the
//! stock allocator it gives back the most recent block and grows it in place (`UpwardBump`).

use std::alloc::{GlobalAlloc, Layout};

/// The largest heap frame a transaction may request.
pub const HEAP_BYTES: usize = 256 * 1024;
/// The heap every transaction has without a request.
pub const DEFAULT_HEAP_BYTES: usize = 32 * 1024;

/// A bump allocator over `[start, start + len)`. The first word holds the next free address (0 before the
/// first allocation: the runtime zeroes the heap). The most recent block grows and shrinks in place and is
/// given back when freed, so a vector that grows while nothing else is allocated (decoding the vault's asset
/// table) takes its final size, not the sum of every size it passed through.
pub struct UpwardBump {
    pub start: usize,
    pub len: usize,
}

impl UpwardBump {
    /// The next free address.
    ///
    /// # Safety
    /// `start` must be the beginning of a writable region of at least one word (the heap).
    unsafe fn next(&self) -> usize {
        // SAFETY: the caller's contract.
        let pos = unsafe { *(self.start as *const usize) };
        if pos == 0 {
            self.start.saturating_add(size_of::<usize>())
        } else {
            pos
        }
    }

    /// # Safety
    /// As [`UpwardBump::next`].
    unsafe fn set_next(&self, pos: usize) {
        // SAFETY: the caller's contract.
        unsafe { *(self.start as *mut usize) = pos };
    }

    fn end(&self) -> usize {
        self.start.saturating_add(self.len)
    }
}

unsafe impl GlobalAlloc for UpwardBump {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY (every block below): `start` is the heap's first word (`GlobalAlloc`'s user: the program).
        let pos = unsafe { self.next() };
        let mask = layout.align().saturating_sub(1);
        let Some(begin) = pos.checked_add(mask).map(|p| p & !mask) else {
            return std::ptr::null_mut();
        };
        match begin.checked_add(layout.size()) {
            Some(end) if end <= self.end() => {
                unsafe { self.set_next(end) };
                begin as *mut u8
            }
            _ => std::ptr::null_mut(),
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // The most recent block is given back; any other stays until the instruction ends.
        let at = ptr as usize;
        if at.checked_add(layout.size()) == Some(unsafe { self.next() }) {
            unsafe { self.set_next(at) };
        }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let at = ptr as usize;
        if at.checked_add(layout.size()) == Some(unsafe { self.next() }) {
            // The most recent block: grown or shrunk in place.
            return match at.checked_add(new_size) {
                Some(end) if end <= self.end() => {
                    unsafe { self.set_next(end) };
                    ptr
                }
                _ => std::ptr::null_mut(),
            };
        }
        let Ok(grown) = Layout::from_size_align(new_size, layout.align()) else {
            return std::ptr::null_mut();
        };
        let fresh = unsafe { self.alloc(grown) };
        if !fresh.is_null() {
            // SAFETY: both blocks are live and distinct (the fresh one lies past the old one).
            unsafe { std::ptr::copy_nonoverlapping(ptr, fresh, layout.size().min(new_size)) };
        }
        fresh
    }
}

#[cfg(all(target_os = "solana", feature = "custom-heap", not(feature = "no-entrypoint")))]
#[global_allocator]
static ALLOCATOR: UpwardBump =
    UpwardBump { start: anchor_lang::solana_program::entrypoint::HEAP_START_ADDRESS as usize, len: HEAP_BYTES };

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocates_upward_aligned_and_refuses_past_the_end() {
        let mut arena = vec![0u64; 64]; // 512 bytes, word aligned
        let heap = UpwardBump { start: arena.as_mut_ptr() as usize, len: 512 };
        let layout = |size, align| Layout::from_size_align(size, align).unwrap();
        let a = unsafe { heap.alloc(layout(3, 1)) } as usize;
        assert_eq!(a, heap.start + 8, "the first allocation sits right after the cursor word");
        let b = unsafe { heap.alloc(layout(16, 8)) } as usize;
        assert_eq!(b, heap.start + 16, "aligned up past the first");
        let c = unsafe { heap.alloc(layout(480, 1)) } as usize;
        assert_eq!(c, heap.start + 32);
        assert!(unsafe { heap.alloc(layout(1, 1)) }.is_null(), "512 bytes used");
        let d = unsafe { heap.alloc(layout(0, 1)) } as usize;
        assert_eq!(d, heap.start + 512, "a zero-size allocation at the end still fits");
    }

    #[test]
    fn the_latest_block_grows_in_place_and_is_given_back() {
        let mut arena = vec![0u64; 64];
        let heap = UpwardBump { start: arena.as_mut_ptr() as usize, len: 512 };
        let layout = |size| Layout::from_size_align(size, 8).unwrap();
        let a = unsafe { heap.alloc(layout(16)) };
        unsafe { a.write_bytes(7, 16) };
        // Grown in place from 16 to 400 bytes (a copy would not fit: 8 + 16 + 400 + 400 > 512).
        let grown = unsafe { heap.realloc(a, layout(16), 400) };
        assert_eq!(grown, a);
        assert_eq!(unsafe { *grown.add(15) }, 7, "contents kept");
        let b = unsafe { heap.alloc(layout(8)) } as usize;
        assert_eq!(b, heap.start + 8 + 400);
        // `a` is no longer the latest: growing it copies, and there is no room for the copy.
        assert!(unsafe { heap.realloc(grown, layout(400), 480) }.is_null());
        // Freeing the latest block gives it back; freeing an older one does not.
        unsafe { heap.dealloc(b as *mut u8, layout(8)) };
        assert_eq!(unsafe { heap.alloc(layout(8)) } as usize, b);
        unsafe { heap.dealloc(grown, layout(400)) };
        assert_eq!(unsafe { heap.alloc(layout(8)) } as usize, b + 8);
    }
}
