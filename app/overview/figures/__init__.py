"""Figures of the weekly overview and of longer periods, from accepted reports only.

- ``week_figures(iso_year, iso_week)``: one ISO week with its comparisons, hotspots and 12-week trend
  (also served by the API: GET /api/v1/overview/<year>/<week>).
- ``period_figures(start, end)``: a period of up to 366 days against the equal-length period before it (a
  calendar year against the year before; a running period against the same span of it).
- the hotspot rule: app/overview/figures/hotspots.py.
"""

from app.overview.figures.aggregate import MAX_PERIOD_DAYS, period_figures, previous_period, week_figures
from app.overview.figures.weeks import (current_week, is_valid_week, last_complete_week, same_week_last_year,
                                        shift_week, week_start)

__all__ = ["MAX_PERIOD_DAYS", "current_week", "is_valid_week", "last_complete_week", "period_figures",
           "previous_period", "same_week_last_year", "shift_week", "week_figures", "week_start"]
