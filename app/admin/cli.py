"""CLI commands of the admin area."""

from __future__ import annotations

import click


def register(cli: click.Group) -> None:
    """Attach this area's commands to the `mutualise` group (and its import/export groups)."""
