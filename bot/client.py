"""The Discord client: a commands.Bot that receives the service, loads the cogs and syncs slash commands.

`run_bot(settings, service)` is what `python -m bot run` calls. It returns an exit code: a missing or
rejected token, or an index that cannot be built, is one sentence on stderr, never a traceback, and the
token is never printed or logged. SIGTERM and Ctrl-C close the gateway and the database cleanly.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sqlite3
import sys

import aiohttp
import discord
import yarl
from discord import app_commands
from discord.ext import commands

from bot import render
from bot.checks import guild_refusal
from bot.feedback import FeedbackStore
from bot.ingest import Ingestor
from bot.limits import Cooldown, Limits
from bot.service import Service
from bot.settings import Settings
from bot.views import VoteButton
from corpus.errors import CitebotError
from index.build import BuildCancelled

log = logging.getLogger(__name__)

EXTENSIONS = ("bot.cogs.ask", "bot.cogs.sources", "bot.cogs.admin", "bot.cogs.timeline", "bot.cogs.add",
              "bot.cogs.feeds")
COMMAND_ERROR = "Something went wrong with that command; it has been logged. Please try again later."


class CiteTree(app_commands.CommandTree):
    """The command tree: the server allow-list for every command, and the one handler for what a command raises:
    an error the user can fix (CitebotError) is told to them alone; anything else is logged as a failure."""

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        refusal = guild_refusal(interaction.guild_id, self.client.settings.discord)
        if refusal:
            await interaction.response.send_message(refusal, ephemeral=True)
            return False
        return True

    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        if isinstance(error, app_commands.CheckFailure):
            return  # already answered by the check
        name = interaction.command.qualified_name if interaction.command else "?"
        cause = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        if isinstance(cause, CitebotError):
            log.info("/%s refused: %s", name, cause)
            text = render.message_text(str(cause))
        else:
            log.error("command /%s failed", name, exc_info=error)
            text = COMMAND_ERROR
        try:
            if interaction.response.is_done():
                await interaction.followup.send(text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none())
            else:
                await interaction.response.send_message(text, ephemeral=True,
                                                        allowed_mentions=discord.AllowedMentions.none())
        except discord.HTTPException:
            log.warning("could not tell the user about the failure of /%s", name)


class CiteBot(commands.Bot):
    """The bot; it owns the service, the feedback database and the limits."""

    def __init__(self, settings: Settings, service: Service, feedback: FeedbackStore | None = None) -> None:
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False  # no voice here; spare the warnings
        intents = discord.Intents.default()
        intents.typing = False
        intents.presences = False
        # Privileged: needed only to read questions in question channels; mentions arrive with their text anyway.
        intents.message_content = bool(settings.discord.question_channel_ids)
        super().__init__(command_prefix=commands.when_mentioned, intents=intents, help_command=None,
                         allowed_mentions=discord.AllowedMentions.none(), tree_cls=CiteTree)
        self.settings = settings
        self.service = service
        self.ingestor = Ingestor(service, settings=settings)  # one for /add and the feed poller: their adds queue
        self.feedback = feedback
        self.feedback_error: str | None = None  # why there is no feedback database, when there is none
        d = settings.discord
        self.limits = Limits(d.max_concurrent, Cooldown(d.cooldown_questions, d.cooldown_seconds))
        self.synced: list[str] = []

    async def setup_hook(self) -> None:
        self.add_dynamic_items(VoteButton)
        for ext in EXTENSIONS:
            await self.load_extension(ext)
        # The index first: a data folder it cannot be built in is one line naming the folder (DataDirError).
        report = await self.service.start()
        if report is not None:
            log.info("index built: %d articles, %d passages", report.articles, report.chunks)
        if self.feedback is None:
            try:
                self.feedback = await asyncio.to_thread(FeedbackStore, self.settings.db_path)
            except (sqlite3.Error, OSError) as exc:  # e.g. a read-only data folder holding a prebuilt index
                self.feedback_error = f"{self.settings.db_path} cannot be opened ({exc})"
                log.warning("feedback is not recorded: %s; answers are sent without vote buttons",
                            self.feedback_error)
        await self.sync_commands()

    async def on_message(self, message: discord.Message) -> None:
        pass  # no prefix commands; the Ask cog listens for questions

    async def on_ready(self) -> None:
        log.info("connected as %s (%s) to %d servers", self.user, self.user.id if self.user else "?", len(self.guilds))

    # -- slash command registration ------------------------------------------------------------------------

    def command_payload(self, guild: discord.abc.Snowflake | None) -> list[dict]:
        return [c.to_dict(self.tree) for c in self.tree.get_commands(guild=guild)]

    async def registered_commands(self, guild: discord.abc.Snowflake | None) -> list[dict]:
        """What Discord has registered, as it reports it: the request `tree.fetch_commands` makes, kept as raw
        payloads because discord.py's AppCommand reads `contexts: [0]` (servers only) as no contexts at all."""
        if guild is None:
            return await self.http.get_global_commands(self.application_id)
        return await self.http.get_guild_commands(self.application_id, guild.id)

    async def sync_commands(self) -> None:
        """Register the commands where what Discord reports differs from ours: missing (a reset application,
        a new development server), changed, or overwritten by another deploy."""
        targets: list[int | None] = list(self.settings.discord.dev_guild_ids) or [None]
        for gid in targets:
            guild = discord.Object(gid) if gid else None
            where = f"server {gid}" if gid else "all servers"
            if guild is not None:
                self.tree.copy_global_to(guild=guild)
            registered = await self.registered_commands(guild)
            if commands_match(self.command_payload(guild), registered):
                log.info("the %d slash commands Discord has for %s are current; not syncing", len(registered), where)
                continue
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d slash commands to %s (Discord had %d, not all current)", len(synced), where,
                     len(registered))
            self.synced.append(f"{self.application_id}:{gid or 'global'}")

    async def close(self) -> None:
        await super().close()
        if self.feedback is not None:
            await asyncio.to_thread(self.feedback.close)


def commands_match(ours: list[dict], registered: list[dict]) -> bool:
    """Whether Discord's copy of the commands is ours: what users see of each, with Discord's defaults
    filled in, so that the two compare equal exactly when a sync would change nothing. `contexts` and
    `integration_types` count only where we set them: left unset, Discord fills in its own."""
    mine, theirs = command_shapes(ours), command_shapes(registered)
    if mine.keys() != theirs.keys():
        return False
    for name, shape in mine.items():
        other = {k: v for k, v in theirs[name].items() if k in shape or k not in ("contexts", "integration_types")}
        if shape != other:
            return False
    return True


def command_shapes(payloads) -> dict[str, dict]:
    """Name -> what users see of each command, Discord's defaults filled in."""
    return {p["name"]: _shape(p) for p in payloads}


def _shape(p: dict) -> dict:
    perms = p.get("default_member_permissions")
    shape = {"type": p.get("type", 1), "description": p.get("description", ""),
             "default_member_permissions": None if perms is None else int(perms), "nsfw": bool(p.get("nsfw")),
             "dm_permission": p.get("dm_permission") is not False,
             "options": [_option_shape(o) for o in p.get("options") or ()], **_localised(p)}
    for key in ("contexts", "integration_types"):
        if p.get(key) is not None:
            shape[key] = sorted(p[key])
    return shape


def _option_shape(o: dict) -> dict:
    return {"type": o["type"], "name": o["name"], "description": o.get("description", ""),
            "required": bool(o.get("required")), "autocomplete": bool(o.get("autocomplete")),
            "choices": [(c["name"], c["value"]) for c in o.get("choices") or ()],
            "channel_types": sorted(o.get("channel_types") or ()),
            **{k: o.get(k) for k in ("min_value", "max_value", "min_length", "max_length")},
            "options": [_option_shape(x) for x in o.get("options") or ()], **_localised(o)}


def _localised(d: dict) -> dict:
    return {k: dict(d.get(k) or {}) for k in ("name_localizations", "description_localizations")}


def point_at(api_base: str | None, gateway_url: str | None) -> None:
    """Send REST calls and the gateway connection elsewhere (a local fake Discord in tests)."""
    if api_base:
        discord.http.Route.BASE = api_base.rstrip("/")
    if gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


def _fail(message: str) -> int:
    print(f"error: {render.clip(message, 500)}", file=sys.stderr)
    return 1


async def _run(bot: CiteBot, token: str) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    try:
        return await _serve(bot, token, stop)
    finally:
        await bot.service.stop()  # a build in progress stops at its next batch; the old index stays


async def _serve(bot: CiteBot, token: str, stop: asyncio.Event) -> int:
    async with bot:
        runner = asyncio.create_task(bot.start(token))
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if stopper.done():
            log.info("stopping")
            bot.service.cancel_builds()
            await bot.close()
            runner.cancel()
        stopper.cancel()
        try:
            await runner
        except (asyncio.CancelledError, BuildCancelled):  # stopped, perhaps while the index was being built
            return 0
        except discord.LoginFailure:
            return _fail("Discord rejected the token: check DISCORD_TOKEN or discord.token_file "
                         "(Developer Portal > your application > Bot > Reset Token).")
        except discord.PrivilegedIntentsRequired:
            return _fail("the Message Content intent is needed for question channels: enable it in the Developer "
                         "Portal (Bot > Privileged Gateway Intents) or empty discord.question_channel_ids.")
        except CitebotError as exc:  # e.g. a data folder the index cannot be built in
            return _fail(str(exc))
        except discord.GatewayNotFound:
            return _fail("cannot find the Discord gateway; Discord may be having an outage.")
        except discord.HTTPException as exc:
            return _fail(f"Discord answered {exc.status}: {exc.text or exc.__class__.__name__}")
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
            return _fail(f"cannot reach Discord ({exc.__class__.__name__}: {exc})")
        except Exception as exc:  # the last line of defence: one line on stderr, the traceback in the log
            log.error("the bot stopped unexpectedly", exc_info=True)
            return _fail(f"the bot stopped: {exc.__class__.__name__}: {exc}")
    return 0


def run_bot(settings: Settings, service: Service) -> int:
    """Run until stopped; the exit code for the command line."""
    try:
        token = settings.discord_token()
    except CitebotError as exc:
        return _fail(str(exc))
    point_at(settings.discord.api_base, settings.discord.gateway_url)
    bot = CiteBot(settings, service)
    try:
        return asyncio.run(_run(bot, token))
    except KeyboardInterrupt:
        return 130
