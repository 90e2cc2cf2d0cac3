"""facturx: structured addresses, electronic addresses, the send log, reminders, password reset.

Revision ID: 0013_facturx
Revises: 0012_api_tokens (given 0007_fiscal_year; re-chained after the merged 0010-0012)

Existing addresses (one free text) are split into street lines, postcode, city and country
when their last lines read « 01600 Trévoux » [« France »]; those that cannot be split keep
their text and are printed here (and listed by ``mutualise addresses`` and on the members
page) for someone to complete. Issued invoices keep their snapshot: their new columns stay
NULL and their address text is split when read. On SQLite the trigger that freezes issued
invoices is recreated with the new columns.
"""

import sqlalchemy as sa
from alembic import op

import accounting.db
from accounting.addresses import split_address

revision = "0013_facturx"
down_revision = "0012_api_tokens"
branch_labels = None
depends_on = None

_PARTY_COLUMNS = ("postcode", "city", "country", "electronic_address")


#: The invoices' columns before this revision, then the new ones (the SQLite trigger that
#: freezes issued invoices lists them: a literal list, as the schema was at this revision).
_BEFORE = [
    "id", "kind", "status", "carrier_id", "member_id", "period_id", "original_id", "reason",
    "number", "year", "sequence", "issue_date", "due_date", "service_start", "service_end",
    "customer_code", "customer_name", "customer_address", "customer_siren", "customer_siret",
    "customer_vat_number", "carrier_name", "carrier_address", "carrier_siren", "carrier_siret",
    "carrier_vat_number", "carrier_iban", "carrier_bic", "carrier_email", "payment_terms_days",
    "late_penalty_rate", "vat_exemption_mention", "total_excl_tax", "total_vat",
    "total_incl_tax", "amount_paid", "amount_credited", "created_at", "issued_at", "issued_by",
    "corrects_id",
]
_NEW_INVOICE_COLUMNS = [f"{p}_{c}" for p in ("customer", "carrier") for c in _PARTY_COLUMNS]


def _freeze_trigger(columns: list[str]) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return  # PostgreSQL's trigger compares whole rows: new columns are covered
    from accounting.invoicing.models import sqlite_triggers

    op.execute("DROP TRIGGER IF EXISTS trg_invoices_no_update")
    op.execute(sqlite_triggers(columns)[0])


def _address_columns() -> list[sa.Column]:
    return [
        sa.Column("postcode", sa.String(length=10), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("country_code", sa.String(length=2), server_default="FR", nullable=False),
        sa.Column("electronic_address", sa.String(length=120), nullable=True),
    ]


def _split_existing(table: str, label: str) -> list[str]:
    conn = op.get_bind()
    rows = conn.execute(sa.text(f"SELECT id, {label}, address FROM {table}")).all()
    unsplit = []
    for row_id, name, text in rows:
        found = split_address(text)
        if found is None:
            unsplit.append(f"{table} {name}: {(text or '').strip()!r}")
            continue
        conn.execute(
            sa.text(
                f"UPDATE {table} SET address = :street, postcode = :postcode, city = :city, "
                "country_code = :country WHERE id = :id"
            ),
            {"street": found.street, "postcode": found.postcode, "city": found.city,
             "country": found.country_code, "id": row_id},
        )
    return unsplit


def upgrade() -> None:
    for table in ("carriers", "members"):
        with op.batch_alter_table(table) as batch:
            for column in _address_columns():
                batch.add_column(column)
    with op.batch_alter_table("carriers") as batch:
        batch.add_column(
            sa.Column("reminder_first_days", sa.Integer(), server_default="15", nullable=False)
        )
        batch.add_column(
            sa.Column("reminder_second_days", sa.Integer(), server_default="30", nullable=False)
        )
    for party in ("customer", "carrier"):
        for name in _PARTY_COLUMNS:
            length = {"postcode": 10, "city": 100, "country": 2}.get(name, 120)
            op.add_column("invoices", sa.Column(f"{party}_{name}", sa.String(length), nullable=True))

    unsplit = _split_existing("carriers", "code") + _split_existing("members", "code")
    if unsplit:
        print("Addresses not split (complete postcode and city by hand):")
        for line in unsplit:
            print("  " + line)

    _freeze_trigger(_BEFORE + _NEW_INVOICE_COLUMNS)

    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=12), nullable=False),
        sa.Column("recipient", sa.String(length=200), nullable=False),
        sa.Column("attempted_at", accounting.db.UTCDateTime(), nullable=False),
        sa.Column("outcome", sa.String(length=8), nullable=False),
        sa.Column("message_id", sa.String(length=250), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("sent_by", sa.String(length=200), nullable=False),
        sa.CheckConstraint(
            "purpose IN ('document', 'reminder_1', 'reminder_2')",
            name=op.f("ck_deliveries_purpose"),
        ),
        sa.CheckConstraint("outcome IN ('sent', 'failed')", name=op.f("ck_deliveries_outcome")),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_deliveries_invoice_id_invoices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
    )
    op.create_index(
        "ix_deliveries_invoice", "deliveries", ["invoice_id", "purpose", "outcome"], unique=False
    )
    op.create_table(
        "password_resets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", accounting.db.UTCDateTime(), nullable=False),
        sa.Column("expires_at", accounting.db.UTCDateTime(), nullable=False),
        sa.Column("used_at", accounting.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_password_resets_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_resets")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_password_resets_token_hash")),
    )
    op.create_index(
        "ix_password_resets_user", "password_resets", ["user_id", "created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_password_resets_user", table_name="password_resets")
    op.drop_table("password_resets")
    op.drop_index("ix_deliveries_invoice", table_name="deliveries")
    op.drop_table("deliveries")
    _freeze_trigger(_BEFORE)
    for party in ("customer", "carrier"):
        for name in _PARTY_COLUMNS:
            with op.batch_alter_table("invoices") as batch:
                batch.drop_column(f"{party}_{name}")
    with op.batch_alter_table("carriers") as batch:
        batch.drop_column("reminder_second_days")
        batch.drop_column("reminder_first_days")
    for table in ("carriers", "members"):
        with op.batch_alter_table(table) as batch:
            for name in ("electronic_address", "country_code", "city", "postcode"):
                batch.drop_column(name)
