"""The audit log page in French: a login is « Connexion », changes carry field labels and
values in words, dates are « 02/12/2026 14:05 »."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounting.audit import AuditEvent, record_audit
from accounting.org import Role


def test_a_login_is_a_connexion_and_changes_read_in_french(client, db: Session, login_as) -> None:
    treasurer = login_as(Role.TREASURER)
    logins = db.scalars(select(AuditEvent).where(AuditEvent.action == "login")).all()
    assert [e.object_id for e in logins] == [str(treasurer.id)]
    # the login no longer writes a change of the user (its last login date)
    assert not db.scalars(select(AuditEvent).where(
        AuditEvent.action == "update", AuditEvent.object_type == "users")).all()
    db.info["actor_label"] = "test"
    record_audit(db, "update", "work_entries", 7, before={"status": "draft"},
                 after={"status": "submitted"})
    event = db.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    event.at = datetime(2026, 12, 2, 13, 5, 41, 123456, tzinfo=UTC)
    db.commit()

    page = client.get("/admin/journal").get_data(as_text=True)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    assert "Connexion Utilisateur" in text
    assert "Modification Utilisateur" not in text
    assert "Statut : brouillon → soumise" in text
    assert "02/12/2026 14:05" in text  # Paris time, no seconds
    assert "last_login_at" not in page and "submitted" not in page
    assert "3 événements." in text  # the user created, the login, the status change
