"""What the bot does in Slack around a domain call, one module per feature.

A listener calls one flow; the flow calls the domain, then posts through the gateway.
`declare` opens war rooms; `changes` publishes what a domain change did (room, card,
topic, broadcast); `card` keeps the pinned card current; `updates` runs stakeholder
update drafts; `stakeholders` answers people outside the room; `timeline` shows, exports
and annotates the record; `review` stores what the team writes in the review; `followups`
runs action items and the problem record; `knowledge` searches past incidents; `room`
holds the steps several flows share.
"""
