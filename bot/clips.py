"""Frames and joins of finished clips, with the ffmpeg that ships in imageio-ffmpeg: the last
frame at the video's own size (to continue from it), and clips joined into one MP4."""
from __future__ import annotations

import logging
import re
import tempfile
from pathlib import Path

from bot.errors import SoraError
from bot.transcode import run_ffmpeg

log = logging.getLogger(__name__)

_STREAM = re.compile(rb"Stream #\S+.*?Video: (\w+).*?(\d{2,5})x(\d{2,5})")
_AUDIO = re.compile(rb"Stream #\S+.*?Audio: (\w+)")


class ClipError(SoraError):
    """A stored clip cannot be read or joined."""


async def last_frame(video: Path, timeout: float = 60.0) -> bytes:
    """The final frame as PNG bytes, at the video's own size."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "last.png"
        # -sseof seeks from the end; -update 1 keeps overwriting, so the last decoded frame stays.
        code, err = await run_ffmpeg("-hide_banner", "-loglevel", "error", "-y", "-sseof", "-0.5",
                               "-i", str(video), "-update", "1", "-frames:v", "1", str(out),
                               timeout=timeout)
        if code != 0 or not out.exists():
            log.error("ffmpeg could not take the last frame of %s: %s", video.name,
                      err.decode(errors="replace")[-300:])
            raise ClipError("The last frame of that video could not be read.")
        return out.read_bytes()


async def shape(video: Path, timeout: float = 30.0) -> tuple[str, int, int, str | None]:
    """(video codec, width, height, audio codec or None) from ffmpeg's header dump."""
    _, err = await run_ffmpeg("-hide_banner", "-i", str(video), timeout=timeout)
    hit = _STREAM.search(err)
    if not hit:
        raise ClipError(f"{video.name} is not a video ffmpeg can read.")
    audio = _AUDIO.search(err)
    return (hit[1].decode(), int(hit[2]), int(hit[3]), audio[1].decode() if audio else None)


async def stitch(videos: list[Path], out: Path, timeout: float = 600.0) -> Path:
    """Join `videos` in order into `out`: stream copy when they share an encoding and size,
    re-encoded to the first clip's size otherwise."""
    if len(videos) < 2:
        raise ClipError("Stitching needs at least two clips.")
    shapes = [await shape(v) for v in videos]
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        listing = Path(tmp) / "list.txt"
        # The concat demuxer's own quoting: single quotes, a quote written as '\''.
        listing.write_text("".join(
            "file '{}'\n".format(str(v.resolve()).replace("'", "'\\''")) for v in videos))
        if len(set(shapes)) == 1:
            args = ["-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy"]
        else:
            _, width, height, _ = shapes[0]
            audio = all(s[3] for s in shapes)
            args = ["-f", "concat", "-safe", "0", "-i", str(listing),
                    "-vf", f"scale={width}:{height}:force_original_aspect_ratio=decrease,"
                           f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2,setsar=1",
                    "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
                    *(["-c:a", "aac"] if audio else ["-an"])]
        code, err = await run_ffmpeg("-hide_banner", "-loglevel", "error", "-y", *args,
                               "-movflags", "+faststart", str(out), timeout=timeout)
    if code != 0:
        log.error("ffmpeg could not stitch %d clips: %s", len(videos), err.decode(errors="replace")[-500:])
        out.unlink(missing_ok=True)
        raise ClipError("The clips could not be joined.")
    return out
