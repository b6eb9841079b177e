"""Start-up checks that need the machine: folders that must be writable, ports that must be
free. Run by the entry point before anything is sent or charged, so a bad setting is one
line at start rather than a traceback after a paid video."""
from __future__ import annotations

import errno
import logging
import os
import socket
import tempfile
from pathlib import Path

from bot.errors import ConfigError
from bot.settings import Settings

log = logging.getLogger(__name__)

def resolved(settings: Settings) -> Settings:
    """Data paths made absolute once, so every later message names the real place."""
    return settings.with_(db_path=_absolute(settings.db_path),
                          media_dir=_absolute(settings.media_dir))


def _absolute(path: Path) -> Path:
    return Path(os.path.abspath(path.expanduser()))


def check_paths(settings: Settings, *, media: bool) -> None:
    """The database folder (and the media folder when videos will be made) exist or can be
    created, and can be written; an existing database file can be written too. A PostgreSQL
    SORA_DB has no file: the store's first connection checks it."""
    if not settings.db_url:
        writable_folder("SORA_DB", settings.db_path.parent)
        if settings.db_path.exists() and not os.access(settings.db_path, os.W_OK):
            raise ConfigError(f"SORA_DB: {settings.db_path} cannot be written (check its permissions).")
        if settings.db_path.is_dir():
            raise ConfigError(f"SORA_DB: {settings.db_path} is a folder; it must name a database file.")
    if media:
        writable_folder("SORA_MEDIA_DIR", settings.media_dir)


def writable_folder(name: str, folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # os.access is fooled by root and read-only mounts: write a real file instead.
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-check-"):
            pass
    except FileExistsError:
        raise ConfigError(f"{name}: {folder} exists and is not a folder.") from None
    except OSError as exc:
        raise ConfigError(f"{name}: cannot write to the folder {folder} "
                          f"({exc.strerror or type(exc).__name__}).") from None


def check_port_free(name: str, port: int, host: str = "0.0.0.0") -> None:
    """Bind and release the port as aiohttp will (SO_REUSEADDR), so a port another process
    listens on is found before the bot starts."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise port_error(name, port, exc) from None


def port_error(name: str, port: int, exc: OSError) -> ConfigError:
    if exc.errno == errno.EADDRINUSE:
        return ConfigError(f"{name} {port} is already in use by another program; "
                           f"stop it or choose another {name}.")
    if exc.errno == errno.EACCES:
        return ConfigError(f"{name} {port} needs more privileges (ports below 1024); "
                           f"choose one from 1024 to 65535.")
    return ConfigError(f"{name} {port} cannot be used ({exc.strerror or exc}).")
