"""One feature per cog; each module has `async def setup(bot)` so the client loads it as an extension."""
