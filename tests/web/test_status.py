"""A status page made once is shared by the requests that come for it."""

import asyncio

from bot.web.status import SharedRendering


async def test_a_burst_shares_one_rendering_and_a_stale_one_is_made_again():
    made = []

    async def make():
        made.append(1)
        await asyncio.sleep(0)  # other requests arrive while this one is being made
        return f"page {len(made)}"

    shared = SharedRendering(ttl=60)
    pages = await asyncio.gather(*(shared.get("html", make) for _ in range(5)))
    assert pages == ["page 1"] * 5 and len(made) == 1
    assert await shared.get("html", make) == "page 1"
    stale = SharedRendering(ttl=0)
    assert [await stale.get("html", make) for _ in range(2)] == ["page 2", "page 3"]
