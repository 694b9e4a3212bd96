"""The shipped MC786329 timeline and the day count, on frozen dates in several time zones."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.timeline import Phase, When, countdown, load_timeline, milestone_state

TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.fixture
def timeline():
    return load_timeline()


def test_versions_match_the_post_history(timeline):
    assert [v.id for v in timeline.versions] == ["2024-04-26", "2024-10-18", "2025-06-12", "2026-01-27"]
    assert timeline.latest_version.published == date(2026, 1, 27)


def test_each_milestone_keeps_microsofts_precision(timeline):
    assert timeline.milestone("removal-sep-2025").when == When("month", 2025, 9)
    assert timeline.milestone("gradual-rejection-2026").describe_when("en") == "1 March 2026 – 30 April 2026"
    disable = timeline.milestone("default-disable")
    assert disable.when.describe("en") == "end of December 2026"
    assert disable.when.describe("ja") == "2026年12月末"
    assert timeline.milestone("final-removal-announcement").describe_when("en") == "second half of 2027"
    assert timeline.milestone("final-removal-announcement").describe_when("ja") == "2027年後半"
    assert timeline.milestone("final-removal").when is None


def test_no_month_or_half_year_is_ever_described_with_a_day(timeline):
    for milestone in timeline.milestones:
        for when in (milestone.when, milestone.until):
            if when is None or when.precision == "day":
                continue
            for lang in ("en", "ja"):
                described = when.describe(lang)
                assert not re.search(r"\b\d{1,2} (January|February|March|April|May|June|July|August|September|October|November|December)", described)
                assert "日" not in described


def test_superseded_dates_name_the_version_that_replaced_them(timeline):
    assert timeline.milestone("removal-sep-2025").superseded_by == "2025-06-12"
    assert timeline.milestone("gradual-rejection-2026").superseded_by == "2026-01-27"
    assert [m for m, _ in timeline.moves] == ["removal-sep-2025", "gradual-rejection-2026", "default-disable"]


@pytest.mark.parametrize(
    "moment, zone, days, phase",
    [
        (datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc), "Asia/Tokyo", 38, Phase.UNCHANGED),
        (datetime(2026, 11, 23, 16, 0, tzinfo=timezone.utc), "Asia/Tokyo", 37, Phase.UNCHANGED),
        (datetime(2026, 11, 23, 16, 0, tzinfo=timezone.utc), "America/Los_Angeles", 38, Phase.UNCHANGED),
        (datetime(2026, 11, 30, 15, 0, tzinfo=timezone.utc), "Asia/Tokyo", 30, Phase.DEADLINE_MONTH),
        (datetime(2026, 11, 30, 14, 59, tzinfo=timezone.utc), "Asia/Tokyo", 31, Phase.UNCHANGED),
        (datetime(2026, 12, 31, 14, 59, tzinfo=timezone.utc), "Asia/Tokyo", 0, Phase.DEADLINE_MONTH),
        (datetime(2026, 12, 31, 15, 0, tzinfo=timezone.utc), "Asia/Tokyo", -1, Phase.DEFAULT_DISABLED),
        (datetime(2026, 12, 31, 15, 0, tzinfo=timezone.utc), "UTC", 0, Phase.DEADLINE_MONTH),
    ],
)
def test_countdown_counts_to_the_last_day_of_december_in_local_time(timeline, moment, zone, days, phase):
    count = countdown(timeline, moment, ZoneInfo(zone))
    assert count.target_day == date(2026, 12, 31)
    assert count.days_left == days
    assert count.phase is phase


def test_after_the_default_disable_the_next_milestone_is_the_announcement(timeline):
    count = countdown(timeline, datetime(2027, 2, 1, tzinfo=timezone.utc), TOKYO)
    assert count.next_milestone is not None
    assert count.next_milestone.id == "final-removal-announcement"


def test_milestone_states_on_23_november_2026(timeline):
    today = date(2026, 11, 23)
    count = countdown(timeline, datetime(2026, 11, 23, 3, tzinfo=timezone.utc), TOKYO)
    states = {m.id: milestone_state(m, today, count.next_milestone.id) for m in timeline.milestones}
    assert states == {
        "removal-sep-2025": "superseded",
        "eac-report-auth-column": "past",
        "gradual-rejection-2026": "superseded",
        "default-disable": "next",
        "new-tenants": "future",
        "final-removal-announcement": "future",
        "final-removal": "unknown",
    }


def test_a_milestone_naming_an_unknown_version_is_rejected():
    from bot.timeline import parse_timeline
    import json

    raw = json.loads((load_timeline.__wrapped__.__defaults__[0]).read_text(encoding="utf-8"))
    raw["milestones"][0]["stated_in"] = "1999-01-01"
    with pytest.raises(ValueError, match="unknown version"):
        parse_timeline(raw)


def _states(timeline, moment: datetime) -> dict[str, str]:
    count = countdown(timeline, moment, TOKYO)
    next_id = count.next_milestone.id if count.next_milestone else None
    return {m.id: milestone_state(m, count.today, next_id) for m in timeline.milestones if m.current}


# Both sides of every current milestone, as 23:59 and 00:00 in Tokyo.
@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2026, 11, 30, 14, 59, tzinfo=timezone.utc), {"default-disable": "next", "new-tenants": "future"}),
        (datetime(2026, 11, 30, 15, 0, tzinfo=timezone.utc), {"default-disable": "next", "new-tenants": "future"}),
        (datetime(2026, 12, 31, 14, 59, tzinfo=timezone.utc), {"default-disable": "next", "new-tenants": "future"}),
        (datetime(2026, 12, 31, 15, 0, tzinfo=timezone.utc),
         {"default-disable": "past", "new-tenants": "past", "final-removal-announcement": "next"}),
        (datetime(2027, 6, 30, 14, 59, tzinfo=timezone.utc), {"final-removal-announcement": "next"}),
        (datetime(2027, 6, 30, 15, 0, tzinfo=timezone.utc), {"final-removal-announcement": "next"}),
    ],
)
def test_milestones_on_both_sides_of_each_boundary(timeline, moment, expected):
    states = _states(timeline, moment)
    for milestone_id, state in expected.items():
        assert states[milestone_id] == state, (moment, milestone_id)
    assert states["final-removal"] == "unknown"  # no date until Microsoft gives one
    assert states["eac-report-auth-column"] == "past"
