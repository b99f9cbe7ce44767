"""Text as Slack's clients send it: what a person typed, with `&`, `<` and `>` escaped as
`&amp;`, `&lt;` and `&gt;`, except in Slack's own markup, which the client wrote for them
(picking someone from the @ menu gives `<@U…>`, a channel `<#C…|name>`, a pasted link
`<https://…>`). Message and slash-command text arrive like this; modal inputs arrive raw."""

from __future__ import annotations

import re

# Slack's references: people, channels, user groups, broadcasts, links (with labels or not).
_MARKUP = re.compile(
    r"<(?:@[UW][A-Z0-9]+(?:\|[^<>]*)?"
    r"|#C[A-Z0-9]+(?:\|[^<>]*)?"
    r"|!subteam\^S[A-Z0-9]+(?:\|[^<>]*)?"
    r"|!(?:here|channel|everyone)(?:\|[^<>]*)?"
    r"|(?:https?://|mailto:)[^<>|\s]+(?:\|[^<>]*)?)>"
)


def _escape(words: str) -> str:
    return words.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def as_slack_sends(typed: str) -> str:
    """`p99 > 5s & <@U1> knows` -> `p99 &gt; 5s &amp; <@U1> knows`."""
    out, last = [], 0
    for match in _MARKUP.finditer(typed):
        out += [_escape(typed[last : match.start()]), _label_escaped(match[0])]
        last = match.end()
    out.append(_escape(typed[last:]))
    return "".join(out)


def _label_escaped(reference: str) -> str:
    """A label is the person's words too: Slack escapes `&` in it (`<https://x|R&amp;D>`)."""
    target, bar, label = reference[1:-1].partition("|")
    return f"<{target}{bar}{label.replace('&', '&amp;')}>" if bar else reference
