"""Tables. Incidents, who held which role when, and the append-only timeline."""

from datetime import date, datetime

from sqlalchemy import JSON, Column, Index, UniqueConstraint, false, text
from sqlmodel import Field, SQLModel

from bot.store.types import UTCDateTime, utcnow


class Incident(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    title: str
    impact: str = ""
    severity: str
    status: str = "investigating"
    playbook: str
    private: bool = False
    # An exercise: kept out of the executives' channels, the status page, statistics and search.
    drill: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    channel_id: str | None = Field(default=None, unique=True)
    channel_name: str | None = None
    card_ts: str | None = None
    card_pinned: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    # Bumped by every change the card shows: an edit rendered from an older version is
    # followed by another, so the card never ends older than the incident (two replicas).
    card_version: int = Field(default=0, sa_column_kwargs={"server_default": text("0")})
    declared_by: str
    declared_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    summary: str = ""
    # When the next stakeholder update draft is due; None while a draft waits or no cadence.
    next_update_due: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    last_update_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def reference(self) -> str:
        return f"INC-{self.id}"

    @property
    def is_open(self) -> bool:
        return self.status not in ("resolved", "closed")


class RoleAssignment(SQLModel, table=True):
    """One row per holding of a role; the current holder is the row without `ended_at`."""

    __table_args__ = (
        Index(
            "one_current_holder_per_role",
            "incident_id",
            "role",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    role: str
    user_id: str
    assigned_by: str
    assigned_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class TimelineEntry(SQLModel, table=True):
    """What happened, in order: state changes by the bot and what people said in the room."""

    __table_args__ = (
        UniqueConstraint("incident_id", "message_ts", name="one_entry_per_message"),
        # The log in order (pages, exports, the review): a page boundary deep in a
        # million-entry timeline is found in this index alone, and pages are read by seek.
        Index("timeline_log", "incident_id", "deleted", "at", "id"),
        # Key events and the entries of one kind (status and severity changes: the review's
        # facts, the numbers) without reading the messages around them.
        Index("timeline_key_events", "incident_id", "key", "deleted", "at", "id"),
        Index("timeline_by_kind", "incident_id", "kind", "at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    kind: str  # declared, status, severity, role, note, message, update, ...
    actor: str | None = None  # Slack user ID of who did it
    text: str = ""
    data: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    key: bool = False  # key events lead the timeline and the review
    # Messages said in the war room:
    message_ts: str | None = None
    thread_ts: str | None = None
    permalink: str | None = None
    files: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    edits: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    deleted: bool = False
    # Said while the bot was not listening: stored later from Slack's history.
    from_history: bool = False


class ProcessedEvent(SQLModel, table=True):
    """Event IDs of pins and reactions already applied, so a retried toggle is recognised."""

    event_id: str = Field(primary_key=True)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class StakeholderUpdate(SQLModel, table=True):
    """A drafted stakeholder update: draft → sending → sent, or skipped, or superseded, or
    withdrawn (`bot.incidents.lifecycle.UpdateStatus`).

    `text` is plain text (the Slack layer escapes it when posting). `post_lease_until` is the
    claim on posting the draft in the war room: whoever holds an unexpired lease posts it; a
    replica that dies holding it only delays the post until the lease runs out.
    `send_lease_until` is the same for broadcasting an approved update (status `sending`).
    """

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    status: str = Field(default="draft", index=True)
    final: bool = False
    text: str
    open_questions: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    post_lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    message_ts: str | None = None  # the draft in the war room
    escalate_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    escalated: bool = False
    decided_by: str | None = None
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    skip_reason: str | None = None
    broadcast_ts: str | None = None
    send_lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Question(SQLModel, table=True):
    """A stakeholder's question, routed to the comms lead; open until an update goes out."""

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    asked_by: str
    text: str
    asked_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    answered_in: int | None = Field(default=None, foreign_key="stakeholderupdate.id")


class ReviewVersion(SQLModel, table=True):
    """One saved version of the review's written sections; the highest version is current.

    Every save adds a row, so earlier wording and who changed it stay on record.
    """

    __table_args__ = (UniqueConstraint("incident_id", "version", name="one_review_version"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    version: int
    sections: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    edited_by: str
    edited_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class ActionItem(SQLModel, table=True):
    """A follow-up from an incident: one owner, a due date, open until marked done.

    `remind_at` is when its owner is next reminded (set once it is overdue, then weekly);
    a reminder is claimed by moving it on in one conditional UPDATE, so it fires once.
    """

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    text: str
    owner: str | None = None
    due: date | None = None
    state: str = Field(default="open", index=True)
    created_by: str
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    done_by: str | None = None
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    remind_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    permalink: str | None = None  # the war-room message it was made from


class ProblemRecord(SQLModel, table=True):
    """The problem-management case opened for an incident's root cause (ITIL)."""

    incident_id: int = Field(foreign_key="incident.id", primary_key=True)
    reference: str  # a ticket ID or URL
    set_by: str
    set_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class SearchDocument(SQLModel, table=True):
    """What the knowledge base searches for one past incident, rebuilt when it changes.

    The full-text index over it is each dialect's own (SQLite FTS5, PostgreSQL tsvector +
    GIN); `bot/store/search.py` creates and queries it.
    """

    incident_id: int = Field(foreign_key="incident.id", primary_key=True)
    title: str
    body: str  # impact, resolution summary, the review's text and the timeline's text
    private: bool = False
    channel_id: str | None = None
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class ReviewPost(SQLModel, table=True):
    """The latest review draft posted in the war room (with its Fill in button): where
    search results link to the review."""

    incident_id: int = Field(foreign_key="incident.id", primary_key=True)
    message_ts: str
    posted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class Drill(SQLModel, table=True):
    """What a drill adds to its incident: the scenario it plays and, once it is resolved,
    its scorecard. `score_lease_until` is the claim on posting the scorecard (as for drafts)."""

    incident_id: int = Field(foreign_key="incident.id", primary_key=True)
    scenario: str | None = None
    # SQL NULL until scored (a plain JSON column would store None as JSON null).
    scorecard: list | None = Field(
        default=None, sa_column=Column(JSON(none_as_null=True), nullable=True)
    )
    scored_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    score_lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    scorecard_ts: str | None = None  # the scorecard in the war room


class DrillInject(SQLModel, table=True):
    """One scripted event of a drill, due at a fixed time; posted once under a lease."""

    __table_args__ = (UniqueConstraint("incident_id", "position", name="one_inject_per_position"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    position: int  # its place in the scenario
    due_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
    kind: str  # message, question, offline
    text: str
    role: str | None = None  # offline: the role whose holder drops out
    offline_user: str | None = None  # offline: who dropped out (no role for them in the drill)
    question_id: int | None = Field(default=None, foreign_key="question.id")
    post_lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    posted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AlertGroup(SQLModel, table=True):
    """Alerts a monitoring system sends together (Alertmanager's groupKey): one triage message.

    `version` counts real changes (an alert joined, resolved, re-fired; a dismissal; a
    declaration); `shown_version` is what the triage message shows, so a change not yet
    shown when the process stopped is shown after the restart. `post_lease_until` claims
    posting the first triage message, as for update drafts.
    """

    id: int | None = Field(default=None, primary_key=True)
    group_key: str = Field(unique=True)
    source: str  # alertmanager, generic
    receiver: str = ""
    common_labels: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = "firing"  # firing while any of its alerts fires, else resolved
    first_fired_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    version: int = 1
    shown_version: int = 0
    triage_channel: str | None = None
    triage_ts: str | None = None
    post_lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    dismissed_by: str | None = None
    dismissed_reason: str | None = None
    incident_id: int | None = Field(default=None, foreign_key="incident.id", index=True)
    # The war room was told that the alerts resolved (reset when one fires again); the
    # lease claims telling it (told again if the teller died before recording it).
    resolution_told: bool = False
    resolution_lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # A new group waits for its auto_declare check (the playbook's `auto_declare`), claimed
    # under `declare_lease_until`: a check a dead process left undone is done after a start.
    auto_declare_pending: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    declare_lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


class TriagePace(SQLModel, table=True):
    """When a channel may next get a triage write: one per second per channel (Slack's
    limit), claimed by one UPDATE, so every replica keeps to the same pace."""

    channel: str = Field(primary_key=True)
    next_write_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class Alert(SQLModel, table=True):
    """One alert of a group, by its fingerprint: its labels, annotations and state."""

    __table_args__ = (
        UniqueConstraint("group_id", "fingerprint", name="one_alert_per_fingerprint"),
    )

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="alertgroup.id", index=True)
    fingerprint: str
    status: str  # firing, resolved
    labels: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    annotations: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    starts_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    ends_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    generator_url: str = ""


class Page(SQLModel, table=True):
    """A page to one person for one incident: the duty manager first, then the next on the
    rota each time nobody acknowledges within `ack_within`. `attempt` numbers the chain, one
    row each, so two replicas cannot page the same step twice. `post_lease_until` claims
    sending the direct message, as for update drafts."""

    __table_args__ = (UniqueConstraint("incident_id", "attempt", name="one_page_per_attempt"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    attempt: int
    user_id: str
    paged_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    ack_due: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
    escalated: bool = False
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    message_ts: str | None = None  # the direct message, once sent
    post_lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Declaration(SQLModel, table=True):
    """How a declaration is getting on: its war room is opened by recorded steps, each done
    once, by whoever holds the lease (`lease_owner` until `lease_until`, renewed while it
    works): a restarted process or another replica finishes what a dead one left.
    `channel_name` is the name being created, recorded before the call, so a channel whose
    answer was lost is found and adopted. `answer_url` and `answer_channel`: where the
    declarer is answered."""

    incident_id: int = Field(foreign_key="incident.id", primary_key=True)
    answer_url: str | None = None
    answer_channel: str | None = None
    requested_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    channel_name: str | None = None
    runs: int = 0
    lease_owner: str | None = None
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)


class DeclarationStep(SQLModel, table=True):
    """One step of a declaration once it is over: done (`result`: what it made, e.g. the
    card's ts) or failed for good (`result`: why), never tried again by a resumed run."""

    incident_id: int = Field(foreign_key="declaration.incident_id", primary_key=True)
    step: str = Field(primary_key=True)
    state: str
    result: str = ""
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class OwedPost(SQLModel, table=True):
    """A post a stored change owes outside its room (the executives' news, the response
    team's alert), written in the change's own transaction: posted by whoever holds it
    (`lease_owner` until `lease_until`, as a declaration), so a restarted process or another
    replica posts what a dead one left, once. `kind` names the post, `entry_id` the change
    (its timeline entry); `finished_at` once posted (`result`: its ts) or failed for good
    (`result`: why)."""

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    entry_id: int
    kind: str
    channel: str
    text: str
    lease_owner: str | None = None
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    result: str = ""
