"""The daemon's process memory: fewer malloc arenas than glibc makes for its threads, and the
start's garbage returned to the system once it has settled."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging

log = logging.getLogger(__name__)
M_ARENA_MAX = -8
"""glibc's mallopt parameter (malloc.h)."""
ARENAS = 2
SETTLE_S = 10.0
"""How long after READY the start is taken to be over (first scans, the first connection)."""


def limit_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Cap glibc's malloc arenas (it makes up to 8 per core, one per busy thread: the printer,
    journal and MQTT threads each kept one mostly empty); False where libc is not glibc."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_ARENA_MAX, arenas))


def release_free_memory() -> bool:
    """Collect garbage and hand the heap's free pages back to the system (glibc's
    malloc_trim): what the start left behind (imports, the first scans) is not kept
    resident for the life of an idle box. False where libc is not glibc."""
    gc.collect()
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return False
    trim.argtypes = (ctypes.c_size_t,)
    trim.restype = ctypes.c_int
    return bool(trim(0))
