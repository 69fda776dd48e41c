"""The project's Lambda functions, loaded from ``functions/`` and invoked in-process one at a time."""

from __future__ import annotations

import importlib
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from spendwatch.platform.resources import FUNCTIONS

from spendwatch_local.lambdas.shapes import LambdaContext

Handler = Callable[[dict[str, Any], Any], Any]

# Lets an installed (non-editable) spendwatch_local find a checkout's functions/ folder.
FUNCTIONS_DIR_ENV = "SPENDWATCH_FUNCTIONS_DIR"
# The deployed timeouts, so get_remaining_time_in_millis() tells handlers the truth.
TIMEOUTS = {"collect": 900.0, "api": 29.0}


class FunctionLoadError(RuntimeError):
    """A function's code cannot be found or imported."""


def functions_dir() -> Path:
    """``$SPENDWATCH_FUNCTIONS_DIR``, else ``functions/`` in the checkout this package lives in."""
    override = os.environ.get(FUNCTIONS_DIR_ENV)
    folder = Path(override) if override else Path(__file__).resolve().parents[3] / "functions"
    if not folder.is_dir():
        raise FunctionLoadError(f"no functions folder at {folder}; set {FUNCTIONS_DIR_ENV} to the repo's functions/")
    return folder


def add_functions_path() -> str:
    """Put the functions folder at the front of ``sys.path`` (where Lambda puts a function's code) and return it."""
    folder = str(functions_dir())
    if folder not in sys.path:
        sys.path.insert(0, folder)
    return folder


def load_handler(entry: str) -> Handler:
    """Import ``package.module.attribute`` from the functions folder, as Lambda resolves its handler setting."""
    folder = add_functions_path()
    module_name, _, attribute = entry.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise FunctionLoadError(f"cannot import {module_name} from {folder}: {exc}") from exc
    handler = getattr(module, attribute, None)
    if not callable(handler):
        raise FunctionLoadError(f"{entry} is not a callable handler")
    return handler  # type: ignore[no-any-return]


class LocalFunction:
    """One function, like one warm Lambda container: imported once, one invocation at a time."""

    def __init__(self, name: str, region: str, handler: Handler | None = None) -> None:
        self.name = name
        self.region = region
        self._handler = handler
        # Handlers keep per-invocation state in module globals (logger keys, metrics), as Lambda allows.
        self._lock = threading.Lock()

    def load(self) -> None:
        """Import the handler now (so import errors surface at start, not on the first request)."""
        if self._handler is None:
            self._handler = load_handler(FUNCTIONS[self.name])

    def invoke(self, event: dict[str, Any]) -> Any:
        """Run the handler with a fresh context and return what it returns (exceptions propagate)."""
        with self._lock:
            self.load()
            assert self._handler is not None
            context = LambdaContext(
                function_name=f"spendwatch-{self.name}",
                region=self.region,
                timeout_seconds=TIMEOUTS.get(self.name, 60.0),
            )
            return self._handler(event, context)
