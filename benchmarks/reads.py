"""How a download is read and written, measured: the engine's way (`iter_chunked(CHUNK)` into
a buffered file, as `bot.apimaster` does) beside the ways that copy less in Python
(`iter_any`, `iter_chunks` straight from the socket buffers, an unbuffered file).

    .venv/bin/python benchmarks/reads.py [--jobs 100] [--video-mb 20] [--repeat 3]

A local aiohttp server in another process serves one in-memory body; the client downloads it
`--jobs` times, 8 at once (SORA_MAX_DOWNLOADS' default), into files it deletes at once, and
prints its own CPU per download (user and system), median [min-max] over the rounds, the
ways interleaved. Not a test: figures depend on the machine.
"""
from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import resource
import statistics
import sys
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402

from bot.apimaster import CHUNK  # noqa: E402

PORT = 8765


def _serve(size: int, port: int) -> None:
    body = os.urandom(size)

    async def video(_: web.Request) -> web.Response:
        return web.Response(body=body, content_type="video/mp4")

    app = web.Application()
    app.router.add_get("/video", video)
    web.run_app(app, host="127.0.0.1", port=port, print=None)


async def _chunked(resp: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
    async for chunk in resp.content.iter_chunked(CHUNK):
        yield chunk


async def _any(resp: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
    async for chunk in resp.content.iter_any():
        yield chunk


async def _chunks(resp: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
    async for chunk, _ in resp.content.iter_chunks():
        yield chunk


#: name -> (how the body is read, the file's buffering)
WAYS: dict[str, tuple[Callable[[aiohttp.ClientResponse], AsyncIterator[bytes]], int]] = {
    "iter_chunked(1 MiB), buffered (ours)": (_chunked, -1),
    "iter_any, buffered": (_any, -1),
    "iter_chunks, buffered": (_chunks, -1),
    "iter_chunks, unbuffered": (_chunks, 0),
}


async def _round(way: str, jobs: int, url: str, folder: Path) -> tuple[float, float]:
    read, buffering = WAYS[way]
    gate = asyncio.Semaphore(8)

    async def one(session: aiohttp.ClientSession, i: int) -> None:
        async with gate, session.get(url) as resp:
            path = folder / f"{i}.part"
            with path.open("wb", buffering=buffering) as out:
                async for chunk in read(resp):
                    out.write(chunk)
            path.unlink()

    async with aiohttp.ClientSession() as session:
        await one(session, -1)  # connect and warm up outside the measurement
        before = resource.getrusage(resource.RUSAGE_SELF)
        await asyncio.gather(*(one(session, i) for i in range(jobs)))
        after = resource.getrusage(resource.RUSAGE_SELF)
    return (1000 * (after.ru_utime - before.ru_utime) / jobs,
            1000 * (after.ru_stime - before.ru_stime) / jobs)


async def _wait_for_server(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(100):
            try:
                async with session.head(url):
                    return
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.1)
    raise SystemExit("the local server did not start")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--jobs", type=int, default=100)
    p.add_argument("--video-mb", type=float, default=20.0)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    server = multiprocessing.get_context("spawn").Process(
        target=_serve, args=(int(args.video_mb * 1_000_000), PORT), daemon=True)
    server.start()
    url = f"http://127.0.0.1:{PORT}/video"
    try:
        asyncio.run(_wait_for_server(url))
        figures: dict[str, list[tuple[float, float]]] = {way: [] for way in WAYS}
        with tempfile.TemporaryDirectory(prefix="sora-reads-") as tmp:
            for _ in range(args.repeat):
                for way in WAYS:
                    figures[way].append(asyncio.run(_round(way, args.jobs, url, Path(tmp))))
    finally:
        server.terminate()
    print(f"{args.jobs} downloads of {args.video_mb:g} MB, 8 at once, {args.repeat} rounds: "
          "CPU per download, ms, median [min-max]")
    for way, rounds in figures.items():
        cells = []
        for name, values in (("user", [u for u, _ in rounds]), ("sys", [s for _, s in rounds])):
            cells.append(f"{name} {statistics.median(values):5.2f} [{min(values):.2f}-{max(values):.2f}]")
        print(f"  {way:<38} " + "   ".join(cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
