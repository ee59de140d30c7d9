"""Stopping on SIGTERM the way Ctrl-C stops: the running task is cancelled, so every `finally` runs.

Process managers and container platforms (the Procfile's processes included) stop the bot with SIGTERM; by default
that kills Python on the spot, with connections dropped and deliveries cut off. `cancel_on_sigterm()` turns it into
a cancellation of the current task, logged once, which the runner then treats as a clean stop (exit status 0).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)


@contextmanager
def cancel_on_sigterm() -> Iterator[asyncio.Event]:
    """While inside, SIGTERM cancels the current task (once); the event yielded tells whether SIGTERM came."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    received = asyncio.Event()

    def on_sigterm() -> None:
        if received.is_set():
            return  # already stopping: a second SIGTERM must not cut the clean-up short
        received.set()
        log.info("SIGTERM received: finishing deliveries in flight, then disconnecting")
        if task is not None:
            task.cancel()

    loop.add_signal_handler(signal.SIGTERM, on_sigterm)
    try:
        yield received
    finally:
        loop.remove_signal_handler(signal.SIGTERM)


def stopped_by_sigterm(received: asyncio.Event) -> bool:
    """In an `except CancelledError`: True (and the cancellation absorbed) when SIGTERM caused it."""
    if not received.is_set():
        return False
    task = asyncio.current_task()
    if task is not None:
        task.uncancel()
    return True
