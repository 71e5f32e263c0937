"""The intent table: intent name -> ``IntentSpec``, filled from the modules under ``bot/dialogues/``."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable

from bot.dialogue.types import IntentSpec, Interceptor, PhotoHook


class IntentTable:
    def __init__(self, specs: Iterable[IntentSpec] = ()) -> None:
        self._specs: dict[str, IntentSpec] = {}
        self.interceptors: list[Interceptor] = []
        self.photo_hooks: list[PhotoHook] = []
        for spec in specs:
            self.register(spec)

    def register(self, spec: IntentSpec, *, replace: bool = False) -> None:
        if spec.intent in self._specs and not replace:
            raise ValueError(f"intent {spec.intent!r} already has a handler")
        self._specs[spec.intent] = spec

    def get(self, intent: str) -> IntentSpec | None:
        return self._specs.get(intent)

    def __contains__(self, intent: object) -> bool:
        return intent in self._specs

    def intents(self) -> list[str]:
        return list(self._specs)


def load_dialogues(package: str = "bot.dialogues") -> IntentTable:
    """Every module of ``package`` that defines ``DIALOGUES: tuple[IntentSpec, ...]`` joins the table;
    ``INTERCEPTORS`` and ``PHOTO_HOOKS`` join in ``PRIORITY`` order (lower first, default 50)."""
    root = importlib.import_module(package)
    table = IntentTable()
    modules = [
        importlib.import_module(f"{package}.{info.name}")
        for info in sorted(pkgutil.iter_modules(root.__path__), key=lambda info: info.name)
    ]
    for module in sorted(modules, key=lambda module: getattr(module, "PRIORITY", 50)):
        for spec in getattr(module, "DIALOGUES", ()):
            table.register(spec)
        table.interceptors.extend(getattr(module, "INTERCEPTORS", ()))
        table.photo_hooks.extend(getattr(module, "PHOTO_HOOKS", ()))
    return table
