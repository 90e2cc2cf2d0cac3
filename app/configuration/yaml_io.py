"""The configuration file as YAML: read with every value built here (exact decimals, texts
kept as texts, dates, each key's line), and written back in the same form."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

import yaml

from app.configuration.errors import ConfigError, ConfigRefused, child

#: Largest configuration file accepted (a 1 000-member cluster with figures is ~0.5 MB).
MAX_BYTES = 5 * 1024 * 1024


_STR = "tag:yaml.org,2002:str"


_MAP = "tag:yaml.org,2002:map"


_SEQ = "tag:yaml.org,2002:seq"


class _Loader(yaml.SafeLoader):
    """Refuses aliases while parsing: no shared nodes, no exponential « billion laughs »."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "les alias YAML (*nom) ne sont pas acceptés", event.start_mark
            )
        return super().compose_node(parent, index)


_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)")


_FLOAT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def load_configuration(source: str | bytes) -> tuple[Any, dict[str, int]]:
    """The file's data and the line of each path; raises ConfigRefused when it is not YAML."""
    if isinstance(source, bytes):
        if len(source) > MAX_BYTES:
            raise ConfigRefused([ConfigError("", "Fichier trop volumineux (au plus 5 Mo).")])
        if b"\x00" in source:
            raise ConfigRefused([ConfigError("", "Ce n'est pas un fichier texte YAML.")])
        try:
            source = source.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ConfigRefused(
                [ConfigError("", "Le fichier doit être encodé en UTF-8.")]
            ) from None
    if len(source) > MAX_BYTES:
        raise ConfigRefused([ConfigError("", "Fichier trop volumineux (au plus 5 Mo).")])
    try:
        root = yaml.compose(source, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigRefused(
            [ConfigError("", f"YAML illisible : {problem}", mark.line + 1 if mark else None)]
        ) from None
    except RecursionError:
        raise ConfigRefused([ConfigError("", "YAML trop imbriqué.")]) from None
    if root is None:
        raise ConfigRefused([ConfigError("", "Le fichier est vide.")])
    builder = _Builder()
    try:
        data = builder.build(root, "")
    except RecursionError:
        raise ConfigRefused([ConfigError("", "YAML trop imbriqué.")]) from None
    if builder.errors:
        raise ConfigRefused(builder.errors)
    return data, builder.lines


class _Builder:
    """Python values from composed YAML nodes, with the line of each path."""

    def __init__(self) -> None:
        self.lines: dict[str, int] = {}
        self.errors: list[ConfigError] = []

    def error(self, path: str, node: yaml.Node, message: str) -> None:
        self.errors.append(ConfigError(path, message, node.start_mark.line + 1))

    def build(self, node: yaml.Node, path: str, line: int | None = None) -> Any:
        """The value of ``node``; ``line`` is where it is named (its key, or its list item)."""
        self.lines.setdefault(path, line or node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            if node.tag != _MAP:
                self.error(path, node, f"type YAML {node.tag} non pris en charge.")
                return None
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ:
                self.error(path, node, f"type YAML {node.tag} non pris en charge.")
                return None
            return [self.build(item, child(path, i)) for i, item in enumerate(node.value)]
        return self._scalar(node, path)

    def _mapping(self, node: yaml.MappingNode, path: str) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
                self.error(path, key_node, "clé non prise en charge (ni « << », ni clé complexe).")
                continue
            key = str(key_node.value)
            if key in result:
                self.error(child(path, key), key_node, f"clé « {key} » en double.")
                continue
            result[key] = self.build(value_node, child(path, key), key_node.start_mark.line + 1)
        return result

    def _scalar(self, node: yaml.ScalarNode, path: str) -> Any:
        tag, raw = node.tag, node.value
        if tag == _STR:
            return raw
        if tag.endswith(":null"):
            return None
        if tag.endswith(":bool"):
            return yaml.constructor.SafeConstructor.bool_values[raw.lower()]
        if tag.endswith(":int"):
            # 0612 (octal in YAML 1.1), 0x1F, 1_000: kept as the text the person wrote.
            return int(raw) if _INT.fullmatch(raw) else raw
        if tag.endswith(":float"):
            if _FLOAT.fullmatch(raw):
                return Decimal(raw)
            self.error(path, node, f"nombre « {raw} » non pris en charge.")
            return None
        if tag.endswith(":timestamp"):
            if _DATE.fullmatch(raw):
                try:
                    return date.fromisoformat(raw)
                except ValueError:
                    pass
            self.error(path, node, f"date « {raw} » invalide : écrivez AAAA-MM-JJ.")
            return None
        self.error(path, node, f"type YAML {tag} non pris en charge.")
        return None


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """libyaml's emitter when PyYAML has it (several times faster), else the Python one."""


def _represent_decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:float", format(value, "f"))


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    if "\n" in value:
        return dumper.represent_scalar(_STR, value, style="|")
    return dumper.represent_str(value)


_Dumper.add_representer(Decimal, _represent_decimal)


_Dumper.add_representer(str, _represent_str)


EXPORT_HEADER = """\
# Mutualise configuration (mutualise setup FILE.yaml applies it; --export writes it).
# Applying it twice changes nothing; keys left out are left untouched; nothing is deleted.
"""


def dump_configuration(data: Mapping[str, Any]) -> str:
    """The YAML text of a configuration mapping."""
    body = yaml.dump(dict(data), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    return EXPORT_HEADER + body
