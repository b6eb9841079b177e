"""Several processes share one bot token by splitting the gateway's shards."""
from __future__ import annotations

import pytest

from adapters.discord.app import ShardedSoraBot, SoraBot, shard_options
from bot.settings import Settings


@pytest.mark.parametrize("env, expected", [
    ({}, {}),
    ({"DISCORD_SHARD_IDS": "2", "DISCORD_SHARD_COUNT": "4"}, {"shard_id": 2, "shard_count": 4}),
    ({"DISCORD_SHARD_IDS": "0, 1", "DISCORD_SHARD_COUNT": "4"}, {"shard_ids": [0, 1], "shard_count": 4}),
    ({"DISCORD_SHARD_COUNT": "2"}, {"shard_ids": None, "shard_count": 2}),
])
def test_discord_shards_split_one_token_between_processes(env, expected):
    assert shard_options(Settings.from_env(env)) == expected



def test_several_shards_in_one_process_run_the_same_bot_auto_sharded():
    import discord

    assert issubclass(ShardedSoraBot, SoraBot) and issubclass(ShardedSoraBot, discord.AutoShardedClient)


async def test_a_process_identifies_as_its_shard(bot, fake) -> None:
    async with bot(discord_shard_ids=(1,), discord_shard_count=2):
        assert fake.identifies[-1]["shard"] == [1, 2]
