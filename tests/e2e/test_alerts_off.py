"""Without ALERTS_TOKEN there is no alert intake: the routes do not exist."""

import aiohttp


async def test_alert_routes_are_absent_without_a_token(bot):
    async with aiohttp.ClientSession() as session:
        for path in ("/alerts/alertmanager", "/alerts/generic"):
            headers = {"Authorization": "Bearer anything"}
            async with session.post(f"{bot.url}{path}", json={}, headers=headers) as response:
                assert response.status == 404
