"""A configuration file parsed and validated (the values each section will apply), and the
handlers of the sections other areas register."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from accounting.org import Service
from app.configuration.errors import ConfigError


@dataclass
class ServicePlan:
    path: str
    values: dict[str, Any]
    #: Raw values of the registered service sections present in the file.
    sections: dict[str, Any] = field(default_factory=dict)


@dataclass
class MemberPlan:
    path: str
    values: dict[str, Any]
    #: year -> parsed figures of that year.
    figures: dict[int, dict[str, Any]] = field(default_factory=dict)


@dataclass
class Plan:
    """A configuration file parsed and validated, ready to apply."""

    carrier: dict[str, Any] | None = None
    members: list[MemberPlan] = field(default_factory=list)
    services: list[ServicePlan] = field(default_factory=list)
    sections: dict[str, Any] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ServiceSection:
    """Handlers of one key of ``services[]`` items."""

    name: str
    validate: Callable[[str, Any], list[ConfigError]]
    apply: Callable[[Session, Service, Any], None]
    export: Callable[[Session, Service], Any]


@dataclass(frozen=True, slots=True)
class Section:
    """Handlers of one top-level key."""

    name: str
    validate: Callable[[str, Any], list[ConfigError]]
    apply: Callable[[Session, Any], None]
    export: Callable[[Session], Any]
