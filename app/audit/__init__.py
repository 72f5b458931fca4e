"""The auditor's domain: the audit log's tables, search, the access report and `audit verify`."""
