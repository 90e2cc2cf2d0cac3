"""The JSON API on the large dataset: listing 1 000 work entries (target ≤ 100 ms of server
time), beside sqlite3 running the same query and json.dumps of the same rows.

Server time is the Flask test client's round trip: the whole app (token check, access rule,
query, JSON), no network. The token is created in a scratch copy of the dataset.
"""

from __future__ import annotations

import json
import sqlite3

from bench import Context, Figure

_BARE = """
SELECT w.id, w.day, w.minutes, w.staff_id, w.member_id, m.code, w.service_id, s.code,
       w.activity_id, w.unit_type_id, w.quantity, w.note, w.status
FROM work_entries w JOIN services s ON s.id = w.service_id
LEFT JOIN members m ON m.id = w.member_id
{where} ORDER BY w.day DESC, w.id DESC LIMIT 1001
"""


def run(ctx: Context) -> list[Figure]:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from accounting.org import Role, User
    from app.api.tokens import create_token
    from app.database import make_engine

    path = ctx.scratch_copy("api")
    url = f"sqlite:///{path}"
    with Session(make_engine(url)) as db:
        admin = db.scalars(select(User).where(User.roles.contains(Role.ADMIN.value))).first()
        secret = create_token(db, admin, name="bench").secret
        db.commit()
    app = ctx.app(DATABASE_URL=url)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    raw = sqlite3.connect(path)

    def listing(query: str) -> dict:
        response = client.get(f"/api/v1/work-entries?limit=1000{query}", headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        body = response.json
        assert len(body["items"]) == 1000
        return body

    def bare(where: str = "") -> None:
        rows = raw.execute(_BARE.format(where=where)).fetchall()
        json.dumps([list(r) for r in rows])

    first = listing("")
    cursor = first["next_cursor"]
    month_start = first["items"][0]["day"][:8] + "01"
    figures = [
        Figure("API: 1 000 work entries, newest first", ctx.best(lambda: listing(""), 7) * 1000,
               "ms", target=100, bare=ctx.best(bare, 7) * 1000),
        Figure("API: the next 1 000 (cursor)",
               ctx.best(lambda: listing(f"&cursor={cursor}"), 7) * 1000, "ms", target=100),
        Figure("API: 1 000 entries of the last month",
               ctx.best(lambda: listing(f"&start={month_start}"), 7) * 1000, "ms", target=100,
               bare=ctx.best(lambda: bare(f"WHERE w.day >= '{month_start}'"), 7) * 1000),
    ]
    raw.close()
    return figures
