"""Insights rules without I/O: suppression against differencing, funnels, targets, CSV, the page.

The differencing attack: a report shows a total and its parts; subtracting the visible parts
from the total must never give back a single hidden cell. The property test builds random
institutions (achievements, cohorts, metrics) and checks, in every group whose total is shown,
that the hidden cells add up to 0 (none hidden) or to at least k — and that a hidden total hides
all of its parts.
"""

from __future__ import annotations

import csv
import io
import re
import time
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from sceau_issuer.insights.export import to_csv
from sceau_issuer.insights.page import render_page
from sceau_issuer.insights.report import AchievementCounters, build_report
from sceau_issuer.insights.repository import METRICS, SINGLE
from sceau_issuer.insights.schemas import InsightsReport, TargetsInput
from sceau_issuer.insights.suppression import hidden_cells
from sceau_issuer.learners.privacy import is_private, redact_path
from sceau_issuer.vault import Vault

NOW = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
K = 5


def counters(
    achievement_id: str,
    cohorts: dict[str, dict[str, int]],
    *,
    targets: dict[str, int] | None = None,
    name: dict[str, str] | None = None,
) -> AchievementCounters:
    """Counters as the repository stores them: totals are the sum of the cohorts."""
    totals = {m: sum(c.get(m, 0) for c in cohorts.values()) for m in METRICS}
    doc = {
        "totals": totals,
        "cohorts": {
            c: {**v, "since": NOW - timedelta(days=n)} for n, (c, v) in enumerate(cohorts.items())
        },
        "targets": targets or {},
    }
    return AchievementCounters.of(
        achievement_id,
        doc,
        name or {"fr": f"Titre {achievement_id}", "en": f"Title {achievement_id}"},
    )


def report_of(
    *achievements: AchievementCounters, series: list[dict] | None = None
) -> InsightsReport:
    return build_report("college", list(achievements), series or [], k=K, now=NOW)


class TestHiddenCells:
    def test_small_cells_are_hidden(self) -> None:
        # 4 is hidden, alone under k: the smallest non-zero other (6) goes too; a zero names
        # no one and protects nothing, so it stays.
        assert hidden_cells({"a": 12, "b": 0, "c": 4, "d": 6}, K) == {"c", "d"}

    def test_every_figure_of_a_small_row_is_hidden_zeros_included(self) -> None:
        # "None of this cohort of 3 accepted" is about each of the 3.
        assert hidden_cells({"a": 9, "b": 0}, K, small_rows={"b"}) == {"a", "b"}
        assert hidden_cells({"a": 9, "b": 0, "c": 7}, K, small_rows={"b"}) == {"b", "c"}

    def test_a_lone_small_cell_takes_the_smallest_other_with_it(self) -> None:
        # Total 22 shown, batch B = 3 hidden alone: 22 - 12 - 7 = 3 would give it back.
        assert hidden_cells({"A": 12, "B": 3, "single": 7}, K) == {"B", "single"}

    def test_hidden_cells_that_already_reach_k_need_no_complement(self) -> None:
        assert hidden_cells({"A": 12, "B": 3, "C": 4}, K) == {"B", "C"}

    def test_complements_continue_until_the_hidden_sum_reaches_k(self) -> None:
        assert hidden_cells({"A": 1, "B": 1, "C": 2, "D": 50}, K) == {"A", "B", "C", "D"}

    def test_nothing_small_nothing_hidden(self) -> None:
        assert hidden_cells({"A": 5, "B": 9}, K) == set()

    def test_a_hidden_total_hides_every_part(self) -> None:
        assert hidden_cells({"A": 50, "B": 60}, K, total_shown=False) == {"A", "B"}


def _check_no_cell_can_be_recovered(
    report: InsightsReport, source: list[AchievementCounters]
) -> None:
    """Every shown cell is 0 or at least k; no small row shows anything; hidden parts of a shown
    total add up to k or more (or the total is 0); a hidden total hides all of its parts."""
    by_id = {a.achievement_id: a for a in source}
    issued_total = sum(a.totals["issued"] for a in source)
    for metric in METRICS:
        total = sum(a.totals[metric] for a in source)
        expected = total if not 0 < issued_total < K and (total == 0 or total >= K) else None
        assert report.totals[metric] == expected
        for cell in [report.totals[metric]] + [a.counts[metric] for a in report.achievements]:
            assert cell is None or cell >= K or cell == 0, (metric, cell)
        if report.totals[metric] is not None:
            hidden = [
                by_id[a.achievement_id].totals[metric]
                for a in report.achievements
                if a.counts[metric] is None
            ]
            # A shown 0 says "none of them" of a group of k or more: its parts are 0 too.
            assert not hidden or sum(hidden) >= K or total == 0, (metric, hidden)
        for a in report.achievements:
            stored = by_id[a.achievement_id]
            if a.counts[metric] is None:
                assert all(c.counts[metric] is None for c in a.cohorts), (metric, a.achievement_id)
                continue
            assert a.counts[metric] == stored.totals[metric]
            assert not 0 < stored.totals["issued"] < K  # a small row shows nothing
            hidden = [
                stored.cohorts[c.cohort][metric] for c in a.cohorts if c.counts[metric] is None
            ]
            shown = [c.counts[metric] for c in a.cohorts if c.counts[metric] is not None]
            assert all(v >= K or v == 0 for v in shown)  # type: ignore[operator]
            for c in a.cohorts:
                if 0 < stored.cohorts[c.cohort]["issued"] < K:
                    assert c.counts[metric] is None, (metric, c.cohort)
            assert not hidden or sum(hidden) >= K or stored.totals[metric] == 0, (metric, hidden)
            assert sum(shown) + sum(hidden) == stored.totals[metric]  # type: ignore[arg-type]


_cohort = st.dictionaries(st.sampled_from(METRICS), st.integers(0, 40), min_size=0)
_achievement = st.dictionaries(
    st.sampled_from([SINGLE, "b" * 32, "c" * 32, "d" * 32]), _cohort, min_size=1, max_size=4
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_achievement, min_size=1, max_size=5))
def test_no_total_gives_back_a_hidden_cell(drawn: list[dict[str, dict[str, int]]]) -> None:
    source = [counters(f"a{n}", cohorts) for n, cohorts in enumerate(drawn)]
    _check_no_cell_can_be_recovered(report_of(*source), source)


def test_the_differencing_attack_on_a_seeded_cohort_fails() -> None:
    # Module 1: a batch of 12, a batch of 3 (a small cohort) and 7 issued one by one.
    m1 = counters(
        "m1",
        {
            "b" * 32: {
                "issued": 12,
                "accepted": 9,
                "shared": 6,
                "verified": 5,
                "verifications": 11,
            },
            "c" * 32: {"issued": 3, "accepted": 3, "shared": 1},
            SINGLE: {"issued": 7, "accepted": 2, "revoked": 1},
        },
    )
    report = report_of(m1)
    [a] = report.achievements
    cohorts = {c.cohort: c.counts for c in a.cohorts}
    assert a.counts["issued"] == 22
    assert cohorts["b" * 32]["issued"] == 12
    # 22 - 12 = 10: the 3 is not given back, because the 7 is hidden beside it.
    assert cohorts["c" * 32]["issued"] is None
    assert cohorts[SINGLE]["issued"] is None
    assert a.counts["accepted"] == 14
    assert cohorts["b" * 32]["accepted"] == 9
    assert cohorts["c" * 32]["accepted"] is None
    assert cohorts[SINGLE]["accepted"] is None
    assert a.counts["revoked"] is None
    assert report.totals["revoked"] is None
    assert all(c["revoked"] is None for c in cohorts.values())
    _check_no_cell_can_be_recovered(report, [m1])


def test_an_achievement_hidden_as_a_complement_hides_its_cohorts() -> None:
    big = counters("a", {"b" * 32: {"issued": 30}})
    small = counters("b", {"c" * 32: {"issued": 2}})
    middle = counters("c", {"d" * 32: {"issued": 6}, SINGLE: {"issued": 6}})
    report = report_of(big, small, middle)
    cells = {a.achievement_id: a for a in report.achievements}
    assert report.totals["issued"] == 44
    assert cells["b"].counts["issued"] is None
    # 44 - 30 = 14 = b + c: c (12) is hidden with b, and c's cohorts (6 + 6) must not rebuild it.
    assert cells["c"].counts["issued"] is None
    assert [c.counts["issued"] for c in cells["c"].cohorts] == [None, None]
    assert cells["a"].counts["issued"] == 30


def test_the_funnel_reuses_the_achievement_cells() -> None:
    modules = [
        counters("m1", {SINGLE: {"issued": 40}}),
        counters("m2", {SINGLE: {"issued": 31}}),
        counters("m3", {SINGLE: {"issued": 3}}),
        counters("ov", {SINGLE: {"issued": 20}}),
    ]
    series = {
        "_id": "s1",
        "name": {"fr": "Parcours", "en": "Pathway"},
        "components": [
            {"achievement_id": "m1"},
            {"achievement_id": "m2"},
            {"achievement_id": "m3"},
        ],
        "overall_achievement_id": "ov",
    }
    report = report_of(*modules, series=[series])
    [funnel] = report.series
    assert [s.step for s in funnel.steps] == ["M1", "M2", "M3", "overall"]
    reached = [s.reached for s in funnel.steps]
    cells = {a.achievement_id: a.counts["issued"] for a in report.achievements}
    assert reached == [cells["m1"], cells["m2"], cells["m3"], cells["ov"]]
    assert reached[2] is None  # 3 < k
    # m3 alone hidden under the total: a complement (the smallest other, ov = 20) goes with it.
    assert reached[3] is None
    assert [s.percent_of_first for s in funnel.steps] == [100.0, 77.5, None, None]


def test_a_series_module_never_issued_is_an_honest_zero() -> None:
    series = {"_id": "s", "name": {"en": "S"}, "components": [{"achievement_id": "x"}]}
    [funnel] = report_of(series=[series]).series
    assert funnel.steps[0].reached == 0


def test_targets_compare_with_visible_actuals_only() -> None:
    report = report_of(
        counters(
            "a", {SINGLE: {"issued": 40, "verified": 2}}, targets={"issued": 50, "verified": 10}
        ),
    )
    [a] = report.achievements
    assert a.targets["issued"].actual == 40
    assert a.targets["issued"].percent == 80.0
    assert a.targets["verified"].actual is None
    assert a.targets["verified"].percent is None


def test_targets_input_names_known_metrics_and_counts() -> None:
    assert TargetsInput.model_validate({"targets": {"issued": 120}}).targets == {"issued": 120}
    for bad in ({"revoked": 3}, {"issued": 0}, {"issued": "12"}, {"issued": True}, {"nope": 1}):
        try:
            TargetsInput.model_validate({"targets": bad})
        except ValueError:
            continue
        raise AssertionError(f"{bad} accepted")


def test_csv_holds_every_figure_and_marks_suppressed_cells() -> None:
    report = report_of(
        counters(
            "a",
            {"b" * 32: {"issued": 12}, SINGLE: {"issued": 3}},
            targets={"issued": 20},
            name={"fr": "=HYPERLINK(1)", "en": "Data"},
        )
    )
    rows = list(csv.DictReader(io.StringIO(to_csv(report))))
    total = next(r for r in rows if r["table"] == "total" and r["metric"] == "issued")
    assert total["value"] == "15"
    assert total["suppressed"] == "false"
    cohort = [r for r in rows if r["table"] == "cohort" and r["metric"] == "issued"]
    assert {(r["cohort"], r["value"], r["suppressed"]) for r in cohort} == {
        ("b" * 32, "", "true"),
        (SINGLE, "", "true"),
    }
    target = next(r for r in rows if r["table"] == "target")
    assert (target["target"], target["value"], target["percent"]) == ("20", "15", "75.0")
    assert all(r["name_fr"] == "'=HYPERLINK(1)" for r in rows if r["achievement_id"] == "a")


def test_the_page_draws_each_chart_with_its_words_and_table() -> None:
    report = report_of(
        counters("a", {SINGLE: {"issued": 12, "accepted": 3}}),
        series=[
            {
                "_id": "s",
                "name": {"fr": "Parcours", "en": "Pathway"},
                "components": [{"achievement_id": "a"}],
            }
        ],
    )
    for lang, hidden, title in (
        ("fr", "masqué (moins de 5)", "Indicateurs"),
        ("en", "hidden (fewer than 5)", "Institution insights"),
    ):
        html = render_page(report, lang=lang, institution="Collège")
        assert f'<html lang="{lang}">' in html
        assert title in html
        assert "<script" not in html
        assert "<img" not in html
        assert not re.search(r'(src|href)="https?://', html)  # nothing fetched
        assert html.count('role="img"') == 3  # totals, the achievement, the funnel
        assert html.count("<desc") == 3
        assert html.count("<table>") >= 3
        assert hidden in html  # the suppressed cell is said, not drawn as zero
        assert "Titre a" in html if lang == "fr" else "Title a" in html


def test_insights_page_tokens_are_masked_and_kept_private() -> None:
    assert redact_path("/insights/abc.def") == "/insights/[token]"
    assert is_private("/insights/abc.def")
    assert not is_private("/v1/insights")


def test_insights_page_tokens_name_one_institution_and_expire() -> None:
    vault = Vault(bytes(range(32)))
    token = vault.insights_token(institution_id="college", ttl_s=60)
    assert vault.read_insights_token(token) == "college"
    assert vault.read_insights_token(token, now=time.time() + 61) is None
    assert vault.read_learner_token(token) is None
    learner = vault.learner_token(credential_id="c", institution_id="college", ttl_s=60)
    assert vault.read_insights_token(learner) is None
