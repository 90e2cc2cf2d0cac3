"""How a configuration file is refused: each bad field with its path and line."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import NoReturn


@dataclass(frozen=True, slots=True)
class ConfigError:
    """One bad field of a configuration file: its path, its line when known, what is wrong."""

    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = self.path or "fichier"
        if self.line is not None:
            where += f" (ligne {self.line})"
        return f"{where} : {self.message}"


class ConfigRefused(Exception):
    """The configuration file was refused whole; ``errors`` lists every reason."""

    def __init__(self, errors: Iterable[ConfigError]) -> None:
        self.errors = list(errors)
        count = len(self.errors)
        head = (
            "Configuration refusée : 1 erreur, rien n'a été modifié."
            if count == 1
            else f"Configuration refusée : {count} erreurs, rien n'a été modifié."
        )
        super().__init__("\n".join([head, *(f"- {e}" for e in self.errors)]))


def refuse(path: str, message: str) -> NoReturn:
    """Refuse the whole file from inside a handler's ``apply``."""
    raise ConfigRefused([ConfigError(path, message)])


def child(path: str, key: str | int) -> str:
    """``child("services[1]", "code")`` -> ``services[1].code``; ints index a list."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key
