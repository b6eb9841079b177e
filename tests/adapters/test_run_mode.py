"""Which front end `sora-bot run` starts, from the tokens and what stdin is."""
from __future__ import annotations

import io
import os

from adapters.main import binds_web_port, run_mode, slack_binds_port
from bot.settings import Settings


def test_a_token_means_chat_whatever_stdin_is():
    assert run_mode(Settings(discord_token="t"), io.StringIO()) == "chat"


def test_dev_null_means_headless_and_a_pipe_or_file_the_console(tmp_path):
    with open(os.devnull) as null:
        assert run_mode(Settings(), null) == "headless"
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("a cat\n")
    with prompts.open() as file:
        assert run_mode(Settings(), file) == "console"
    read, write = os.pipe()
    with os.fdopen(read) as pipe, os.fdopen(write, "w"):
        assert run_mode(Settings(), pipe) == "console"
    assert run_mode(Settings(), io.StringIO()) == "headless"  # no file behind it


def test_port_is_ours_unless_slack_serves_it():
    assert binds_web_port(Settings(), "headless") and not binds_web_port(Settings(), "console")
    discord = Settings(discord_token="t")
    assert binds_web_port(discord, "chat") and not slack_binds_port(discord)
    http_slack = Settings(slack_bot_token="b")
    assert slack_binds_port(http_slack) and not binds_web_port(http_slack, "chat")
    socket_slack = Settings(slack_bot_token="b", slack_app_token="a")
    assert binds_web_port(socket_slack, "chat")
