"""Tenant pieces shared by several cards: the demo banner, freshness lines, posture and health."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from bot.i18n import catalog, format_datetime, t
from bot.tenant.health import ExchangeHealth, readable_status
from bot.tenant.posture import Posture, posture_notes, posture_sentence
from bot.tenant.service import Section, reason_text
from cards.base import Element, bullets, card, command_action, container, facts, heading, small, subheading, text

MAX_LISTED = 10


def status_label(status: str, lang: str) -> str:
    """Graph's health status in the user's language; unknown values read as words."""
    key = f"health.status.{status.lower()}"
    return t(key, lang) if key in catalog() else readable_status(status)


def demo_banner(lang: str) -> Element:
    """Every card built from demo data says so, visibly, at the top."""
    return container([text(t("demo.banner", lang), size="Small", weight="Bolder")], style="warning")


def freshness(section: Section[Any], tz: ZoneInfo, lang: str) -> Element:
    snapshot = section.snapshot
    reason = reason_text(snapshot.error, lang)
    if not snapshot.available:
        return small(t("freshness.never", lang, reason=reason), color="Attention")
    when = format_datetime(snapshot.fetched_at, tz, lang)  # type: ignore[arg-type]
    if snapshot.stale:
        return small(t("freshness.stale", lang, when=when, reason=reason), color="Warning")
    return small(t("freshness.fetched", lang, when=when), spacing="None")


def _on_off(value: bool | None, lang: str, on: str = "on", off: str = "off") -> str:
    if value is None:
        return t("posture.value.unknown", lang)
    return t(f"posture.value.{on if value else off}", lang)


def posture_facts(posture: Posture, lang: str) -> Element:
    org_enabled = None if posture.org_smtp_auth_disabled is None else not posture.org_smtp_auth_disabled
    return facts(
        [
            (t("posture.fact.security_defaults", lang), _on_off(posture.security_defaults, lang)),
            (t("posture.fact.org", lang), _on_off(org_enabled, lang, "enabled", "disabled")),
            (
                t("posture.fact.overrides", lang),
                t(
                    "posture.value.overrides",
                    lang,
                    enabled=len(posture.enabled_overrides),
                    disabled=len(posture.disabled_overrides),
                ),
            ),
            (t("posture.fact.policies", lang), str(len(posture.blocking_policies))),
            (t("posture.fact.modern_auth", lang), _on_off(posture.oauth2_client_profile_enabled, lang)),
        ]
    )


def posture_section(section: Section[Posture], tz: ZoneInfo, lang: str) -> list[Element]:
    """The "your tenant" part of /status: one sentence on what the default-disable does here."""
    items: list[Element] = [subheading(t("posture.section", lang))]
    if section.value is not None:
        items.append(text(posture_sentence(section.value, lang), weight="Bolder"))
        notes = posture_notes(section.value, lang)
        if notes:
            items.append(bullets(notes))
    items.append(freshness(section, tz, lang))
    return items


def health_section(section: Section[ExchangeHealth], tz: ZoneInfo, lang: str) -> list[Element]:
    items: list[Element] = [subheading(t("health.section", lang))]
    health = section.value
    if health is not None:
        status = status_label(health.status, lang)
        if health.smtp_issues:
            items.append(text(t("health.issues", lang, status=status)))
            items.append(
                bullets(
                    [
                        t("health.issue", lang, id=i.id, kind=t(f"health.kind.{'incident' if i.classification == 'incident' else 'advisory'}", lang), title=i.title)
                        for i in health.smtp_issues[:MAX_LISTED]
                    ]
                )
            )
        else:
            items.append(text(t("health.ok", lang, status=status)))
    items.append(freshness(section, tz, lang))
    return items


def build_posture_card(section: Section[Posture], tz: ZoneInfo, lang: str) -> Element:
    body: list[Element] = [demo_banner(lang) if section.demo else {}, heading(t("posture.title", lang))]
    posture = section.value
    if posture is not None:
        body += [text(posture_sentence(posture, lang), weight="Bolder"), posture_facts(posture, lang)]
        notes = posture_notes(posture, lang)
        if notes:
            body.append(bullets(notes))
        if posture.overrides:
            lines = [
                t(f"posture.override.{o.setting}", lang, address=o.address) for o in posture.overrides[:MAX_LISTED]
            ]
            if len(posture.overrides) > MAX_LISTED:
                lines.append(t("posture.more", lang, count=len(posture.overrides) - MAX_LISTED))
            body += [subheading(t("posture.overrides_title", lang)), bullets(lines)]
    body.append(freshness(section, tz, lang))
    return card(body, [command_action("/status", "/status")], lang=lang)
