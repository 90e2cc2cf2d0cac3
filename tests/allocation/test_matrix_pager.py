"""The member × service matrix of a run and of a preview is paged (issue 16): 50 members a page,
a French pager (« ← Précédente », « Page 2 sur 2 », « Suivante → »), and a page number that is
out of bounds or not a number shows the nearest page instead of failing."""

from __future__ import annotations

import math
import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounting.allocation.models import AllocationLine
from accounting.org import Role
from app.allocation.routes import MATRIX_PAGE
from tests.cluster_data import Cluster, build_cluster
from tests.conftest import TEST_PASSWORD

MEMBERS = MATRIX_PAGE + 7


@pytest.fixture
def cluster(db: Session) -> Cluster:
    return build_cluster(db, members=MEMBERS)


def _login(client: FlaskClient, cluster: Cluster) -> None:
    response = client.post("/login", data={"email": cluster.users[Role.TREASURER].email,
                                           "password": TEST_PASSWORD})
    assert response.status_code == 302


def _matrix(html: str) -> tuple[list[str], str]:
    """The member codes of the matrix's rows, and the pager's text."""
    body = html.split('id="matrice"', 1)[1].split("</tbody>", 1)[0]
    codes = re.findall(r'<th scope="row"><span class="code">([^<]+)</span>', body)
    pager = re.search(r'<nav class="pagination"[^>]*>(.*?)</nav>', html, re.S)
    return codes, re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", pager[1])).strip() if pager else ""


@pytest.mark.parametrize("where", ["run", "preview"])
def test_the_matrix_is_paged_with_a_french_pager_and_clamped_page_numbers(
    client: FlaskClient, db: Session, cluster: Cluster, where: str
) -> None:
    run = cluster.runs[0]
    members = db.scalar(select(func.count(func.distinct(AllocationLine.member_id)))
                        .where(AllocationLine.run_id == run.id))
    assert members >= MEMBERS  # the cluster's members all have a share
    pages = math.ceil(members / MATRIX_PAGE)
    assert pages == 2
    _login(client, cluster)
    base = (f"/repartition/{run.id}?" if where == "run"
            else f"/repartition/apercu?periode={cluster.past.code}&")

    first, pager = _matrix(client.get(base + "page=1").get_data(as_text=True))
    assert len(first) == MATRIX_PAGE
    assert pager == "Page 1 sur 2 Suivante →"
    second, pager = _matrix(client.get(base + "page=2").get_data(as_text=True))
    assert len(second) == members - MATRIX_PAGE
    assert pager == "← Précédente Page 2 sur 2"
    assert not set(first) & set(second)  # every member once, in code order across pages
    assert first + second == sorted(first + second)

    for bad, shown in [("999", second), ("1000000000000000", second), ("0", first),
                       ("-3", first), ("x", first), ("²", first), ("", first)]:
        response = client.get(base + "page=" + bad)
        assert response.status_code == 200, bad
        assert _matrix(response.get_data(as_text=True))[0] == shown, bad
