"""CLI commands of the allocation area."""

from __future__ import annotations

import click


def register(cli: click.Group) -> None:
    """Attach this area's commands to the `mutualise` group (and its import/export groups)."""
