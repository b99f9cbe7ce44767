"""What monitoring systems send, read into a `Delivery`: Alertmanager's webhook and ours.

Alertmanager (webhook payload version 4) posts a group's alerts together::

    {"version": "4", "groupKey": "{}:{alertname=\\"HighErrorRate\\"}", "status": "firing",
     "receiver": "warroom", "groupLabels": {...}, "commonLabels": {...},
     "commonAnnotations": {...}, "externalURL": "...", "truncatedAlerts": 0,
     "alerts": [{"status": "firing", "labels": {...}, "annotations": {...},
                 "startsAt": "2026-11-25T21:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
                 "generatorURL": "...", "fingerprint": "c2f9a4b1e0d3a7f6"}]}

The generic format is one alert per request, for anything that can send JSON::

    {"key": "checkout-5xx", "status": "firing", "title": "Checkout error rate 35%",
     "group": "checkout", "labels": {"severity": "critical"},
     "description": "Card payments fail", "started_at": "2026-11-25T21:00:00Z"}

Only `key` and `title` are required: `status` defaults to firing, `group` to the key,
`started_at` to the time it arrives.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from bot.incidents.alerts import FIRING, AlertIn, Delivery
from bot.incidents.errors import InvalidRequest

# Alertmanager's "no end yet": Go's zero time.
_NO_END_BEFORE = datetime(1970, 1, 2, tzinfo=UTC)
_STATUS = r"^(firing|resolved)$"


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)  # formats grow fields over time


class _AlertmanagerAlert(_Lenient):
    status: str = Field(pattern=_STATUS)
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: AwareDatetime
    endsAt: AwareDatetime | None = None
    generatorURL: str = ""
    fingerprint: str = Field(min_length=1)


class _AlertmanagerPayload(_Lenient):
    version: str = "4"
    groupKey: str = Field(min_length=1)
    status: str = Field(pattern=_STATUS)
    receiver: str = ""
    commonLabels: dict[str, str] = Field(default_factory=dict)
    alerts: list[_AlertmanagerAlert]


class _GenericAlert(_Lenient):
    key: str = Field(min_length=1, max_length=255)
    title: str = Field(min_length=1, max_length=500)
    status: str = Field(default=FIRING, pattern=_STATUS)
    group: str | None = Field(default=None, max_length=255)
    labels: dict[str, str] = Field(default_factory=dict)
    description: str = ""
    started_at: AwareDatetime | None = None
    ended_at: AwareDatetime | None = None


def _problems(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in item['loc']) or 'body'}: {item['msg']}"
        for item in error.errors()
    )


def from_alertmanager(body: object) -> Delivery:
    """Alertmanager's webhook payload as a delivery; InvalidRequest says what is wrong."""
    try:
        payload = _AlertmanagerPayload.model_validate(body)
    except ValidationError as error:
        raise InvalidRequest(_problems(error)) from None
    if payload.version != "4":
        raise InvalidRequest(f"version: {payload.version!r} is not supported; send version 4")
    alerts = [
        AlertIn(
            fingerprint=a.fingerprint,
            status=a.status,
            labels=a.labels,
            annotations=a.annotations,
            starts_at=a.startsAt,
            ends_at=a.endsAt if a.endsAt and a.endsAt > _NO_END_BEFORE else None,
            generator_url=a.generatorURL,
        )
        for a in payload.alerts
    ]
    return Delivery(
        payload.groupKey, "alertmanager", alerts, payload.receiver, payload.commonLabels
    )


def from_generic(body: object, now: datetime) -> Delivery:
    """The generic one-alert JSON as a delivery; InvalidRequest says what is wrong."""
    try:
        alert = _GenericAlert.model_validate(body)
    except ValidationError as error:
        raise InvalidRequest(_problems(error)) from None
    labels = {"alertname": alert.title, **alert.labels}
    annotations = {"description": alert.description} if alert.description else {}
    started = alert.started_at or now
    ended = alert.ended_at or (now if alert.status != FIRING else None)
    item = AlertIn(alert.key, alert.status, labels, annotations, started, ended)
    return Delivery(alert.group or alert.key, "generic", [item])
