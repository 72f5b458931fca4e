"""Cross-agency processes, milestones, meetings (incl. the weekly EST meeting), area
interventions and their evaluation, the yearly documents and the daily digests."""
