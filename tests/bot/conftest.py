"""Fixtures of the bot tests: CiteBots on fake services, and a local news site to fetch from."""

from __future__ import annotations

import pytest

from bot.client import CiteBot
from bot.feedback import FeedbackStore
from tests.helpers import FakeService, bot_user, settings
from tests.newsserver import NewsServer


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


@pytest.fixture
def site():
    """A local news site on 127.0.0.1 (tests/newsserver.py) serving the pages and feeds in tests/fixtures/web."""
    with NewsServer() as s:
        yield s
