"""A local stand-in for Slack's three file-upload steps, as `files_upload_v2` calls them:
files.getUploadURLExternal, a POST of the file's bytes to the upload URL, and
files.completeUploadExternal. It streams each upload into nothing; run in its own process.
"""
from __future__ import annotations

import asyncio
import itertools

from aiohttp import web

_ids = itertools.count(1)


async def upload_url(request: web.Request) -> web.Response:
    file_id = f"F{next(_ids):06d}"
    origin = f"{request.scheme}://{request.host}"
    return web.json_response({"ok": True, "file_id": file_id, "upload_url": f"{origin}/upload/{file_id}"})


async def upload(request: web.Request) -> web.Response:
    size = 0
    async for chunk in request.content.iter_any():  # read and drop: nothing kept
        size += len(chunk)
    return web.Response(text=f"OK - {size}")


async def complete(request: web.Request) -> web.Response:
    return web.json_response({"ok": True, "files": [{"id": "F000000", "name": "sora.mp4"}]})


async def main() -> None:
    app = web.Application(client_max_size=2**31)
    app.router.add_post("/api/files.getUploadURLExternal", upload_url)
    app.router.add_post("/upload/{file_id}", upload)
    app.router.add_post("/api/files.completeUploadExternal", complete)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(f"SLACK_API_URL=http://127.0.0.1:{runner.addresses[0][1]}/api/", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
