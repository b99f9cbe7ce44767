from tests.conftest import ALICE


async def test_declare_smoke(bot):
    room = await bot.declare("SEV1 Checkout API returning 500s")
    print(bot.fake.transcript(room["id"]))
    print(bot.fake.transcript(bot.broadcast))
    print(bot.fake.responses)
    print([c.method for c in bot.fake.calls])
    assert ALICE in room["members"]
