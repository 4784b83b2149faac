"""Giving memory back to the system (glibc); both functions are no-ops elsewhere."""

from __future__ import annotations

import ctypes
import ctypes.util

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_ARENA_MAX = -1, -3, -8
MMAP_FROM = 1 << 20  # allocations this big are mmap()ed, so freeing one gives it back at once
TRIM_FROM = 4 << 20  # the heap top is returned once this much of it is free
ARENAS = 2  # one per core: more arenas only keep more freed memory


def _libc():
    try:
        return ctypes.CDLL(ctypes.util.find_library("c"))
    except (OSError, TypeError):
        return None


def tune_malloc() -> bool:
    """glibc raises its mmap threshold after each big free, so a burst of big images leaves their
    memory in the heap for good. Fixed thresholds and two arenas give it back. False off glibc."""
    libc = _libc()
    if libc is None or not hasattr(libc, "mallopt"):
        return False
    return all(
        libc.mallopt(opt, value) == 1
        for opt, value in ((M_MMAP_THRESHOLD, MMAP_FROM), (M_TRIM_THRESHOLD, TRIM_FROM), (M_ARENA_MAX, ARENAS))
    )


def release_freed_memory() -> None:
    """Return the pages glibc keeps after big frees (a model load, a big photo) to the system."""
    libc = _libc()
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)
