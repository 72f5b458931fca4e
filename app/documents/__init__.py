"""Case documents: files attached to a case and its records, encrypted in chunks, gated like fields."""
