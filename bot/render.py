"""Pure functions that turn answers, sources, reports and timelines into Discord messages within its limits.

Every text that comes from a question, an article or a report passes through `neutralise` (a zero-width
space after each '@', so `@everyone`, `<@id>` and `<@&id>` show as text and never ping) and `clip` (cut at
a word boundary with an ellipsis). Lengths are counted in UTF-16 code units, which is never less than
the count of code points Discord checks, so what fits here fits there.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import discord

from index.answer import Answer, Citation
from index.build import BuildReport
from index.store import ArticleRecord

CONTENT = 2000
TITLE = 256
DESCRIPTION = 4096
FIELDS = 25
FIELD_NAME = 256
FIELD_VALUE = 1024
FOOTER = 2048
EMBED_TOTAL = 6000

QUOTE_CHARS = 300  # a citation's quote in an answer embed; the passage is usually longer
URL_CHARS = 512  # longer URLs are left out rather than cut into broken links
EVENTS_PER_PAGE = 10
SOURCES_PER_PAGE = 15
ZWSP = "\u200b"
ANSWER_COLOUR = discord.Colour.blurple()


def dlen(text: str) -> int:
    """Length as Discord may count it: UTF-16 code units (a code point outside the BMP counts twice)."""
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


def neutralise(text: str) -> str:
    """The text with mentions made inert and visible as text: a zero-width space after every '@'."""
    return text.replace("@", "@" + ZWSP)


def _cut(text: str, units: int) -> str:
    """The longest prefix of text within `units` UTF-16 code units."""
    n = 0
    for i, c in enumerate(text):
        n += 2 if ord(c) > 0xFFFF else 1
        if n > units:
            return text[:i]
    return text


def clip(text: str, limit: int, ellipsis: str = "…") -> str:
    """The text cut to `limit` (UTF-16 units) at a word boundary when one is near, with an ellipsis."""
    if dlen(text) <= limit:
        return text
    if limit <= dlen(ellipsis):
        return _cut(text, limit)
    head = _cut(text, limit - dlen(ellipsis))
    space = max(head.rfind(" "), head.rfind("\n"))
    if space >= len(head) * 0.6:
        head = head[:space]
    return head.rstrip() + ellipsis


def safe(text: str | None, limit: int) -> str:
    return clip(neutralise(" ".join((text or "").split())), limit)


def message_text(text: str) -> str:
    """Plain message content: mentions neutralised, within the content limit."""
    return clip(neutralise(text), CONTENT)


def embed_length(embed: discord.Embed) -> int:
    """What counts against the 6,000 total: title, description, field names and values, footer, author."""
    parts = [embed.title or "", embed.description or "", embed.footer.text or "", embed.author.name or ""]
    for f in embed.fields:
        parts += [f.name or "", f.value or ""]
    return sum(dlen(p) for p in parts)


def fit(embed: discord.Embed) -> discord.Embed:
    """The embed brought within every limit: texts clipped, then the description shortened, then fields dropped."""
    if embed.title:
        embed.title = clip(embed.title, TITLE)
    if embed.description:
        embed.description = clip(embed.description, DESCRIPTION)
    if embed.footer.text:
        embed.set_footer(text=clip(embed.footer.text, FOOTER), icon_url=embed.footer.icon_url)
    while len(embed.fields) > FIELDS:
        embed.remove_field(-1)
    for i, f in enumerate(embed.fields):
        embed.set_field_at(i, name=clip(f.name or ZWSP, FIELD_NAME) or ZWSP,
                           value=clip(f.value or ZWSP, FIELD_VALUE) or ZWSP, inline=f.inline)
    over = embed_length(embed) - EMBED_TOTAL
    if over > 0 and embed.description:
        keep = max(dlen(embed.description) - over, min(dlen(embed.description), 200))
        embed.description = clip(embed.description, keep)
    while embed_length(embed) > EMBED_TOTAL and embed.fields:
        embed.remove_field(-1)
    if embed_length(embed) > EMBED_TOTAL and embed.description:
        keep = max(dlen(embed.description) - (embed_length(embed) - EMBED_TOTAL), 1)
        embed.description = clip(embed.description, keep)
    return embed


# -- answers ---------------------------------------------------------------------------------------------

def citation_date(c: Citation) -> str:
    if not c.date:
        return "date unknown"
    return f"{c.date} (inferred)" if c.date_inferred else c.date


def safe_url(url: str | None) -> str | None:
    """A web link fit to show: http(s), one short token, and no mention in it ('@' after the host is %40,
    which is the same URL); None when it cannot be shown as a link."""
    url = (url or "").strip()
    if not url or dlen(url) > URL_CHARS or any(c.isspace() or c in "<>" or ord(c) < 32 for c in url):
        return None
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in {"http", "https"}:
        return None
    host, slash, tail = rest.partition("/")
    if "@" in host:  # user:password@host: not something a news link needs, and it hides the real host
        return None
    return f"{scheme}://{host}{slash}{tail.replace('@', '%40')}"


def citation_field(c: Citation, quote_chars: int = QUOTE_CHARS) -> tuple[str, str]:
    """(name, value) of a numbered citation: title; date, outlet, author, the quote and the URL when known."""
    name = f"[{c.n}] {safe(c.title or c.source, FIELD_NAME - 8)}"
    head = " · ".join(x for x in (safe(citation_date(c), 100), safe(c.outlet, 100) if c.outlet else None,
                                  f"by {safe(c.author, 100)}" if c.author else None) if x)
    url = safe_url(c.url)
    tail = f"\n<{url}>" if url else ""
    room = FIELD_VALUE - dlen(head) - dlen(tail) - 4
    quote = safe(c.text, max(20, min(quote_chars, room)))
    return name, f"{head}\n“{quote}”{tail}"


def answer_embed(answer: Answer, asked: str | None = None) -> discord.Embed:
    """An answer as an embed: the answer in the description, one field per numbered citation.

    `asked` is the user's own words when the search also used the previous question of a thread.
    """
    title = asked if asked else answer.question
    description = answer.answer + (f"\n\n**When:** {answer.event_date}" if answer.event_date else "")
    embed = discord.Embed(title=safe(title, TITLE), description=safe(description, DESCRIPTION),
                          colour=ANSWER_COLOUR)
    for c in answer.citations[:FIELDS]:
        name, value = citation_field(c)
        embed.add_field(name=name, value=value, inline=False)
    footer = "Quotes are verbatim from the articles. Was this helpful?"
    if asked and asked != answer.question:
        footer = "Read together with the previous question in this thread. " + footer
    embed.set_footer(text=footer)
    return fit(embed)


def abstention_text(answer: Answer) -> str:
    return message_text(f"{answer.answer} Try /sources to see what the articles cover.")


# -- sources ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SourceRow:
    title: str
    date: str | None
    date_inferred: bool
    outlet: str | None
    url: str | None = None


def source_rows(articles: Mapping[str, ArticleRecord]) -> list[SourceRow]:
    """The index's articles (id -> record), newest first, undated last."""
    rows = []
    for aid, rec in articles.items():
        meta = rec.meta
        rows.append(SourceRow(meta.title or aid, meta.published, meta.published_inferred, meta.outlet, meta.url))
    dated = sorted((r for r in rows if r.date), key=lambda r: r.date, reverse=True)
    return dated + sorted((r for r in rows if not r.date), key=lambda r: r.title)


def sources_pages(rows: Sequence[SourceRow], per_page: int = SOURCES_PER_PAGE) -> list[discord.Embed]:
    """Pages of the article list, each within the limits; one page saying so when there are none."""
    if not rows:
        return [discord.Embed(title="Sources", description="The index has no articles yet.")]
    chunks = [rows[i:i + per_page] for i in range(0, len(rows), per_page)]
    pages = []
    for i, chunk in enumerate(chunks, 1):
        lines = []
        for r in chunk:
            date = (f"{r.date} (inferred)" if r.date_inferred else r.date) if r.date else "date unknown"
            extra = " · ".join(x for x in (safe(date, 100), safe(r.outlet, 80) if r.outlet else None) if x)
            lines.append(f"• **{safe(r.title, 200)}** — {extra}")
        embed = discord.Embed(title=f"Sources ({len(rows)} articles)", description="\n".join(lines))
        embed.set_footer(text=f"Page {i} of {len(chunks)}")
        pages.append(fit(embed))
    return pages


# -- status and reindex ----------------------------------------------------------------------------------

def duration(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    d, rem = divmod(seconds, 86400)
    h, rem = divmod(rem, 3600)
    m, s = divmod(rem, 60)
    return " ".join(f"{v}{u}" for v, u in ((d, "d"), (h, "h"), (m, "m"), (s, "s")) if v) or "0s"


def build_report_text(report: BuildReport, seconds: float | None = None) -> str:
    """A finished reindex in a few lines: counts, time, skipped files with reasons."""
    took = seconds if seconds is not None else report.seconds
    skipped = f"{len(report.skipped)} file{'' if len(report.skipped) == 1 else 's'} skipped"
    if report.up_to_date:
        lines = [f"Up to date: nothing changed since the last build, so the index in use is kept ({report.articles} "
                 f"articles as {report.chunks} passages, {skipped}; checked in {took:.1f}s)."]
    else:
        lines = [f"Reindexed {report.articles} articles as {report.chunks} passages in {took:.1f}s: "
                 f"{report.embedded} newly embedded, {report.reused} reused, {skipped}."]
    for s in report.skipped[:15]:
        lines.append(f"• skipped `{safe(s.path, 150)}`: {safe(s.reason, 200)}")
    if len(report.skipped) > 15:
        lines.append(f"• … and {len(report.skipped) - 15} more skipped")
    for w in report.warnings[:5]:
        lines.append(f"• warning `{safe(w.path, 150)}`: {safe(w.reason, 200)}")
    return message_text("\n".join(lines))


def progress_text(done: int, total: int, started: float, now: float | None = None) -> str:
    elapsed = (now or time.monotonic()) - started
    if total <= 0:
        return f"Reindexing… reading and chunking the articles ({duration(elapsed)})."
    pct = min(100, int(done * 100 / total))
    bar = "█" * (pct // 10) + "░" * (10 - pct // 10)
    return f"Reindexing… {bar} {pct}% ({done:,}/{total:,} passages and sentences embedded, {duration(elapsed)})."


def status_embed(stats: Mapping[str, object]) -> discord.Embed:
    """The /status card from a flat mapping of label -> value."""
    embed = discord.Embed(title="Status", colour=ANSWER_COLOUR)
    for label, value in list(stats.items())[:FIELDS]:
        embed.add_field(name=safe(str(label), FIELD_NAME), value=safe(str(value), FIELD_VALUE) or "—", inline=True)
    return fit(embed)


# -- timeline --------------------------------------------------------------------------------------------

def timeline_pages(events: Sequence[Mapping], titles: Mapping[str, str] | None = None, heading: str = "Timeline",
                   per_page: int = EVENTS_PER_PAGE) -> list[discord.Embed]:
    """Pages of events: one field each (label -> text with [n] markers), the page's sources in the footer."""
    titles = titles or {}
    if not events:
        return []
    chunks = [events[i:i + per_page] for i in range(0, len(events), per_page)]
    pages = []
    for pi, chunk in enumerate(chunks, 1):
        numbers: dict[str, int] = {}
        embed = discord.Embed(title=safe(heading, TITLE), colour=ANSWER_COLOUR)
        for ev in chunk:
            marks = ""
            for c in ev.get("citations") or ():
                src = str(c.get("source", "?"))
                n = numbers.setdefault(src, len(numbers) + 1)
                if f"[{n}]" not in marks:
                    marks += f"[{n}]"
            label = safe(str(ev.get("label") or ev.get("date") or "undated"), FIELD_NAME)
            room = FIELD_VALUE - dlen(marks) - 1
            value = f"{safe(str(ev.get('text', '')), room)} {marks}".strip()
            embed.add_field(name=label or ZWSP, value=value or ZWSP, inline=False)
        legend = " · ".join(f"[{n}] {safe(titles.get(src, src), 120)}" for src, n in numbers.items())
        footer = f"Page {pi}/{len(chunks)} · {len(events)} events\n{legend}"
        embed.set_footer(text=clip(footer, min(FOOTER, 1500)))
        pages.append(fit(embed))
    return pages


def empty_timeline_text(date_from: str | None, date_to: str | None, topic: str | None) -> str:
    scope = []
    if date_from or date_to:
        scope.append(f"between {date_from or 'the beginning'} and {date_to or 'now'}")
    if topic:
        scope.append(f"about “{topic}”")
    where = " ".join(scope) or "in the articles"
    return message_text(f"No dated events {where}. Try a wider date range or a broader topic.")
