"""Ack latency under load: signed `/incident list` and `help` at fixed rates.

Three servers, each in its own process, measured side by side in one run:
  warroom          the bot on SQLite (20 open incidents, so `list` reads the database)
  bolt-default     a bare Bolt AsyncApp whose listener only acks (Bolt's default mode)
  bolt-fast        the same with process_before_response=True

The load is open-loop: requests are sent on schedule whatever the answers do, so a slow
server shows up as latency rather than a lower request rate.

    python bench/ack_latency.py [--seconds 10] [--rates 50,200,500]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from slack_sdk.signature import SignatureVerifier

SECRET = "bench-secret"
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- servers (run in child processes) ------------------------------------------------------


async def serve_fake(port: int) -> None:
    """Slack's side, in a process of its own so its work does not load the servers measured."""
    from bot.simulator import FakeSlack

    fake = await FakeSlack().start(port=port)
    print(f"ready {fake.url}", flush=True)
    await asyncio.Event().wait()


def bench_database_url(workdir: str, database_url: str = "") -> str:
    """The database the warroom server uses: a fresh SQLite file unless one is given."""
    return database_url or f"sqlite+aiosqlite:///{workdir}/bench.db"


async def serve_warroom(port: int, workdir: str, slack_url: str, database_url: str) -> None:
    from aiohttp import web

    from bot.config import load_settings
    from bot.server import RUNTIME, create_web_app, freeze_startup_heap
    from bot.store import Database
    from bot.store.migrate import drop_all_tables

    if database_url:  # a server database: start from an empty schema, as SQLite does
        scratch = Database(database_url)
        await drop_all_tables(scratch.engine)
        await scratch.dispose()
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": f"{slack_url}/api/",
            "DATABASE_URL": bench_database_url(workdir, database_url),
            "PORT": str(port),
        }
    )
    app = create_web_app(settings)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    service = app[RUNTIME].service
    for n in range(20):
        snapshot = await service.declare(title=f"Incident {n}", declared_by="U1", severity="SEV2")
        await service.attach_channel(snapshot.id, f"C{n:08d}", f"inc-{n}")
    freeze_startup_heap()  # as `python -m bot serve` does
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print("ready", flush=True)
    await asyncio.Event().wait()


async def serve_bare(port: int, fast: bool, slack_url: str) -> None:
    from aiohttp import web
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    # The fake Slack answers Bolt's one auth.test, as for warroom.
    client = AsyncWebClient(token="xoxb-bench", base_url=f"{slack_url}/api/")
    bolt = AsyncApp(client=client, signing_secret=SECRET, process_before_response=fast)

    @bolt.command("/incident")
    async def only_ack(ack):
        await ack()

    async def route(request):
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    app = web.Application()
    app.router.add_post("/slack/events", route)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print("ready", flush=True)
    await asyncio.Event().wait()


# -- load ----------------------------------------------------------------------------------


def signed_command(verifier: SignatureVerifier, text: str, response_url: str) -> tuple[bytes, dict]:
    body = urlencode(
        {
            "command": "/incident",
            "text": text,
            "user_id": "UBENCH0001",
            "channel_id": "CBENCH0001",
            "team_id": "TBENCH",
            "response_url": response_url,  # the answer to `list` goes to the server's fake Slack
            "trigger_id": "1.2.3",
        }
    )
    return signed(verifier, body, "application/x-www-form-urlencoded")


def signed(verifier: SignatureVerifier, body: str, content_type: str) -> tuple[bytes, dict]:
    """A request body with the headers Slack signs it with."""
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": verifier.generate_signature(timestamp=timestamp, body=body),
    }
    return body.encode(), headers


async def open_loop(
    url: str,
    requests: list[tuple[bytes, dict]],
    rate: int,
    warm_up: list[tuple[bytes, dict]] = (),
) -> tuple[list[float], float]:
    """Send `requests` at `rate` per second on schedule, whatever the answers do (a slow
    server shows as latency, not as a lower rate). Returns latencies and elapsed seconds.
    The `warm_up` requests are sent together beforehand (opening connections) and not counted.
    """
    latencies: list[float] = []
    failures = 0

    async def one(session: aiohttp.ClientSession, request: tuple[bytes, dict]) -> None:
        nonlocal failures
        body, headers = request
        start = time.perf_counter()
        async with session.post(url, data=body, headers=headers) as response:
            await response.read()
            failures += response.status != 200
        latencies.append(time.perf_counter() - start)

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        await asyncio.gather(*(one(session, request) for request in warm_up))
        latencies.clear()
        # The generator's own garbage-collector pauses (hundreds of ms once it holds tens of
        # thousands of tasks) would show as server latency: none during the measured run.
        gc.disable()
        try:
            start = time.perf_counter()
            tasks = []
            for n in range(len(requests)):
                delay = start + n / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(one(session, requests[n])))
            await asyncio.gather(*tasks)
            elapsed = time.perf_counter() - start
        finally:
            gc.enable()
    if failures:
        raise SystemExit(f"{failures} requests were not answered 200 by {url}")
    return latencies, elapsed


async def load(url: str, response_url: str, rate: int, seconds: float) -> list[float]:
    verifier = SignatureVerifier(SECRET)
    pair = [signed_command(verifier, text, response_url) for text in ("list", "help")]
    requests = [pair[n % 2] for n in range(int(rate * seconds))]
    # Warm up connections, caches and the database first.
    latencies, _ = await open_loop(url, requests, rate, warm_up=requests[:200])
    return latencies


def summary(latencies: list[float]) -> str:
    ms = sorted(x * 1000 for x in latencies)
    p = statistics.quantiles(ms, n=100)
    return f"p50 {p[49]:6.2f} ms   p99 {p[98]:6.2f} ms   max {ms[-1]:7.2f} ms   (n={len(ms)})"


def start_server(
    kind: str, port: int, workdir: str, slack_url: str = "", database_url: str = ""
) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--serve",
            kind,
            "--port",
            str(port),
            "--workdir",
            workdir,
            "--slack-url",
            slack_url,
            "--database-url",
            database_url,
        ],
        stdout=subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    word, _, url = process.stdout.readline().decode().strip().partition(" ")
    if word != "ready":
        process.kill()
        raise SystemExit(f"{kind} did not start")
    return process, url


async def main_async(args) -> None:
    rates = [int(r) for r in args.rates.split(",")]
    kinds = ["warroom", "bolt-default", "bolt-fast"]
    print(f"ack latency, {args.seconds:.0f} s per rate, alternating /incident list and help")
    with tempfile.TemporaryDirectory() as workdir:
        fake, slack_url = start_server("fake", free_port(), workdir)
        response_url = f"{slack_url}/response/bench"
        servers = {}
        try:
            for kind in kinds:
                port = free_port()
                servers[kind] = (start_server(kind, port, workdir, slack_url)[0], port)
            for rate in rates:
                for kind in kinds:
                    _, port = servers[kind]
                    url = f"http://127.0.0.1:{port}/slack/events"
                    latencies = await load(url, response_url, rate, args.seconds)
                    print(f"{rate:4d} req/s  {kind:13s} {summary(latencies)}", flush=True)
        finally:
            for process in [fake, *(process for process, _ in servers.values())]:
                process.terminate()
                process.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rates", default="50,200,500")
    parser.add_argument("--serve", choices=["fake", "warroom", "bolt-default", "bolt-fast"])
    parser.add_argument("--slack-url", default="")
    parser.add_argument("--port", type=int)
    parser.add_argument("--workdir")
    parser.add_argument("--database-url", default="", help="default: SQLite in a temp dir")
    args = parser.parse_args()
    if args.serve == "fake":
        asyncio.run(serve_fake(args.port))
    elif args.serve == "warroom":
        asyncio.run(serve_warroom(args.port, args.workdir, args.slack_url, args.database_url))
    elif args.serve:
        asyncio.run(serve_bare(args.port, args.serve == "bolt-fast", args.slack_url))
    else:
        asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
