"""Incident reports and the weekly overview (lägesbild)."""
