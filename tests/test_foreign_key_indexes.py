"""Every foreign key leads an index: deleting a parent row (a report, an import job, a user, an erased case)
must not scan each child table once per deleted row. A bulk DELETE of 100,000 reports without them ran for
over 14 minutes.

Runs against the migrated database of the engine under test (SQLite, or PostgreSQL with
LOTS_TEST_DATABASE_URL), so it checks what the migrations built, not only what the models say.
"""

from __future__ import annotations

from sqlalchemy import inspect, text

#: pg_catalog's own answer: a foreign key is covered by a full (not partial) index whose first
#: columns are exactly the key's columns, in any order.
_PG_UNINDEXED = text("""
    SELECT c.conrelid::regclass::text AS table_name, c.conname AS name
    FROM pg_constraint c
    WHERE c.contype = 'f'
      AND c.connamespace = current_schema()::regnamespace
      AND NOT EXISTS (
        SELECT 1
        FROM pg_index i
        WHERE i.indrelid = c.conrelid
          AND i.indpred IS NULL
          AND (string_to_array(i.indkey::text, ' ')::int2[])[1:cardinality(c.conkey)] @> c.conkey
          AND (string_to_array(i.indkey::text, ' ')::int2[])[1:cardinality(c.conkey)] <@ c.conkey
      )
    ORDER BY 1, 2
""")


def unindexed_foreign_keys(connection) -> list[str]:
    """``table(columns) -> referred table`` for each foreign key whose columns lead no index, key or constraint."""
    inspector = inspect(connection)
    missing = []
    for table in inspector.get_table_names():
        leading = [ix["column_names"] for ix in inspector.get_indexes(table) if not ix.get("dialect_options", {})
                   .get("postgresql_where")]
        leading += [uq["column_names"] for uq in inspector.get_unique_constraints(table)]
        leading.append(inspector.get_pk_constraint(table)["constrained_columns"])
        for fk in inspector.get_foreign_keys(table):
            columns = fk["constrained_columns"]
            if not any(set(cols[:len(columns)]) == set(columns) for cols in leading):
                missing.append(f"{table}({', '.join(columns)}) -> {fk['referred_table']}")
    return sorted(missing)


def pg_unindexed_foreign_keys(connection) -> list[str]:
    return [f"{row.table_name}: {row.name}" for row in connection.execute(_PG_UNINDEXED)]


def test_every_foreign_key_leads_an_index(db):
    connection = db.connection()
    assert unindexed_foreign_keys(connection) == [], "foreign keys without an index"
    if connection.dialect.name == "postgresql":
        assert pg_unindexed_foreign_keys(connection) == [], "foreign keys without an index (pg_catalog)"


def test_the_check_names_a_foreign_key_without_an_index(db):
    connection = db.connection()
    connection.execute(text("CREATE TABLE fk_probe_parent (id INTEGER PRIMARY KEY)"))
    connection.execute(text(
        "CREATE TABLE fk_probe_child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES fk_probe_parent (id),"
        " other_id INTEGER REFERENCES fk_probe_parent (id))"))
    # A composite index covers the key that leads it, not the one that follows.
    connection.execute(text("CREATE INDEX ix_fk_probe_child_other ON fk_probe_child (other_id, parent_id)"))

    assert unindexed_foreign_keys(connection) == ["fk_probe_child(parent_id) -> fk_probe_parent"]
    if connection.dialect.name == "postgresql":
        assert pg_unindexed_foreign_keys(connection) == ["fk_probe_child: fk_probe_child_parent_id_fkey"]
