from __future__ import annotations

import pytest

from bot.client import CiteBot
from bot.feedback import FeedbackStore
from tests.helpers import FakeService, bot_user, settings


@pytest.fixture
def make_bot(tmp_path):
    """Build CiteBots (not connected) on a fake service and a tmp feedback database."""
    made = []

    def make(service=None, bot_settings=None, **discord_settings):
        s = bot_settings or settings(tmp_path, **discord_settings)
        bot = CiteBot(s, service or FakeService(), FeedbackStore(s.db_path))
        bot_user(bot)
        made.append(bot)
        return bot

    yield make
    for bot in made:
        bot.feedback.close()
