"""Alertmanager webhook payloads (version 4) as Alertmanager sends them, for the tests."""

from __future__ import annotations

import hashlib

ZERO_TIME = "0001-01-01T00:00:00Z"


def fingerprint(labels: dict) -> str:
    # Alertmanager's fingerprint is a 64-bit hash of the label set, printed as 16 hex digits.
    return hashlib.sha256(repr(sorted(labels.items())).encode()).hexdigest()[:16]


def alert(
    alertname: str = "HighErrorRate",
    *,
    status: str = "firing",
    instance: str = "checkout-1",
    severity: str = "critical",
    starts_at: str = "2026-11-25T21:00:00Z",
    ends_at: str = ZERO_TIME,
    summary: str = "Checkout error rate above 5%",
    description: str = "Card payments fail for 35% of customers",
) -> dict:
    labels = {"alertname": alertname, "instance": instance, "severity": severity, "job": "api"}
    return {
        "status": status,
        "labels": labels,
        "annotations": {"summary": summary, "description": description},
        "startsAt": starts_at,
        "endsAt": ends_at,
        "generatorURL": f"http://prometheus:9090/graph?g0.expr=job%3D%22api%22&alert={alertname}",
        "fingerprint": fingerprint(labels),
    }


def notification(alerts: list[dict], alertname: str = "HighErrorRate") -> dict:
    firing = any(a["status"] == "firing" for a in alerts)
    common = {"alertname": alertname, "job": "api", "severity": alerts[0]["labels"]["severity"]}
    return {
        "receiver": "warroom",
        "status": "firing" if firing else "resolved",
        "alerts": alerts,
        "groupLabels": {"alertname": alertname},
        "commonLabels": common,
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "version": "4",
        "groupKey": f'{{}}/{{severity="critical"}}:{{alertname="{alertname}"}}',
        "truncatedAlerts": 0,
    }
