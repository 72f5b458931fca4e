"""The hotspot rule: an area × category cell whose count is improbably high against its own recent past.

For each cell, the baseline λ is the mean weekly count of that cell over the
previous ``BASELINE_WEEKS`` ISO weeks (weeks without reports count as zero),
never below ``FLOOR``. The cell is a hotspot when its count is at least
``MIN_COUNT`` and, if counts followed a Poisson distribution with mean λ, a
count this high or higher would happen with probability below ``ALPHA``:
P(X ≥ count | λ) < ALPHA. The tail probability comes from
``scipy.stats.poisson.sf`` (the survival function, P(X > k), taken at
k = count − 1).
"""

from __future__ import annotations

from dataclasses import dataclass

BASELINE_WEEKS = 12
FLOOR = 0.5
MIN_COUNT = 3
ALPHA = 0.01
METHOD = "scipy.stats.poisson.sf"


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
    """Apply the rule to one cell: ``history`` holds its counts in the previous weeks (missing weeks are zero)."""
    baseline = max(sum(history) / weeks, FLOOR)
    p_value = tail_probability(count, baseline)
    return HotspotTest(count=count, baseline=baseline, p_value=p_value,
                       flagged=count >= MIN_COUNT and p_value < ALPHA)


def rule() -> dict:
    """The rule's parameters, stored with every week's figures (and so in each published snapshot)."""
    return {"baseline_weeks": BASELINE_WEEKS, "floor": FLOOR, "min_count": MIN_COUNT, "alpha": ALPHA,
            "method": METHOD}
