"""The review draft's message in the war room (with its Fill in button) and the form."""

from __future__ import annotations

import json

from bot.incidents.lessons import MAX_SECTION, WrittenReview
from bot.slack.blocks.common import context, plain, section, slack_date
from bot.store.models import Incident


def section_block_id(index: int) -> str:
    return f"section_{index}"


def review_message(incident: Incident, review: WrittenReview) -> tuple[str, list]:
    """Posted under the draft's file; edited in place each time the review is saved."""
    text = (
        f"📝 Post-incident review of {incident.reference}: the draft above is made from the "
        "record. Fill in the impact, the cause and the lessons together, add action items "
        "with `/incident action`, then `/incident close`."
    )
    if review.version:
        state = (
            f"Written sections: version {review.version}, last edited by "
            f"<@{review.edited_by}> {slack_date(review.edited_at)}."
        )
    else:
        state = "Nothing written yet."
    blocks = [
        section(text),
        context(state),
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "review_fill",
                    "text": plain("Fill in"),
                    "style": "primary",
                    "value": str(incident.id),
                }
            ],
        },
    ]
    return text, blocks


def review_modal(incident: Incident, review: WrittenReview, channel_id: str | None) -> dict:
    """One box per section the playbook names, holding what is stored."""
    blocks = []
    for index, (name, written) in enumerate(review.sections.items()):
        element = {
            "type": "plain_text_input",
            "action_id": "value",
            "multiline": True,
            "max_length": MAX_SECTION,
        }
        if written:
            element["initial_value"] = written
        blocks.append(
            {
                "type": "input",
                "block_id": section_block_id(index),
                "optional": True,
                "label": plain(name, 2000),
                "element": element,
            }
        )
    return {
        "type": "modal",
        "callback_id": "review_fill",
        "title": plain(f"Review {incident.reference}", 24),
        "submit": plain("Save", 24),
        "close": plain("Cancel", 24),
        "private_metadata": json.dumps(
            {"incident": incident.id, "channel": channel_id, "sections": list(review.sections)}
        ),
        "blocks": blocks,
    }
