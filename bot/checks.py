"""Who may do what: the server allow-list and the admin check, as functions returning a refusal or None."""

from __future__ import annotations

import discord

from bot.settings import DiscordSettings

NOT_HERE = "This bot only answers in the servers it was set up for."
ADMIN_ONLY = "Only server managers (Manage Server) or the bot's admins can do that."
NO_DMS = "That works only in a server, not in direct messages."


def guild_refusal(guild_id: int | None, settings: DiscordSettings) -> str | None:
    if settings.allowed_guild_ids and guild_id not in settings.allowed_guild_ids:
        return NOT_HERE
    return None


def role_ids(user: discord.abc.User) -> set[int]:
    # Member.roles drops roles missing from the cache; the ids sent with the interaction are enough here.
    ids = {r.id for r in getattr(user, "roles", ()) or ()}
    ids.update(getattr(user, "_roles", ()) or ())
    return ids


def admin_refusal(interaction: discord.Interaction, settings: DiscordSettings) -> str | None:
    """None when the user may run admin commands here, else the sentence to tell them."""
    if interaction.guild_id is None:
        return NO_DMS
    refusal = guild_refusal(interaction.guild_id, settings)
    if refusal:
        return refusal
    user = interaction.user
    if user.id in settings.admin_user_ids:
        return None
    perms = interaction.permissions
    if perms.manage_guild or perms.administrator:
        return None
    if role_ids(user) & set(settings.admin_role_ids):
        return None
    return ADMIN_ONLY
