"""The arguments of one shrinking attempt: what `shrink()` runs and the encoder benchmark
measures (benchmarks/encoders.py)."""
from __future__ import annotations

from pathlib import Path

from bot.transcode import PRESET, encode_args


def _value(args: list[str], flag: str) -> str:
    return args[args.index(flag) + 1]


def test_each_attempt_aims_lower_with_the_measured_preset() -> None:
    attempts = [encode_args(Path("in.mp4"), Path("out.mp4"), 10 * 2**20, 20.0, a) for a in range(3)]
    rates = [int(_value(args, "-b:v")) for args in attempts]
    assert rates[0] == 3_626_987  # 10 MiB over 20 s, less the headroom and 64 kb/s of audio
    assert rates[0] > rates[1] > rates[2]
    assert {_value(args, "-preset") for args in attempts} == {PRESET}
    assert all("-threads" not in args for args in attempts)  # x264's own count, as measured
    assert attempts[0][-1] == "out.mp4" and _value(attempts[0], "-i") == "in.mp4"


def test_a_tiny_budget_drops_the_audio_and_narrows_the_frame() -> None:
    args = encode_args(Path("in.mp4"), Path("out.mp4"), 200_000, 20.0)
    assert "-an" in args and "426" in _value(args, "-vf")
