"""Start-up checks: folders and ports found wrong before anything is sent."""
from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from adapters import startup
from bot.errors import ConfigError
from bot.settings import Settings


def test_paths_are_made_absolute_once(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = startup.resolved(Settings(db_path=Path("data/sora.db"), media_dir=Path("~/videos")))
    assert s.db_path == tmp_path / "data" / "sora.db"
    assert s.media_dir == Path.home() / "videos"


def test_missing_folders_are_created(tmp_path):
    s = Settings(db_path=tmp_path / "a" / "sora.db", media_dir=tmp_path / "b" / "videos")
    startup.check_paths(s, media=True)
    assert (tmp_path / "a").is_dir() and (tmp_path / "b" / "videos").is_dir()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere; the file case below covers it")
def test_unwritable_media_dir_is_found_at_start(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    s = Settings(db_path=tmp_path / "sora.db", media_dir=locked / "videos")
    with pytest.raises(ConfigError, match="SORA_MEDIA_DIR: cannot write to the folder"):
        startup.check_paths(s, media=True)


@pytest.mark.parametrize("name, field", [("SORA_DB", "db_path"), ("SORA_MEDIA_DIR", "media_dir")])
def test_a_folder_that_cannot_be_made_names_its_setting(tmp_path, name, field):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    paths = {"db_path": tmp_path / "sora.db", "media_dir": tmp_path / "videos"}
    paths[field] = blocker / "inside" / ("sora.db" if field == "db_path" else "videos")
    with pytest.raises(ConfigError, match=f"^{name}: ") as caught:
        startup.check_paths(Settings(**paths), media=True)
    assert "\n" not in caught.value.user_message


def test_the_media_dir_is_not_checked_when_no_video_is_made(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    startup.check_paths(Settings(db_path=tmp_path / "sora.db", media_dir=blocker / "v"), media=False)


def test_a_port_in_use_is_named():
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError, match=f"PORT {port} is already in use"):
            startup.check_port_free("PORT", port)
    startup.check_port_free("PORT", port)  # free again once closed
