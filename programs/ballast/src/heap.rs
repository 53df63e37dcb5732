//! The program's heap allocator: a bump allocator over the largest heap a transaction may request
//! (`HEAP_BYTES`, 256 KiB) that grows **upward** from the start of the heap region.
//!
//! The runtime maps 32 KiB of heap unless the transaction asks for more (`ComputeBudgetInstruction::
//! request_heap_frame`). The stock allocator hands memory out from the top of a fixed 32 KiB down, so it can
//! never use a larger frame. This one starts at the bottom: an instruction that needs less than 32 KiB works
//! in any transaction (every vault of up to `DIRECT_MAX_ASSETS` assets), and one that needs more works when its
//! transaction requests the frame (clients do for larger vaults: `docs/large-vaults.md`, "Heap"). Memory is
//! never freed within an instruction, as with the stock allocator.

use std::alloc::{GlobalAlloc, Layout};

/// The largest heap frame a transaction may request.
pub const HEAP_BYTES: usize = 256 * 1024;
/// The heap every transaction has without a request.
pub const DEFAULT_HEAP_BYTES: usize = 32 * 1024;

/// A bump allocator over `[start, start + len)`. The first word holds the next free address (0 before the
/// first allocation: the runtime zeroes the heap).
pub struct UpwardBump {
    pub start: usize,
    pub len: usize,
}

unsafe impl GlobalAlloc for UpwardBump {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let next = self.start as *mut usize;
        // SAFETY: `start` is the beginning of a writable region of at least one word (the heap).
        let mut pos = unsafe { *next };
        if pos == 0 {
            pos = self.start.saturating_add(size_of::<usize>());
        }
        let mask = layout.align().saturating_sub(1);
        let Some(begin) = pos.checked_add(mask).map(|p| p & !mask) else {
            return std::ptr::null_mut();
        };
        let end = match begin.checked_add(layout.size()) {
            Some(end) if end <= self.start.saturating_add(self.len) => end,
            _ => return std::ptr::null_mut(),
        };
        // SAFETY: as above.
        unsafe { *next = end };
        begin as *mut u8
    }

    #[inline]
    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}
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
        let a = unsafe { heap.alloc(Layout::from_size_align(3, 1).unwrap()) } as usize;
        assert_eq!(a, heap.start + 8, "the first allocation sits right after the cursor word");
        let b = unsafe { heap.alloc(Layout::from_size_align(16, 8).unwrap()) } as usize;
        assert_eq!(b, heap.start + 16, "aligned up past the first");
        let c = unsafe { heap.alloc(Layout::from_size_align(480, 1).unwrap()) } as usize;
        assert_eq!(c, heap.start + 32);
        assert!(unsafe { heap.alloc(Layout::from_size_align(1, 1).unwrap()) }.is_null(), "512 bytes used");
        let d = unsafe { heap.alloc(Layout::from_size_align(0, 1).unwrap()) } as usize;
        assert_eq!(d, heap.start + 512, "a zero-size allocation at the end still fits");
    }
}
