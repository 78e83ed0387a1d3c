"""A local fake of the Discord API for end-to-end tests: the REST routes the bot uses and the gateway.

It runs an aiohttp app on 127.0.0.1 (random port) in a background thread, so synchronous tests can drive
it while a real bot process talks to it. It answers like Discord where it matters to the bot: a message
over the size limits is a 400, an interaction can be acknowledged once and only within 3 seconds, a
followup or an edit needs an acknowledgement first, a wrong token is a 401 (REST) or close 4004 (gateway).
Everything the bot sends is kept in `requests` for the tests to inspect.

Faults for the reliability tests: `fail_next` answers the next N requests to a route with a 429 (with
retry-after) or a 5xx before they reach the handler; `send_reconnect` (op 7), `invalidate_session` (op 9)
and `drop_connection` disturb the gateway; `heartbeat_gaps` measures how regularly the client's
heartbeats arrive (a late heartbeat means the client's event loop stalled).

One module of about 640 lines, on purpose: the REST routes and the gateway act on one fake Discord's state
(channels, messages, threads, interactions, commands), which the tests read as one object.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field

from aiohttp import WSMsgType, web

API = "/api/v10"
EPHEMERAL = 64
ACK_DEADLINE = 3.0
HEARTBEAT_MS = 41250

_ids = itertools.count(1_300_000_000_000_000_000)


def snowflake() -> str:
    return str(next(_ids))


def iso(t: float | None = None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000000+00:00", time.gmtime(t or time.time()))


def user(uid: str, name: str, bot: bool = False) -> dict:
    return {"id": uid, "username": name, "discriminator": "0", "global_name": name, "avatar": None, "bot": bot,
            "public_flags": 0, "flags": 0}


def _json(data, status: int = 200) -> web.Response:
    # discord.py parses a body as JSON only when the content type is exactly application/json (no charset)
    return web.Response(body=json.dumps(data).encode(), status=status, headers={"Content-Type": "application/json"})


# -- Discord's limits ------------------------------------------------------------------------------------

def _len(s) -> int:
    return len(s or "")


def message_errors(d: dict) -> list[str]:
    """What Discord would reject in a message payload (content, embeds, components)."""
    errs = []
    if _len(d.get("content")) > 2000:
        errs.append("content: Must be 2000 or fewer in length.")
    embeds = d.get("embeds") or []
    if len(embeds) > 10:
        errs.append("embeds: Must be 10 or fewer in length.")
    total = 0
    for i, e in enumerate(embeds):
        for key, limit in (("title", 256), ("description", 4096)):
            if _len(e.get(key)) > limit:
                errs.append(f"embeds.{i}.{key}: Must be {limit} or fewer in length.")
        fields = e.get("fields") or []
        if len(fields) > 25:
            errs.append(f"embeds.{i}.fields: Must be 25 or fewer in length.")
        for j, f in enumerate(fields):
            if not f.get("name") or _len(f["name"]) > 256:
                errs.append(f"embeds.{i}.fields.{j}.name: Must be between 1 and 256 in length.")
            if not f.get("value") or _len(f["value"]) > 1024:
                errs.append(f"embeds.{i}.fields.{j}.value: Must be between 1 and 1024 in length.")
        footer = (e.get("footer") or {}).get("text")
        if _len(footer) > 2048:
            errs.append(f"embeds.{i}.footer.text: Must be 2048 or fewer in length.")
        total += _len(e.get("title")) + _len(e.get("description")) + _len(footer) + _len(
            (e.get("author") or {}).get("name")) + sum(_len(f.get("name")) + _len(f.get("value")) for f in fields)
    if total > 6000:
        errs.append("embeds: Embed size exceeds maximum size of 6000")
    for row in d.get("components") or []:
        for c in row.get("components") or []:
            if _len(c.get("custom_id")) > 100:
                errs.append("components: custom_id must be 100 or fewer in length.")
    return errs


def command_errors(cmds: list[dict]) -> list[str]:
    errs = []
    names = set()
    for c in cmds:
        if not re.fullmatch(r"[-_\w]{1,32}", c.get("name", "")) or c["name"] != c["name"].lower():
            errs.append(f"{c.get('name')}: invalid name")
        if c.get("type", 1) == 1 and not 1 <= _len(c.get("description")) <= 100:
            errs.append(f"{c['name']}: description must be 1-100 characters")
        if c["name"] in names:
            errs.append(f"{c['name']}: duplicate")
        names.add(c["name"])
        for o in c.get("options") or []:
            if not re.fullmatch(r"[-_\w]{1,32}", o.get("name", "")) or not 1 <= _len(o.get("description")) <= 100:
                errs.append(f"{c['name']}.{o.get('name')}: invalid option")
    return errs


# -- state -----------------------------------------------------------------------------------------------

@dataclass
class Interaction:
    id: str
    token: str
    payload: dict
    created: float = field(default_factory=time.monotonic)
    callbacks: list[dict] = field(default_factory=list)  # what the bot posted to /callback
    followups: list[dict] = field(default_factory=list)
    edits: list[dict] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    acked_at: float | None = None
    done: float | None = None  # when the last reply arrived

    @property
    def acked(self) -> bool:
        return bool(self.callbacks)

    def replies(self) -> list[dict]:
        """The visible replies in order: a message callback, followups, and the edits of the original."""
        out = [c["data"] | {"_kind": "callback"} for c in self.callbacks if c.get("type") in (4, 7) and "data" in c]
        return out + [f | {"_kind": "followup"} for f in self.followups] + [e | {"_kind": "edit"} for e in self.edits]


class FakeDiscord:
    """The fake API; start() runs it in a thread, the test methods are synchronous."""

    def __init__(self, token: str = "fake", heartbeat_ms: int = HEARTBEAT_MS) -> None:
        self.token = token
        self.heartbeat_ms = heartbeat_ms
        self.bot_user = user("1000000000000000001", "citebot", bot=True)
        self.app_id = self.bot_user["id"]
        self.guild_id = "1000000000000000100"
        self.channel_id = "1000000000000000200"
        self.owner = user("1000000000000000300", "owner")
        self.member = user("1000000000000000301", "member")
        self.admin = user("1000000000000000302", "admin")
        self.commands: dict[str, list[dict]] = {}  # "global" or guild id -> registered commands
        self.command_puts: list[tuple[str, list[dict]]] = []
        self.interactions: dict[str, Interaction] = {}
        self.messages: dict[str, list[dict]] = {}  # channel id -> messages the bot created there
        self.threads: dict[str, dict] = {}
        self.requests: list[tuple[str, str, int]] = []  # (method, path, status)
        self.rejections: list[tuple[str, str, int, object]] = []
        self.identifies: list[dict] = []
        self.resumes: list[dict] = []
        self.heartbeat_times: list[tuple[int, float]] = []  # (connection number, monotonic time)
        self.connections = 0
        self.faults: list[dict] = []  # pending injected failures, see fail_next
        self.injected: list[tuple[str, str, int]] = []  # (method, path, status) answered by an injected failure
        self.closed_by_bot = 0
        self.session_id = secrets.token_hex(8)
        self.seq = 0
        self.backlog: list[dict] = []  # dispatched events, for RESUME
        self.ws: web.WebSocketResponse | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.ready = threading.Event()

    # -- lifecycle ---------------------------------------------------------------------------------------

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}{API}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    def __enter__(self) -> "FakeDiscord":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> "FakeDiscord":
        threading.Thread(target=self._thread, name="fakediscord", daemon=True).start()
        if not self.ready.wait(10):
            raise RuntimeError("fake Discord did not start")
        return self

    def _thread(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.loop.run_until_complete(self._serve())
        self.ready.set()
        self.loop.run_forever()

    async def _serve(self) -> None:
        app = web.Application(middlewares=[self._record])
        r = app.router
        r.add_get(API + "/users/@me", self.get_me)
        r.add_get(API + "/oauth2/applications/@me", self.get_app)
        r.add_get(API + "/gateway/bot", self.get_gateway)
        r.add_get(API + "/gateway", self.get_gateway)
        r.add_put(API + "/applications/{app}/commands", self.put_commands)
        r.add_put(API + "/applications/{app}/guilds/{guild}/commands", self.put_commands)
        r.add_get(API + "/applications/{app}/commands", self.get_commands)
        r.add_get(API + "/applications/{app}/guilds/{guild}/commands", self.get_commands)
        r.add_post(API + "/interactions/{id}/{token}/callback", self.callback)
        r.add_post(API + "/webhooks/{app}/{token}", self.followup)
        r.add_patch(API + "/webhooks/{app}/{token}/messages/@original", self.edit_original)
        r.add_patch(API + "/webhooks/{app}/{token}/messages/{mid}", self.edit_original)
        r.add_post(API + "/channels/{channel}/messages", self.create_message)
        r.add_post(API + "/channels/{channel}/typing", self.typing)
        r.add_delete(API + "/channels/{channel}/messages/{mid}", self.delete_message)
        r.add_post(API + "/channels/{channel}/messages/{mid}/threads", self.create_thread)
        r.add_get("/gateway", self.gateway)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    def wait_for_bot(self, proc, output, identifies: int, timeout: float = 90) -> None:
        """Block until the bot process has identified `identifies` times and READY was dispatched."""
        deadline = time.monotonic() + timeout
        while len(self.identifies) < identifies or self.seq < 2:
            if proc.poll() is not None:
                raise AssertionError(f"bot exited {proc.returncode}:\n{output()[-3000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"bot not ready:\n{output()[-3000:]}")
            time.sleep(0.05)
        time.sleep(0.5)  # let it process READY and GUILD_CREATE

    def stop(self) -> None:
        if self.loop is None:
            return

        async def shutdown():
            if self.ws is not None:
                await self.ws.close()
            await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)

    def call(self, coro, timeout: float = 10):
        """Run a coroutine on the fake's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def wait_for(self, predicate, timeout: float = 30, what: str = "condition"):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            got = predicate()
            if got:
                return got
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}")

    # -- REST --------------------------------------------------------------------------------------------

    def fail_next(self, method: str, path_pattern: str, count: int = 1, status: int = 429,
                  retry_after: float = 0.3) -> None:
        """Answer the next `count` requests whose method matches and whose path matches the regex with `status`."""
        self.faults.append({"method": method.upper(), "pattern": re.compile(path_pattern), "left": count,
                            "status": status, "retry_after": retry_after})

    def _injected_failure(self, request: web.Request) -> web.Response | None:
        for f in self.faults:
            if f["left"] > 0 and f["method"] == request.method and f["pattern"].search(request.path):
                f["left"] -= 1
                self.injected.append((request.method, request.path, f["status"]))
                if f["status"] == 429:
                    ra = f["retry_after"]
                    return web.Response(
                        body=json.dumps({"message": "You are being rate limited.", "retry_after": ra,
                                         "global": False}).encode(), status=429,
                        # Via: Discord's own 429s come through its proxy; discord.py retries only those
                        headers={"Content-Type": "application/json", "Via": "1.1 google",
                                 "Retry-After": str(max(1, round(ra))),
                                 "X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "0",
                                 "X-RateLimit-Reset": str(time.time() + ra), "X-RateLimit-Reset-After": str(ra),
                                 "X-RateLimit-Bucket": "fake-bucket", "X-RateLimit-Scope": "user"})
                return _json({"message": f"{f['status']}: injected failure", "code": 0}, status=f["status"])
        return None

    @web.middleware
    async def _record(self, request: web.Request, handler):
        failure = self._injected_failure(request)
        if failure is not None:
            self.requests.append((request.method, request.path, failure.status))
            return failure
        if request.path.startswith(API) and not request.path.startswith(API + "/interactions") \
                and not request.path.startswith(API + "/webhooks"):
            if request.headers.get("Authorization") != f"Bot {self.token}":
                self.requests.append((request.method, request.path, 401))
                return _json({"message": "401: Unauthorized", "code": 0}, status=401)
        resp = await handler(request)
        self.requests.append((request.method, request.path, resp.status))
        return resp

    def _error(self, request: web.Request, status: int, code: int, message: str, body=None) -> web.Response:
        self.rejections.append((request.method, request.path, status, body if body is not None else message))
        return _json({"message": message, "code": code, "errors": body or {}}, status=status)

    async def get_me(self, request):
        return _json(self.bot_user)

    async def get_app(self, request):
        return _json({
            "id": self.app_id, "name": "citebot", "description": "", "icon": None, "rpc_origins": [],
            "bot_public": True, "bot_require_code_grant": False, "owner": self.owner, "verify_key": "0" * 64,
            "team": None, "flags": 0, "summary": "", "terms_of_service_url": None, "privacy_policy_url": None,
            "tags": [], "install_params": None, "custom_install_url": None, "role_connections_verification_url": None,
            "interactions_endpoint_url": None, "approximate_guild_count": 1, "redirect_uris": [],
            "bot": self.bot_user})

    async def get_gateway(self, request):
        return _json({"url": self.gateway_url, "shards": 1, "session_start_limit": {
            "total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}})

    async def put_commands(self, request):
        cmds = await request.json()
        scope = request.match_info.get("guild", "global")
        errs = command_errors(cmds)
        if errs:
            return self._error(request, 400, 50035, "Invalid Form Body", errs)
        out = []
        old = {c["name"]: c["id"] for c in self.commands.get(scope, [])}
        for c in cmds:
            c = dict(c)
            c.setdefault("options", [])
            c.update(id=old.get(c["name"], snowflake()), application_id=self.app_id, version=snowflake())
            perms = c.get("default_member_permissions")
            c["default_member_permissions"] = None if perms is None else str(perms)  # Discord returns a string
            c.setdefault("nsfw", False)
            if scope != "global":
                c["guild_id"] = scope
            out.append(c)
        self.commands[scope] = out
        self.command_puts.append((scope, cmds))
        return _json(out)

    async def get_commands(self, request):
        return _json(self.commands.get(request.match_info.get("guild", "global"), []))

    def _interaction(self, request) -> Interaction | None:
        it = self.interactions.get(request.match_info.get("id", ""))
        if it is None:  # webhook routes carry the token only
            it = next((i for i in self.interactions.values() if i.token == request.match_info.get("token")), None)
        if it is None or it.token != request.match_info["token"]:
            return None
        return it

    async def callback(self, request):
        it = self._interaction(request)
        if it is None:
            return self._error(request, 404, 10062, "Unknown interaction")
        body = await request.json()
        if it.acked:
            it.errors.append((400, "already acknowledged"))
            return self._error(request, 400, 40060, "Interaction has already been acknowledged.")
        if time.monotonic() - it.created > ACK_DEADLINE:
            it.errors.append((404, "too late"))
            return self._error(request, 404, 10062, "Unknown interaction")
        data = body.get("data") or {}
        errs = message_errors(data) if body.get("type") in (4, 7) else []
        if errs:
            it.errors.append((400, "; ".join(errs)))
            return self._error(request, 400, 50035, "Invalid Form Body", errs)
        it.callbacks.append(body)
        it.acked_at = time.monotonic()
        if body.get("type") in (4, 7):
            it.done = time.monotonic()
        msg_id = snowflake()
        resp = {"interaction": {"id": it.id, "type": it.payload["type"], "response_message_id": msg_id,
                                "response_message_loading": body.get("type") == 5,
                                "response_message_ephemeral": bool(data.get("flags", 0) & EPHEMERAL)}}
        if body.get("type") in (4, 7):
            resp["resource"] = {"type": body["type"], "message": self._message(it.payload["channel_id"], data, msg_id)}
        else:
            resp["resource"] = {"type": body["type"]}
        return _json(resp)

    async def _message_body(self, request, it, not_acked: tuple[str, int, str]):
        """(body, None) for a valid message to an acknowledged interaction, else (None, the error response
        Discord gives); `not_acked` is (what to record, error code, message) for an unacknowledged one."""
        body = await request.json()
        if not it.acked:
            note, code, message = not_acked
            it.errors.append((400, note))
            return None, self._error(request, 400, code, message)
        errs = message_errors(body)
        if errs:
            it.errors.append((400, "; ".join(errs)))
            return None, self._error(request, 400, 50035, "Invalid Form Body", errs)
        return body, None

    async def followup(self, request):
        it = self._interaction(request)
        if it is None:
            return self._error(request, 404, 10015, "Unknown Webhook")
        body, error = await self._message_body(request, it, ("followup before acknowledgement", 40060,
                                                               "Interaction has not been acknowledged."))
        if error is not None:
            return error
        it.followups.append(body)
        it.done = time.monotonic()
        msg = self._message(it.payload["channel_id"], body)
        msg["webhook_id"] = self.app_id
        return _json(msg)

    async def edit_original(self, request):
        it = self._interaction(request)
        if it is None:
            return self._error(request, 404, 10015, "Unknown Webhook")
        body, error = await self._message_body(request, it, ("edit before acknowledgement", 10008, "Unknown Message"))
        if error is not None:
            return error
        it.edits.append(body)
        it.done = time.monotonic()
        return _json(self._message(it.payload["channel_id"], body))

    def _message(self, channel_id: str, body: dict, msg_id: str | None = None, reference: dict | None = None) -> dict:
        msg = {
            "id": msg_id or snowflake(), "channel_id": channel_id, "guild_id": self.guild_id,
            "author": self.bot_user, "content": body.get("content") or "", "timestamp": iso(),
            "edited_timestamp": None, "tts": False, "mention_everyone": False, "mentions": [], "mention_roles": [],
            "attachments": [], "embeds": body.get("embeds") or [], "pinned": False, "type": 19 if reference else 0,
            "flags": body.get("flags", 0), "components": body.get("components") or [],
            "_allowed_mentions": body.get("allowed_mentions"),
        }
        if reference:
            msg["message_reference"] = reference
        return msg

    async def create_message(self, request):
        channel = request.match_info["channel"]
        body = await request.json()
        errs = message_errors(body)
        if errs:
            return self._error(request, 400, 50035, "Invalid Form Body", errs)
        msg = self._message(channel, body, reference=body.get("message_reference"))
        msg["_at"] = time.monotonic()  # when it arrived, for latency figures (not sent back)
        self.messages.setdefault(channel, []).append(msg)
        return _json({k: v for k, v in msg.items() if not k.startswith("_")})

    async def typing(self, request):
        return web.Response(status=204)

    async def delete_message(self, request):
        return web.Response(status=204)

    async def create_thread(self, request):
        body = await request.json()
        if not 1 <= _len(body.get("name")) <= 100:
            return self._error(request, 400, 50035, "Invalid Form Body", ["name: Must be between 1 and 100"])
        thread = {
            "id": snowflake(), "guild_id": self.guild_id, "parent_id": request.match_info["channel"],
            "owner_id": self.bot_user["id"], "name": body["name"], "type": 11, "last_message_id": None,
            "rate_limit_per_user": 0, "message_count": 0, "member_count": 1, "flags": 0, "total_message_sent": 0,
            "thread_metadata": {"archived": False, "auto_archive_duration": body.get("auto_archive_duration", 1440),
                                "archive_timestamp": iso(), "locked": False},
            "_from_message": request.match_info["mid"],
        }
        self.threads[thread["id"]] = thread
        public = {k: v for k, v in thread.items() if not k.startswith("_")}
        await self._dispatch("THREAD_CREATE", public | {"newly_created": True})
        return _json(public, status=201)

    # -- gateway -----------------------------------------------------------------------------------------

    async def gateway(self, request):
        ws = web.WebSocketResponse(heartbeat=None, max_msg_size=0)
        await ws.prepare(request)
        self.ws = ws
        self.connections += 1
        conn = self.connections
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": self.heartbeat_ms}, "s": None, "t": None})
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            data = json.loads(msg.data)
            op = data.get("op")
            if op == 1:
                self.heartbeat_times.append((conn, time.monotonic()))
                await ws.send_json({"op": 11, "d": None, "s": None, "t": None})
            elif op == 2:
                if data["d"].get("token") != self.token:
                    await ws.close(code=4004, message=b"Authentication failed.")
                    break
                self.identifies.append(data["d"])
                self.session_id = secrets.token_hex(8)
                self.seq = 0
                self.backlog.clear()
                await self._dispatch("READY", {
                    "v": 10, "user": self.bot_user, "guilds": [{"id": self.guild_id, "unavailable": True}],
                    "session_id": self.session_id, "resume_gateway_url": self.gateway_url,
                    "application": {"id": self.app_id, "flags": 0}, "private_channels": [], "relationships": []})
                await self._dispatch("GUILD_CREATE", self.guild_payload())
            elif op == 6:
                d = data["d"]
                if d.get("token") != self.token or d.get("session_id") != self.session_id:
                    await ws.send_json({"op": 9, "d": False, "s": None, "t": None})
                    continue
                self.resumes.append(d)
                for ev in self.backlog:
                    if ev["s"] > (d.get("seq") or 0):
                        await ws.send_json(ev)
                self.seq += 1
                await ws.send_json({"op": 0, "t": "RESUMED", "s": self.seq, "d": {}})
        if self.ws is ws:
            self.ws = None
        if ws.close_code == 1000:
            self.closed_by_bot += 1
        return ws

    async def _dispatch(self, event: str, data: dict) -> None:
        self.seq += 1
        ev = {"op": 0, "t": event, "s": self.seq, "d": data}
        self.backlog.append(ev)
        if self.ws is not None and not self.ws.closed:
            await self.ws.send_json(ev)

    def guild_payload(self) -> dict:
        g = self.guild_id
        return {
            "id": g, "name": "Test server", "icon": None, "splash": None, "discovery_splash": None, "banner": None,
            "owner_id": self.owner["id"], "afk_channel_id": None, "afk_timeout": 300, "verification_level": 0,
            "default_message_notifications": 0, "explicit_content_filter": 0, "mfa_level": 0, "nsfw_level": 0,
            "premium_tier": 0, "premium_subscription_count": 0, "preferred_locale": "en-US", "features": [],
            "system_channel_id": None, "system_channel_flags": 0, "rules_channel_id": None,
            "public_updates_channel_id": None, "vanity_url_code": None, "description": None, "max_members": 500000,
            "max_video_channel_users": 25, "application_id": None, "emojis": [], "stickers": [], "large": False,
            "member_count": 4, "unavailable": False, "joined_at": iso(), "voice_states": [], "presences": [],
            "stage_instances": [], "guild_scheduled_events": [], "threads": [], "soundboard_sounds": [],
            "roles": [{"id": g, "name": "@everyone", "permissions": str(0x4000 | 0x800 | 0x400 | 0x10000), "position": 0,
                       "color": 0, "hoist": False, "managed": False, "mentionable": False, "flags": 0}],
            "channels": [{"id": self.channel_id, "type": 0, "guild_id": g, "name": "general", "position": 0,
                          "permission_overwrites": [], "nsfw": False, "parent_id": None, "topic": None,
                          "last_message_id": None, "rate_limit_per_user": 0}],
            "members": [{"user": self.bot_user, "roles": [], "joined_at": iso(), "deaf": False, "mute": False,
                         "flags": 0}],
        }

    def drop_connection(self, code: int = 4000) -> None:
        """Close the gateway connection as Discord does when it wants the client to reconnect and resume."""
        async def drop():
            if self.ws is not None:
                await self.ws.close(code=code, message=b"dropped by the test")
        self.call(drop())

    def send_reconnect(self) -> None:
        """Ask the client to reconnect (op 7 RECONNECT); it should resume the session."""
        async def send():
            if self.ws is not None:
                await self.ws.send_json({"op": 7, "d": None, "s": None, "t": None})
        self.call(send())

    def invalidate_session(self, resumable: bool = False) -> None:
        """Invalidate the session (op 9); with resumable false the client must identify again."""
        async def send():
            if not resumable:
                self.session_id = secrets.token_hex(8)  # a RESUME of the old session will fail too
            if self.ws is not None:
                await self.ws.send_json({"op": 9, "d": resumable, "s": None, "t": None})
        self.call(send())

    def heartbeat_gaps(self) -> list[float]:
        """Seconds between consecutive heartbeats on the same connection."""
        gaps = []
        for (c1, t1), (c2, t2) in zip(self.heartbeat_times, self.heartbeat_times[1:]):
            if c1 == c2:
                gaps.append(t2 - t1)
        return gaps

    # -- what users do -----------------------------------------------------------------------------------

    def _member(self, who: dict, permissions: int, roles=()) -> dict:
        return {"user": who, "roles": [str(r) for r in roles], "joined_at": iso(), "deaf": False, "mute": False,
                "flags": 0, "permissions": str(permissions), "nick": None, "avatar": None}

    def _base_interaction(self, kind: int, data: dict, who: dict, permissions: int, roles=(),
                          channel_id: str | None = None, message: dict | None = None) -> Interaction:
        iid = snowflake()
        token = "itok-" + secrets.token_hex(16)
        payload = {
            "id": iid, "application_id": self.app_id, "type": kind, "data": data, "guild_id": self.guild_id,
            "channel_id": channel_id or self.channel_id,
            "channel": {"id": channel_id or self.channel_id, "type": 0, "guild_id": self.guild_id, "name": "general",
                        "position": 0, "permission_overwrites": [], "nsfw": False, "parent_id": None},
            "member": self._member(who, permissions, roles), "token": token, "version": 1,
            "app_permissions": str((1 << 40) - 1), "locale": "en-US", "guild_locale": "en-US", "entitlements": [],
            "authorizing_integration_owners": {"0": self.guild_id}, "context": 0, "attachment_size_limit": 8388608,
        }
        if message is not None:
            payload["message"] = message
        it = Interaction(iid, token, payload)
        self.interactions[iid] = it
        return it

    def slash(self, name: str, who: dict | None = None, permissions: int = 0, roles=(), **options) -> Interaction:
        """A user runs a registered slash command; returns the interaction to inspect."""
        cmd = next((c for scope in self.commands.values() for c in scope if c["name"] == name), None)
        if cmd is None:
            raise AssertionError(f"/{name} is not registered")
        kinds = {o["name"]: o["type"] for o in cmd.get("options", [])}
        opts = [{"name": k, "type": kinds[k], "value": v} for k, v in options.items()]
        it = self._base_interaction(2, {"id": cmd["id"], "name": name, "type": 1, "options": opts,
                                        "guild_id": self.guild_id}, who or self.member, permissions, roles)
        self.call(self._dispatch("INTERACTION_CREATE", it.payload))
        return it

    def click(self, message: dict, custom_id: str, who: dict | None = None, permissions: int = 0) -> Interaction:
        it = self._base_interaction(3, {"custom_id": custom_id, "component_type": 2}, who or self.member, permissions,
                                    channel_id=message["channel_id"],
                                    message={k: v for k, v in message.items() if not k.startswith("_")})
        self.call(self._dispatch("INTERACTION_CREATE", it.payload))
        return it

    def say(self, content: str, who: dict | None = None, channel_id: str | None = None,
            mention_bot: bool = True) -> dict:
        """A user posts a message (mentioning the bot unless told not to)."""
        who = who or self.member
        msg = {
            "id": snowflake(), "channel_id": channel_id or self.channel_id, "guild_id": self.guild_id,
            "author": who, "member": {"roles": [], "joined_at": iso(), "deaf": False, "mute": False, "flags": 0},
            "content": content, "timestamp": iso(), "edited_timestamp": None, "tts": False,
            "mention_everyone": False, "mentions": [self.bot_user | {"member": {"roles": [], "joined_at": iso(),
                                                                                 "deaf": False, "mute": False,
                                                                                 "flags": 0}}] if mention_bot else [],
            "mention_roles": [], "attachments": [], "embeds": [], "pinned": False, "type": 0, "flags": 0,
            "components": [],
        }
        self.call(self._dispatch("MESSAGE_CREATE", msg))
        return msg
