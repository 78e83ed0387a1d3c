"""The fake Discord answers like Discord: limits, one acknowledgement within 3 s, no followup before it."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from tests import fakediscord
from tests.fakediscord import FakeDiscord


@pytest.fixture(scope="module")
def fake():
    f = FakeDiscord().start()
    f.commands["global"] = [{"id": "1", "name": "ask", "options": [{"name": "question", "type": 3}]}]
    yield f
    f.stop()


def post(url: str, body: dict) -> tuple[int, dict]:
    async def go():
        async with aiohttp.ClientSession() as s:
            async with s.post(url, json=body) as r:
                return r.status, await r.json()
    return asyncio.run(go())


def test_acknowledge_once_and_followup_only_after(fake) -> None:
    it = fake.slash("ask", question="q")
    cb = f"{fake.api_base}/interactions/{it.id}/{it.token}/callback"
    hook = f"{fake.api_base}/webhooks/{fake.app_id}/{it.token}"
    assert post(hook, {"content": "too early"})[0] == 400
    assert post(cb, {"type": 5})[0] == 200
    status, body = post(cb, {"type": 5})
    assert status == 400 and body["code"] == 40060
    assert post(hook, {"content": "ok"})[0] == 200
    status, body = post(hook, {"content": "x" * 2001})
    assert status == 400 and body["code"] == 50035
    big = {"embeds": [{"description": "d" * 4096, "fields": [{"name": "n", "value": "v" * 1024}] * 2}]}
    assert post(hook, big)[0] == 400  # over 6,000 in total


def test_late_acknowledgement_is_unknown(fake, monkeypatch) -> None:
    monkeypatch.setattr(fakediscord, "ACK_DEADLINE", 0.0)
    it = fake.slash("ask", question="q")
    status, body = post(f"{fake.api_base}/interactions/{it.id}/{it.token}/callback", {"type": 5})
    assert status == 404 and body["code"] == 10062


def test_message_limits() -> None:
    ok = {"content": "hi", "embeds": [{"title": "t", "fields": [{"name": "a", "value": "b"}] * 25}]}
    assert fakediscord.message_errors(ok) == []
    assert fakediscord.message_errors({"embeds": [{"fields": [{"name": "", "value": "b"}]}]})
    assert fakediscord.message_errors({"embeds": [{"fields": [{"name": "a", "value": "b"}] * 26}]})
