"""The cluster's configuration as a YAML file (``mutualise setup``, the admin configuration
screens): one module per section and a small core.

- ``core``: the orchestration (:func:`validate_configuration`, :func:`apply_configuration`,
  :func:`export_configuration`) and the registry of the sections other areas add
  (:func:`register_service_section`, :func:`register_section`); its docstring tells the rules.
- ``yaml_io``: reading (exact values, each key's line) and writing the YAML text.
- ``carrier``, ``members``, ``services``: each core section's fields, validation, apply, export.
- ``fields``: the field parsers and error collection the sections share; ``plan``: the
  validated values; ``errors``: :class:`ConfigError`, :class:`ConfigRefused`.
"""

from app.configuration.core import (
    VERSION,
    ApplyResult,
    apply_configuration,
    audit_mark,
    changes_since,
    export_configuration,
    load_extensions,
    register_section,
    register_service_section,
    sections,
    service_sections,
    validate_configuration,
)
from app.configuration.errors import ConfigError, ConfigRefused, child, refuse
from app.configuration.plan import Plan
from app.configuration.yaml_io import MAX_BYTES, dump_configuration, load_configuration

__all__ = [
    "MAX_BYTES", "VERSION", "ApplyResult", "ConfigError", "ConfigRefused", "Plan",
    "apply_configuration", "audit_mark", "changes_since", "child", "dump_configuration",
    "export_configuration", "load_configuration", "load_extensions", "refuse", "register_section",
    "register_service_section", "sections", "service_sections", "validate_configuration",
]
