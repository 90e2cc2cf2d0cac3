"""Drawing and sealing one document in a worker process: the page as PDF/A-3b (fpdf2) with
its CII XML embedded by the ``factur-x`` package.

Kept apart from :mod:`accounting.facturx.pdf` so that a worker imports only what it runs
(fpdf2, fontTools, factur-x, pypdf: ~50 MB) and neither the ORM nor the application.
"""

from __future__ import annotations

from dataclasses import dataclass

from accounting.facturx.drawing import Page, draw


@dataclass(frozen=True)
class Job:
    """What drawing and sealing one document needs, as plain picklable data."""

    page: Page
    xml: bytes
    metadata: dict[str, str]


def run_job(work: Job) -> bytes:
    """The Factur-X PDF of a job: the page as PDF/A-3b with the XML embedded (checked against
    the Factur-X XSD on the way: an invalid XML raises)."""
    from facturx import generate_from_binary

    return generate_from_binary(
        draw(work.page), work.xml, flavor="factur-x", level="en16931",
        check_xsd=True, lang="fr-FR", pdf_metadata=work.metadata,
    )


