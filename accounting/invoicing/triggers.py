"""Issued invoices and their lines refuse change in the database itself, whatever the client
(DESIGN invariant 5): the trigger DDL of both databases, used by ``create_all`` (the models) and by
the migrations that rebuild the tables.
"""

from __future__ import annotations

#: The only columns of an issued document that may still change: its payment state.
MUTABLE_AFTER_ISSUE = frozenset({"status", "amount_paid", "amount_credited"})

_MUTABLE_SQL = ", ".join(f"'{c}'" for c in sorted(MUTABLE_AFTER_ISSUE))

#: PostgreSQL: issued documents and their lines refuse UPDATE (except the payment state) and
#: DELETE, whatever the client. Kept identical to migration 0004.
POSTGRESQL_TRIGGERS = [
    f"""
CREATE OR REPLACE FUNCTION invoices_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    IF OLD.status <> 'draft' THEN
      RAISE EXCEPTION 'issued invoice % cannot be deleted', OLD.number
        USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN OLD;
  END IF;
  IF OLD.status <> 'draft' AND (
       NEW.status = 'draft'
       OR (to_jsonb(NEW) - ARRAY[{_MUTABLE_SQL}]) IS DISTINCT FROM
          (to_jsonb(OLD) - ARRAY[{_MUTABLE_SQL}])) THEN
    RAISE EXCEPTION 'issued invoice % cannot be modified', OLD.number
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $$""",
    """
CREATE OR REPLACE FUNCTION invoice_lines_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE parent_status text;
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    SELECT status INTO parent_status FROM invoices WHERE id = OLD.invoice_id;
    IF parent_status IS NOT NULL AND parent_status <> 'draft' THEN
      RAISE EXCEPTION 'lines of an issued invoice cannot change'
        USING ERRCODE = 'integrity_constraint_violation';
    END IF;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    SELECT status INTO parent_status FROM invoices WHERE id = NEW.invoice_id;
    IF parent_status IS NOT NULL AND parent_status <> 'draft' THEN
      RAISE EXCEPTION 'lines of an issued invoice cannot change'
        USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
  END IF;
  RETURN OLD;
END $$""",
    "DROP TRIGGER IF EXISTS trg_invoices_immutable ON invoices",
    "CREATE TRIGGER trg_invoices_immutable BEFORE UPDATE OR DELETE ON invoices "
    "FOR EACH ROW EXECUTE FUNCTION invoices_immutable()",
    "DROP TRIGGER IF EXISTS trg_invoice_lines_immutable ON invoice_lines",
    "CREATE TRIGGER trg_invoice_lines_immutable BEFORE INSERT OR UPDATE OR DELETE "
    "ON invoice_lines FOR EACH ROW EXECUTE FUNCTION invoice_lines_immutable()",
]


def sqlite_triggers(invoice_columns: list[str]) -> list[str]:
    """SQLite: the same rules as PostgreSQL; the columns are listed (no row-to-JSON there)."""
    frozen = " OR ".join(
        f'NEW."{c}" IS NOT OLD."{c}"' for c in invoice_columns if c not in MUTABLE_AFTER_ISSUE
    )
    parent = "(SELECT status FROM invoices WHERE id = {}.invoice_id)"
    line_message = "lines of an issued invoice cannot change"
    return [
        "CREATE TRIGGER IF NOT EXISTS trg_invoices_no_update BEFORE UPDATE ON invoices "
        f"FOR EACH ROW WHEN OLD.status <> 'draft' AND (NEW.status = 'draft' OR {frozen}) "
        "BEGIN SELECT RAISE(ABORT, 'issued invoice cannot be modified'); END",
        "CREATE TRIGGER IF NOT EXISTS trg_invoices_no_delete BEFORE DELETE ON invoices "
        "FOR EACH ROW WHEN OLD.status <> 'draft' "
        "BEGIN SELECT RAISE(ABORT, 'issued invoice cannot be deleted'); END",
        "CREATE TRIGGER IF NOT EXISTS trg_invoice_lines_no_insert BEFORE INSERT ON invoice_lines "
        f"FOR EACH ROW WHEN {parent.format('NEW')} <> 'draft' "
        f"BEGIN SELECT RAISE(ABORT, '{line_message}'); END",
        "CREATE TRIGGER IF NOT EXISTS trg_invoice_lines_no_update BEFORE UPDATE ON invoice_lines "
        f"FOR EACH ROW WHEN {parent.format('OLD')} <> 'draft' OR {parent.format('NEW')} <> 'draft' "
        f"BEGIN SELECT RAISE(ABORT, '{line_message}'); END",
        "CREATE TRIGGER IF NOT EXISTS trg_invoice_lines_no_delete BEFORE DELETE ON invoice_lines "
        f"FOR EACH ROW WHEN {parent.format('OLD')} <> 'draft' "
        f"BEGIN SELECT RAISE(ABORT, '{line_message}'); END",
    ]
