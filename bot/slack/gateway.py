"""Every Web API call the bot makes goes through here.

Retries: the SDK's retry handlers retry 429s (honouring Retry-After), 5xx answers and
dropped connections with bounded back-off. What still fails raises `SlackCallFailed`,
whose message says what could not be done; callers report it in the war room.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import aiohttp
from aiolimiter import AsyncLimiter
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.settings_errors import ConfigError

log = logging.getLogger(__name__)
T = TypeVar("T")

INVITE_BATCH = 30  # conversations.invite takes at most 30 users per call
# Slack's answers for a token it will never accept: no point starting with it.
REFUSED_TOKEN = {
    "invalid_auth",
    "not_authed",
    "token_revoked",
    "token_expired",
    "account_inactive",
    "not_allowed_token_type",
}
_MAX_NAME_ATTEMPTS = 20
# conversations.history and .replies are Tier 3 (about 50 calls a minute, in bursts) for an
# app a workspace builds for itself. Slack's Marketplace-less *distributed* apps get far
# less (1 a minute since 2025), which this bot, installed per workspace, is not.
TIER3_PER_MINUTE = 50
HISTORY_PAGE = 999  # messages per call, Slack's most: under a per-call limit, fewer calls win
# Looking for the bot's own recent message: the newest pages only, so the look stays cheap.
OWN_MESSAGE_PAGE, OWN_MESSAGE_PAGES = 200, 3
CHANNEL_LIST_PAGE = 1000  # conversations.list's most per call
POST_ATTEMPTS = 3  # a post carrying metadata, its answer lost and the post not found


# Set while a call runs that Slack may have carried out though its answer was lost, and that
# must not be sent again blind (a post carrying metadata): the gateway looks first instead.
_LOOK_BEFORE_RESENDING: ContextVar[bool] = ContextVar("look_before_resending", default=False)


class ConnectionErrorRetryHandler(AsyncConnectionErrorRetryHandler):
    """The SDK's handler, except that a call marked look-before-resending is re-sent only
    when it never reached Slack (the connection could not be opened)."""

    async def _can_retry_async(self, *, state, request, response=None, error=None) -> bool:
        if _LOOK_BEFORE_RESENDING.get() and not isinstance(error, aiohttp.ClientConnectorError):
            return False
        return await super()._can_retry_async(
            state=state, request=request, response=response, error=error
        )


def retry_handlers() -> list:
    return [
        AsyncRateLimitErrorRetryHandler(max_retry_count=3),
        AsyncServerErrorRetryHandler(max_retry_count=2),
        ConnectionErrorRetryHandler(max_retry_count=2),
    ]


def make_client(
    token: str, base_url: str, client_class: Callable[..., AsyncWebClient] = AsyncWebClient
) -> AsyncWebClient:
    return client_class(token=token, base_url=base_url, retry_handlers=retry_handlers(), timeout=15)


def _carries(metadata: dict | None, event_type: str, payload: dict) -> bool:
    """Message metadata of `event_type` whose event_payload holds every item of `payload`."""
    if not metadata or metadata.get("event_type") != event_type:
        return False
    carried = metadata.get("event_payload") or {}
    return all(carried.get(key) == value for key, value in payload.items())


class SlackCallFailed(Exception):
    """A Web API call failed after retries. `error` is Slack's error code or the transport
    error; `answer_lost`: the call reached Slack but no answer came back (it may be done)."""

    def __init__(self, what: str, error: str, answer_lost: bool = False):
        self.what, self.error, self.answer_lost = what, error, answer_lost
        super().__init__(f"{what}: {error}")


@dataclass
class Problems:
    """Side calls that failed during a multi-step action, to be reported in the room."""

    items: list[str] = field(default_factory=list)

    def add(self, failure: SlackCallFailed | str) -> None:
        self.items.append(str(failure))

    async def collect(self, call: Awaitable[T]) -> T | None:
        """Await a side call; a failure is recorded instead of aborting the whole action."""
        try:
            return await call
        except SlackCallFailed as failure:
            self.add(failure)
            return None

    def __bool__(self) -> bool:
        return bool(self.items)


async def _call(what: str, call: Awaitable[T]) -> T:
    with _failing_as(what):
        return await call


@contextmanager
def _failing_as(what: str) -> Iterator[None]:
    """Slack's refusals and transport errors inside as `SlackCallFailed(what, …)`."""
    try:
        yield
    except SlackApiError as error:
        data = error.response.data
        reason = (
            data.get("error") if isinstance(data, dict) else f"HTTP {error.response.status_code}"
        )
        raise SlackCallFailed(what, str(reason)) from error
    except (aiohttp.ClientError, TimeoutError) as error:
        reached = not isinstance(error, aiohttp.ClientConnectorError)
        reason = f"Slack did not answer ({type(error).__name__})"
        raise SlackCallFailed(what, reason, answer_lost=reached) from error


@dataclass(frozen=True)
class BotIdentity:
    """Who the bot is in Slack, as `auth.test` says: learnt once, then used for every request
    (Bolt's authorization and the timeline's permalinks) without asking Slack again."""

    team_id: str | None
    enterprise_id: str | None
    bot_id: str | None
    bot_user_id: str | None
    workspace_url: str | None


# Slack takes files up to 1 GB; the calls' own timeout is for answers, not transfers.
UPLOAD_TIMEOUT = aiohttp.ClientTimeout(total=600)


class SlackGateway:
    def __init__(self, client: AsyncWebClient):
        self.client = client
        self.identity: BotIdentity | None = None  # set once auth.test has answered
        # One limiter per rate-limited method, shared by every caller (all the war rooms).
        self._tier3 = {
            method: AsyncLimiter(TIER3_PER_MINUTE, 60)
            for method in ("conversations.history", "conversations.replies")
        }

    async def open(self) -> None:
        """One connection pool for all calls (the SDK otherwise opens a session per call)."""
        self.client.session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.client.timeout)
        )

    async def close(self) -> None:
        if self.client.session is not None:
            await self.client.session.close()
            self.client.session = None

    async def check_bot_token(self) -> str | None:
        """At startup: a token Slack refuses stops the bot, naming the variable. Slack being
        unreachable does not: the bot starts and the calls retry when they are needed.
        Returns the workspace URL (https://<workspace>.slack.com/), None while Slack cannot say."""
        try:
            return (await self._identify()).workspace_url
        except SlackCallFailed as failure:
            if failure.error in REFUSED_TOKEN:
                raise ConfigError(
                    [
                        f"SLACK_BOT_TOKEN: Slack refused it ({failure.error}); use the app's bot token (xoxb-…)"
                    ]
                ) from failure
            log.warning("could not check SLACK_BOT_TOKEN now (%s); starting anyway", failure)
            return None

    async def workspace_url(self) -> str | None:
        """https://<workspace>.slack.com/ (auth.test); None while Slack cannot say."""
        try:
            return (await self._identify()).workspace_url
        except SlackCallFailed as failure:
            log.warning("could not learn the workspace URL (%s); no permalinks for now", failure)
            return None

    async def _identify(self) -> BotIdentity:
        response = await _call("check SLACK_BOT_TOKEN", self.client.auth_test())
        self.identity = BotIdentity(
            team_id=response.get("team_id"),
            enterprise_id=response.get("enterprise_id"),
            bot_id=response.get("bot_id"),
            bot_user_id=response.get("user_id"),
            workspace_url=response.get("url"),
        )
        return self.identity

    async def create_channel(self, names: list[str], private: bool) -> tuple[str, str]:
        """Create the first free name of `names`; returns (channel ID, name)."""
        for name in names[:_MAX_NAME_ATTEMPTS]:
            try:
                response = await _call(
                    f"create channel #{name}",
                    self.client.conversations_create(name=name, is_private=private),
                )
            except SlackCallFailed as failure:
                if failure.error == "name_taken":
                    continue
                raise
            return response["channel"]["id"], response["channel"]["name"]
        raise SlackCallFailed("create the war room channel", "every candidate name is taken")

    async def expand_invitees(self, ids: list[str], problems: Problems) -> list[str]:
        """User IDs as they are; user groups (S…) replaced by their members."""
        users = [i for i in ids if not i.startswith("S")]
        groups = [i for i in ids if i.startswith("S")]
        members = await asyncio.gather(
            *(
                problems.collect(
                    _call(f"expand user group {g}", self.client.usergroups_users_list(usergroup=g))
                )
                for g in groups
            )
        )
        for response in members:
            if response is not None:
                users.extend(response.get("users", []))
        return list(dict.fromkeys(users))

    async def invite(self, channel: str, users: list[str], problems: Problems) -> list[str]:
        """Invite in batches; when a batch fails, invite one by one so one bad ID costs one user."""
        users = list(dict.fromkeys(u for u in users if u))
        batches = [users[i : i + INVITE_BATCH] for i in range(0, len(users), INVITE_BATCH)]
        invited: list[str] = []
        for batch in batches:
            try:
                await self._invite(channel, batch)
                invited.extend(batch)
                continue
            except SlackCallFailed as failure:
                if len(batch) == 1:
                    problems.add(SlackCallFailed(f"invite <@{batch[0]}>", failure.error))
                    continue
            results = await asyncio.gather(
                *(problems.collect(self._invite_one(channel, user)) for user in batch)
            )
            invited.extend(user for user, ok in zip(batch, results, strict=True) if ok)
        return invited

    async def _invite_one(self, channel: str, user: str) -> bool:
        await self._invite(channel, [user], what=f"invite <@{user}>")
        return True

    async def _invite(self, channel: str, users: list[str], what: str = "invite") -> None:
        try:
            await _call(what, self.client.conversations_invite(channel=channel, users=users))
        except SlackCallFailed as failure:
            if failure.error != "already_in_channel":
                raise

    async def set_topic(self, channel: str, topic: str) -> None:
        await _call(
            "set the topic", self.client.conversations_setTopic(channel=channel, topic=topic)
        )

    async def archive(self, channel: str) -> None:
        try:
            await _call("archive the war room", self.client.conversations_archive(channel=channel))
        except SlackCallFailed as failure:
            if failure.error != "already_archived":
                raise

    async def members(self, channel: str) -> set[str]:
        """Everyone in a channel (conversations.members, paged by the SDK)."""

        async def every_page() -> set[str]:
            members: set[str] = set()
            async for page in await self.client.conversations_members(channel=channel, limit=200):
                members.update(page.get("members", []))
            return members

        return await _call(f"list the members of <#{channel}>", every_page())

    async def post(
        self,
        channel: str,
        text: str,
        blocks: list | None = None,
        metadata: dict | None = None,
    ) -> str:
        """Post a message; returns its ts. `metadata` is Slack's message metadata
        (`event_type`, `event_payload`), by which `own_message` finds the message again: a
        post carrying it whose answer is lost is looked for before it is sent again."""
        if metadata is None:
            return await self._post(channel, text, blocks, None)
        for _ in range(POST_ATTEMPTS - 1):
            try:
                return await self._post(channel, text, blocks, metadata)
            except SlackCallFailed as failure:
                if not failure.answer_lost:
                    raise
            event_type, payload = metadata["event_type"], metadata.get("event_payload", {})
            found = await self.own_message(channel, event_type, payload)
            if found:
                return found
        return await self._post(channel, text, blocks, metadata)

    async def _post(
        self, channel: str, text: str, blocks: list | None, metadata: dict | None
    ) -> str:
        marked = _LOOK_BEFORE_RESENDING.set(metadata is not None)
        try:
            response = await _call(
                f"post in <#{channel}>",
                self.client.chat_postMessage(
                    channel=channel,
                    text=text,
                    blocks=blocks,
                    unfurl_links=False,
                    metadata=metadata,
                ),
            )
        finally:
            _LOOK_BEFORE_RESENDING.reset(marked)
        return response["ts"]

    async def own_message(
        self, channel: str, event_type: str, payload: dict, oldest: str | None = None
    ) -> str | None:
        """The ts of the bot's own recent message in `channel` whose metadata has
        `event_type` and an event_payload containing `payload`'s items: a post whose answer
        was lost is recognised instead of repeated. Reads the newest few pages only."""
        ours = await self.bot_ids()
        call = self.client.conversations_history(
            channel=channel, oldest=oldest, limit=OWN_MESSAGE_PAGE, include_all_metadata=True
        )
        pages = self._pages("look for the bot's earlier message", "conversations.history", call)
        try:
            read = 0
            async for messages in pages:
                for message in messages:
                    if ours & {message.get("bot_id"), message.get("user")} and _carries(
                        message.get("metadata"), event_type, payload
                    ):
                        return message["ts"]
                read += 1
                if read >= OWN_MESSAGE_PAGES:
                    return None
        finally:
            await pages.aclose()
        return None

    async def channel_named(self, name: str) -> str | None:
        """The ID of the channel called `name` that the bot created (conversations.list,
        public and private, paged by the SDK): a channel whose create answer was lost is
        adopted rather than made twice. None when there is no such channel."""

        async def find() -> str | None:
            async for page in await self.client.conversations_list(
                types="public_channel,private_channel", limit=CHANNEL_LIST_PAGE
            ):
                for channel in page.get("channels", []):
                    if channel.get("name") == name and channel.get("creator") in ours:
                        return channel["id"]
            return None

        ours = await self.bot_ids()
        return await _call(f"look for #{name}", find())

    async def post_ephemeral(
        self, channel: str, user: str, text: str, blocks: list | None = None
    ) -> None:
        await _call(
            "answer privately",
            self.client.chat_postEphemeral(channel=channel, user=user, text=text, blocks=blocks),
        )

    async def update(self, channel: str, ts: str, text: str, blocks: list | None = None) -> None:
        await _call(
            "update the message",
            self.client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks),
        )

    async def pin(self, channel: str, ts: str) -> None:
        try:
            await _call(
                "pin the incident card", self.client.pins_add(channel=channel, timestamp=ts)
            )
        except SlackCallFailed as failure:
            if failure.error != "already_pinned":
                raise

    async def open_view(self, trigger_id: str, view: dict) -> None:
        await _call("open the form", self.client.views_open(trigger_id=trigger_id, view=view))

    async def update_view(self, view_id: str, view: dict, hash_: str | None = None) -> None:
        await _call(
            "update the form", self.client.views_update(view_id=view_id, view=view, hash=hash_)
        )

    async def publish_home(self, user_id: str, view: dict) -> None:
        await _call("show the Home tab", self.client.views_publish(user_id=user_id, view=view))

    async def user_info(self, user_id: str) -> dict | None:
        """Slack's user object; None when Slack knows no such user (or may not show them)."""
        try:
            response = await _call("look up the user", self.client.users_info(user=user_id))
        except SlackCallFailed as failure:
            if failure.error in ("user_not_found", "user_not_visible"):
                return None
            raise
        return response["user"]

    async def list_users(self) -> list[dict]:
        """Every member of the workspace (users.list, paged by the SDK)."""

        async def every_page() -> list[dict]:
            members: list[dict] = []
            async for page in await self.client.users_list(limit=200):
                members.extend(page.get("members", []))
            return members

        return await _call("look up users", every_page())

    async def bot_ids(self) -> frozenset[str]:
        """The bot's own user and bot IDs (auth.test, once), to tell its own messages apart."""
        identity = self.identity or await self._identify()
        return frozenset({identity.bot_user_id, identity.bot_id} - {None})

    def history(self, channel: str, oldest: str) -> AsyncIterator[list[dict]]:
        """Pages of the messages said in `channel` after `oldest`, newest first."""
        return self._pages(
            "read the channel's history",
            "conversations.history",
            self.client.conversations_history(channel=channel, oldest=oldest, limit=HISTORY_PAGE),
        )

    def replies(self, channel: str, thread_ts: str, oldest: str) -> AsyncIterator[list[dict]]:
        """Pages of a thread: its parent, then its replies after `oldest`."""
        call = self.client.conversations_replies(
            channel=channel, ts=thread_ts, oldest=oldest, limit=HISTORY_PAGE
        )
        return self._pages("read a thread", "conversations.replies", call)

    async def _pages(
        self, what: str, method: str, first_call: Awaitable
    ) -> AsyncIterator[list[dict]]:
        """Every page of a paged call (the SDK follows the cursor), each within the method's
        rate limit; a 429 that still happens is waited out by the SDK's retry handler."""
        limiter = self._tier3[method]
        with _failing_as(what):
            await limiter.acquire()
            response = await first_call
            async for page in response:
                yield page.get("messages", [])
                if page.get("response_metadata", {}).get("next_cursor"):
                    await limiter.acquire()  # for the next page, which the SDK fetches

    async def upload_file(
        self, channel: str, path: Path, filename: str, title: str, comment: str
    ) -> None:
        """Share a file in a channel: files_upload_v2's three steps, with the file streamed
        from disk. The SDK's own reads the whole file into memory first (a million-entry
        timeline is 160 MB) and holds the event loop while it does."""
        what = f"upload {filename}"
        issued = await _call(
            what,
            self.client.files_getUploadURLExternal(filename=filename, length=path.stat().st_size),
        )
        await self._send_file(what, issued["upload_url"], path)
        await _call(
            what,
            self.client.files_completeUploadExternal(
                files=[{"id": issued["file_id"], "title": title}],
                channel_id=channel,
                initial_comment=comment,
            ),
        )

    async def _send_file(self, what: str, upload_url: str, path: Path) -> None:
        """POST the file to the URL Slack issued for it, read in chunks off the event loop."""
        session = self.client.session or aiohttp.ClientSession()
        try:
            with path.open("rb") as file:
                async with session.post(upload_url, data=file, timeout=UPLOAD_TIMEOUT) as answer:
                    if answer.status != 200:
                        raise SlackCallFailed(what, f"HTTP {answer.status} for the file")
        except (aiohttp.ClientError, TimeoutError) as error:
            reason = f"Slack did not take the file ({type(error).__name__})"
            raise SlackCallFailed(what, reason) from error
        finally:
            if session is not self.client.session:
                await session.close()

    async def respond(
        self, response_url: str, text: str, blocks: list | None = None, replace: bool = False
    ) -> None:
        """Answer the person who ran a command, privately, through the command's response_url."""
        webhook = AsyncWebhookClient(
            response_url, retry_handlers=retry_handlers(), timeout=15, session=self.client.session
        )
        try:
            response = await webhook.send(
                text=text,
                blocks=blocks,
                response_type="ephemeral",
                replace_original=replace or None,
            )
        except (aiohttp.ClientError, TimeoutError) as error:
            raise SlackCallFailed("answer the command", type(error).__name__) from error
        if response.status_code != 200:
            raise SlackCallFailed(
                "answer the command", f"HTTP {response.status_code} {response.body}"
            )
