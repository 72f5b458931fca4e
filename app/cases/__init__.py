"""Exit-programme cases: participants, and (in later issues) cases, plans, consents and notes."""
