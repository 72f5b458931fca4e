"""Authentication, authorisation, field encryption and the audit log."""
