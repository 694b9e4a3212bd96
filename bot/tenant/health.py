"""Exchange Online service health, narrowed to what matters here: open issues about SMTP submission."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

_SMTP = re.compile(r"\bsmtp\b|client submission|クライアント送信", re.IGNORECASE)
_STATUS_WORDS = re.compile(r"(?<!^)(?=[A-Z])")


@dataclass(frozen=True)
class HealthIssue:
    id: str
    title: str
    classification: str
    status: str


@dataclass(frozen=True)
class ExchangeHealth:
    status: str
    smtp_issues: tuple[HealthIssue, ...]


def _issue_text(issue: Mapping[str, Any]) -> str:
    parts = [str(issue.get(key) or "") for key in ("title", "impactDescription", "feature", "featureGroup")]
    for post in issue.get("posts") or []:
        description = (post or {}).get("description") or {}
        parts.append(str(description.get("content") or ""))
    return " ".join(parts)


def readable_status(status: str) -> str:
    """Graph's ``serviceDegradation`` → "service degradation"."""
    words = _STATUS_WORDS.sub(" ", status or "unknown").lower()
    return words.strip() or "unknown"


def parse_health(raw: Mapping[str, Any]) -> ExchangeHealth:
    issues = tuple(
        HealthIssue(
            id=str(issue.get("id", "?")),
            title=str(issue.get("title", "")),
            classification=str(issue.get("classification", "advisory")).lower(),
            status=str(issue.get("status", "")),
        )
        for issue in raw.get("issues") or []
        if not issue.get("isResolved") and _SMTP.search(_issue_text(issue))
    )
    return ExchangeHealth(status=str(raw.get("status") or "unknown"), smtp_issues=issues)
