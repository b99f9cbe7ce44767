"""Waiting on a condition with a timeout, instead of sleeping and hoping."""

from __future__ import annotations

import asyncio


async def wait_for(condition, timeout: float = 5.0, what: str = "condition"):
    """Poll until `condition()` (sync or async) is truthy and return it; after `timeout`
    seconds fail with an AssertionError naming `what` (in a test, that is the failure)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)  # the polling interval of a bounded wait
