"""How to answer the person who asked, privately."""

from __future__ import annotations

from dataclasses import dataclass

from bot.slack.gateway import SlackCallFailed, SlackGateway


@dataclass(frozen=True)
class Reply:
    """How to answer one person privately: the command's response_url, else an ephemeral."""

    gateway: SlackGateway
    user: str
    response_url: str | None = None
    channel: str | None = None

    async def __call__(self, text: str, blocks: list | None = None, replace: bool = False) -> None:
        if self.response_url:
            await self.gateway.respond(self.response_url, text, blocks, replace)
            return
        if self.channel:
            try:
                await self.gateway.post_ephemeral(self.channel, self.user, text, blocks)
                return
            except SlackCallFailed as failure:
                # Someone viewing a public channel without having joined it: DM them instead.
                # An archived room takes no ephemeral either: a DM then too.
                if failure.error not in (
                    "user_not_in_channel",
                    "channel_not_found",
                    "not_in_channel",
                    "is_archived",
                ):
                    raise
        await self.gateway.post(self.user, text, blocks)  # a DM from the app
