"""The hotspot rule: an area × category cell whose count is improbably high against its own recent past,
with the false alarms of testing every cell of the week held down.

For each cell, the baseline λ is its mean weekly count over those of the previous ``BASELINE_WEEKS`` ISO weeks
that have data at all (weeks with no accepted report anywhere, before the system was in use, are left out),
never below ``FLOOR``. With fewer than ``MIN_HISTORY_WEEKS`` such weeks there is too little history ("för kort
historik") and nothing is flagged. A cell's tail probability is P(X ≥ count | λ) for a Poisson count
(``scipy.stats.poisson.sf``).

About 160 cells are tested each week, so a per-cell threshold of 0.01 flagged about one cell a week by chance
alone (0.93 in the simulation). The week's cells are therefore tested together with the Benjamini–Hochberg
procedure at ``FALSE_ALARM_RATE`` (q = 0.05) over every cell tested (every cell with a report in the history
or this week): with no change anywhere (independent cells), a week has any false flag with probability at
most q, and among the flags of a week where something did change, the expected share of false ones is at
most q. (The discrete Poisson tail is conservative, so the rates in practice are lower.) A cell also needs
at least ``MIN_COUNT`` reports. The simulation test (tests/overview/test_hotspots.py) checks the rate under
no change and that constructed spikes are found.
"""

from __future__ import annotations

from dataclasses import dataclass

BASELINE_WEEKS = 12
MIN_HISTORY_WEEKS = 8
FLOOR = 0.5
MIN_COUNT = 3
FALSE_ALARM_RATE = 0.05
#: The per-cell level of the rule before this correction; kept in old published snapshots' rule.
ALPHA = 0.01
METHOD = "scipy.stats.poisson.sf"
CORRECTION = "benjamini-hochberg"


@dataclass(frozen=True)
class HotspotTest:
    count: int
    baseline: float
    p_value: float
    flagged: bool


def tail_probability(count: int, baseline: float) -> float:
    """P(X ≥ count) for X ~ Poisson(baseline)."""
    from scipy.stats import poisson  # imported lazily: scipy is slow to import and only needed here

    if count <= 0:
        return 1.0
    return float(poisson.sf(count - 1, baseline))


def check_cell(count: int, history: list[int] | tuple[int, ...], weeks: int = BASELINE_WEEKS) -> HotspotTest:
    """The rule for one cell tested alone: ``history`` holds its counts in the previous weeks with data."""
    return check_cells([(count, sum(history))], history_weeks=weeks, tested=1)[0]


def check_cells(cells: list[tuple[int, int]], *, history_weeks: int = BASELINE_WEEKS,
                tested: int | None = None) -> list[HotspotTest]:
    """The rule for one week's cells: ``cells`` = [(count this week, total over the history weeks with data)].

    ``history_weeks`` is the number of those weeks; ``tested`` the number of cells tested this week (at least
    len(cells): cells left out because they cannot be flagged still count, which only makes the procedure
    stricter). The tail probabilities are computed in one vectorised scipy call.
    """
    from scipy.stats import poisson

    if not cells:
        return []
    if history_weeks < MIN_HISTORY_WEEKS:
        baselines = [max(total / max(history_weeks, 1), FLOOR) for _, total in cells]
        return [HotspotTest(count=c, baseline=b, p_value=1.0, flagged=False)
                for (c, _t), b in zip(cells, baselines)]
    baselines = [max(total / history_weeks, FLOOR) for _, total in cells]
    counts = [count for count, _ in cells]
    p_values = [float(p) for p in poisson.sf([max(c - 1, -1) for c in counts], baselines)]
    flagged = benjamini_hochberg(p_values, max(tested or 0, len(cells)), FALSE_ALARM_RATE)
    return [HotspotTest(count=c, baseline=b, p_value=p, flagged=f and c >= MIN_COUNT)
            for c, b, p, f in zip(counts, baselines, p_values, flagged)]


def benjamini_hochberg(p_values: list[float], tested: int, q: float) -> list[bool]:
    """Which p-values the Benjamini–Hochberg procedure at level q rejects among ``tested`` hypotheses (the
    ones not given are taken as not rejected)."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    cutoff = 0
    for rank, index in enumerate(order, start=1):
        if p_values[index] <= rank * q / tested:
            cutoff = rank
    chosen = set(order[:cutoff])
    return [i in chosen for i in range(len(p_values))]


def rule(tested: int | None = None, history_weeks: int | None = None) -> dict:
    """The rule's parameters, stored with every week's figures (and so in each published snapshot)."""
    return {"baseline_weeks": BASELINE_WEEKS, "min_history_weeks": MIN_HISTORY_WEEKS, "floor": FLOOR,
            "min_count": MIN_COUNT, "correction": CORRECTION, "false_alarm_rate": FALSE_ALARM_RATE,
            "tested_cells": tested, "history_weeks": history_weeks, "method": METHOD}
