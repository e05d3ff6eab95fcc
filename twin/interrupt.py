"""Ctrl-C that never cuts a file in half.

A SIGINT that arrives while a results file, a report or a ledger line is being written is
held until that write is finished (and renamed into place), then raised as
:class:`Interrupted`, a :class:`KeyboardInterrupt` that names what was written. Anywhere
else Ctrl-C raises :class:`KeyboardInterrupt` as usual; the command line turns either into
exit code 130 with a line saying what was saved (:mod:`twin.cli`).

Signal handlers belong to the main thread: elsewhere (a Dask worker thread) the write runs
unprotected, as before.
"""

from __future__ import annotations

import contextlib
import signal
import threading


class Interrupted(KeyboardInterrupt):
    """Ctrl-C held until a write finished; ``written`` is what that write completed."""

    def __init__(self, written=None):
        super().__init__(f"interrupted after writing {written}" if written else "interrupted")
        self.written = written


@contextlib.contextmanager
def deferred(written=None):
    """Hold SIGINT while the block runs; if one came, raise :class:`Interrupted` (with
    ``written``) once the block has finished. An exception of the block itself wins."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        # a handler installed outside Python reads as None: put Python's default back then
        signal.signal(signal.SIGINT, previous if previous is not None else signal.default_int_handler)
    if caught:
        raise Interrupted(written)
