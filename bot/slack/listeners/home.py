"""The Home tab: published when someone opens it; its Declare button opens the declare form.

The update drafts it lists carry the war room's own Approve / Edit / Skip buttons, so
those clicks reach the listeners in `actions` whichever surface they came from.
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.slack.flows.reply import Reply
from bot.slack.listeners import Deps


def register(app: AsyncApp, deps: Deps) -> None:
    async def home_opened(event: dict) -> None:
        # Slack sends this for the Messages and About tabs too; only Home shows our view.
        if event.get("tab") == "home":
            deps.tasks.spawn(deps.home.opened(event["user"]), name="publish Home tab")

    async def home_declare(ack: AsyncAck, body: dict) -> None:
        await ack()
        # No channel and no response_url here: the declarer's answer comes as a DM.
        work = deps.declaring.open_form(body["trigger_id"], {}, None, None)
        deps.run_for(Reply(deps.gateway, body["user"]["id"]), work, "declare form (Home)")

    app.event("app_home_opened")(home_opened)
    app.action("home_declare")(home_declare)
