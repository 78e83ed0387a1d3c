"""The cogs on the real Service with the fast hashing encoder (no model) and the shipped articles."""

from __future__ import annotations

import re

import pytest

from bot.cogs.admin import Admin
from bot.cogs.ask import Ask
from bot.cogs.sources import Sources
from bot.cogs.timeline import Timeline
from bot.service import Service
from index.hashing_encoder import HashingEncoder
from bot.settings import Settings
from tests.helpers import check_embed, invoke, make_interaction


@pytest.fixture(scope="module")
def real_service(tmp_path_factory):
    """The service on the shipped articles; it never declines, so that what /ask sends is known."""
    svc = Service(Settings(data={"dir": str(tmp_path_factory.mktemp("svc"))}, answer={"decline_below": 0.0}),
                  encoder=HashingEncoder())
    svc.ensure_index()
    return svc


async def test_ask_sources_status_timeline_on_the_real_service(make_bot, real_service) -> None:
    bot = make_bot(real_service)
    ask, sources, admin, timeline = Ask(bot), Sources(bot), Admin(bot), Timeline(bot)

    it = make_interaction(bot)
    await invoke(ask.ask, ask, it, "When did Lithuania withdraw from the Convention on Cluster Munitions?")
    assert it.sent.kinds() == ["defer", "followup"]
    sent = it.sent.last()
    assert "content" not in sent and "view" in sent  # an answer, with the vote buttons
    embed = sent["embed"]
    markers = [int(n) for n in re.findall(r"\[(\d+)\]", embed.description)]
    assert markers and markers == list(range(1, len(embed.fields) + 1))  # a field for each cited source, in order
    assert [f.name.split("]")[0] + "]" for f in embed.fields] == [f"[{n}]" for n in markers]
    assert real_service.questions_answered == 1

    it = make_interaction(bot)
    await invoke(sources.sources, sources, it)
    assert it.sent.last()["embed"].title == f"Sources ({len(real_service.index.articles)} articles)"

    it = make_interaction(bot, permissions=1 << 5)
    await invoke(admin.status, admin, it)
    fields = {f.name: f.value for f in it.sent.last()["embed"].fields}
    assert fields["Articles"] == str(len(real_service.index.articles))

    it = make_interaction(bot)
    await invoke(timeline.timeline, timeline, it, None, None, None)
    page = it.sent.last()["embed"]
    check_embed(page)
    assert page.fields and "[1]" in page.fields[0].value and "[1] " in page.footer.text

    it = make_interaction(bot)
    await invoke(timeline.timeline, timeline, it, "1900", "1901", None)
    assert "No dated events" in it.sent.last()["content"]
