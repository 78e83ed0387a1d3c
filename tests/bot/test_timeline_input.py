"""/timeline refuses what the service would refuse before its public acknowledgement, to the user alone: an
error never appears in the channel for everyone."""

from __future__ import annotations

import pytest

from bot.cogs.timeline import Timeline
from tests.helpers import invoke, make_interaction


@pytest.fixture
def cog(make_bot, fake_service):
    fake_service.ensure_index()
    return Timeline(make_bot(service=fake_service))


@pytest.mark.parametrize("date_from,date_to,topic,needle", [
    ("2024-13", None, None, "“from” should be a date"),
    ("2024-02-30", None, None, "“from” should be a date"),
    ("２０２４", None, None, "“from” should be a date"),  # full-width digits
    (None, "٢٠٢٤-٠٧", None, "“to” should be a date"),  # Arabic-Indic digits
    ("0000", None, None, "“from” should be a date"),
    ("2025", "2024-06", None, "swap"),
    (None, None, "!!!", "no words to look for"),
    (None, None, "the of and", "no words to look for"),
])
async def test_bad_options_are_refused_privately_before_any_public_reply(cog, date_from, date_to, topic,
                                                                         needle) -> None:
    it = make_interaction(cog.bot)
    await invoke(cog.timeline, cog, it, date_from, date_to, topic)
    assert it.sent.kinds() == ["send_message"], it.sent
    assert it.sent.last()["ephemeral"] is True and needle in it.sent.last()["content"]


async def test_a_month_to_its_year_is_a_valid_range(cog) -> None:
    it = make_interaction(cog.bot)
    await invoke(cog.timeline, cog, it, "2024-07", "2024", None)  # July 2024 lies within 2024
    assert it.sent.kinds()[0] == "defer" and "ephemeral" not in it.sent[0][1]
    assert it.sent.kinds()[1] == "followup" and not it.sent[1][1].get("ephemeral")
