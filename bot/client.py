"""The Discord client: a commands.Bot that receives the service, loads the cogs and syncs slash commands.

`run_bot(settings, service)` is what `python -m bot run` calls. It returns an exit code: a missing or
rejected token, or an index that cannot be built, is one sentence on stderr, never a traceback, and the
token is never printed or logged. SIGTERM and Ctrl-C close the gateway and the database cleanly.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import signal
import sys
from pathlib import Path

import aiohttp
import discord
import yarl
from discord import app_commands
from discord.ext import commands

from bot import render
from bot.checks import guild_refusal
from bot.feedback import FeedbackStore
from bot.limits import Cooldown, Limits
from bot.service import Service
from bot.settings import Settings, SettingsError
from bot.views import VoteButton

log = logging.getLogger(__name__)

EXTENSIONS = ("bot.cogs.ask", "bot.cogs.sources", "bot.cogs.admin", "bot.cogs.timeline", "bot.cogs.add",
              "bot.cogs.feeds")
COMMAND_ERROR = "Something went wrong with that command; it has been logged. Please try again later."


class CiteTree(app_commands.CommandTree):
    """The command tree: the server allow-list for every command, and one handler for unexpected errors."""

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
        log.error("command /%s failed", name, exc_info=error)
        try:
            if interaction.response.is_done():
                await interaction.followup.send(COMMAND_ERROR, ephemeral=True)
            else:
                await interaction.response.send_message(COMMAND_ERROR, ephemeral=True)
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
        self.feedback = feedback
        d = settings.discord
        self.limits = Limits(d.max_concurrent, Cooldown(d.cooldown_questions, d.cooldown_seconds))
        self.synced: list[str] = []

    async def setup_hook(self) -> None:
        if self.feedback is None:
            self.feedback = await asyncio.to_thread(FeedbackStore, self.settings.db_path)
        self.add_dynamic_items(VoteButton)
        for ext in EXTENSIONS:
            await self.load_extension(ext)
        report = await self.service.start()
        if report is not None:
            log.info("index built: %d articles, %d passages", report.articles, report.chunks)
        await self.sync_commands()

    async def on_message(self, message: discord.Message) -> None:
        pass  # no prefix commands; the Ask cog listens for questions

    async def on_ready(self) -> None:
        log.info("connected as %s (%s) to %d servers", self.user, self.user.id if self.user else "?", len(self.guilds))

    # -- slash command registration ------------------------------------------------------------------------

    @property
    def _sync_file(self) -> Path:
        return self.settings.resolve(self.settings.data.dir) / "commands.json"

    def command_payload(self, guild: discord.abc.Snowflake | None) -> list[dict]:
        return [c.to_dict(self.tree) for c in self.tree.get_commands(guild=guild)]

    async def sync_commands(self) -> None:
        """Register the commands with Discord only when they differ from what was registered last time."""
        targets: list[int | None] = list(self.settings.discord.dev_guild_ids) or [None]
        try:
            recorded = json.loads(self._sync_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            recorded = {}
        for gid in targets:
            guild = discord.Object(gid) if gid else None
            if guild is not None:
                self.tree.copy_global_to(guild=guild)
            payload = self.command_payload(guild)
            digest = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()
            key = f"{self.application_id}:{gid or 'global'}"
            if recorded.get(key) == digest:
                log.info("slash commands for %s unchanged; not syncing", gid or "all servers")
                continue
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d slash commands to %s", len(synced), gid or "all servers")
            recorded[key] = digest
            self.synced.append(key)
        try:
            self._sync_file.parent.mkdir(parents=True, exist_ok=True)
            self._sync_file.write_text(json.dumps(recorded, indent=1), encoding="utf-8")
        except OSError as exc:
            log.warning("could not record the synced commands: %s", exc)

    async def close(self) -> None:
        await super().close()
        if self.feedback is not None:
            await asyncio.to_thread(self.feedback.close)


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
    from bot.cli import USER_ERRORS

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    async with bot:
        runner = asyncio.create_task(bot.start(token))
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if stopper.done():
            log.info("stopping")
            await bot.close()
            runner.cancel()
        stopper.cancel()
        try:
            await runner
        except asyncio.CancelledError:
            return 0
        except discord.LoginFailure:
            return _fail("Discord rejected the token: check DISCORD_TOKEN or discord.token_file "
                         "(Developer Portal > your application > Bot > Reset Token).")
        except discord.PrivilegedIntentsRequired:
            return _fail("the Message Content intent is needed for question channels: enable it in the Developer "
                         "Portal (Bot > Privileged Gateway Intents) or empty discord.question_channel_ids.")
        except USER_ERRORS as exc:
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
    except SettingsError as exc:
        return _fail(str(exc))
    point_at(settings.discord.api_base, settings.discord.gateway_url)
    bot = CiteBot(settings, service)
    try:
        return asyncio.run(_run(bot, token))
    except KeyboardInterrupt:
        return 130
