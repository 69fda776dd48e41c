"""What the user reads in the terminal: plain lines on the real stdout, logs elsewhere."""

from __future__ import annotations

import os
import signal
import sys
import threading
from types import FrameType
from typing import TextIO

from aws_lambda_powertools import Logger

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class Console:
    """Thread-safe, flushed line output (a scheduler thread and the main thread both print)."""

    def __init__(self, out: TextIO, err: TextIO) -> None:
        self._out = out
        self._err = err
        self._lock = threading.Lock()
        self._closed = False

    def close(self) -> None:
        """Print nothing more: what start-up threads still say while the runtime stops is noise."""
        with self._lock:
            self._closed = True

    def line(self, text: str = "") -> None:
        """Print one line for the user."""
        self._write(self._out, text)

    def error(self, text: str) -> None:
        """Print a problem the user must act on."""
        self._write(self._err, f"spendwatch: {text}")

    def _write(self, stream: TextIO, text: str) -> None:
        with self._lock:
            if self._closed:
                return
            stream.write(text + "\n")
            stream.flush()


def make_logger(verbose: bool) -> Logger:
    """Structured logs of the runtime itself, on stderr so stdout stays readable."""
    return Logger(service="spendwatch-local", level="DEBUG" if verbose else "INFO", stream=sys.stderr)


def stop_on_signals(stop: threading.Event) -> None:
    """Set ``stop`` on SIGINT or SIGTERM; a second one ends the process at once, wherever the stop has got to."""

    def handle(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            sys.stdout.flush()
            sys.stderr.write("spendwatch: interrupted\n")
            sys.stderr.flush()
            os._exit(EXIT_INTERRUPTED)
        stop.set()

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)
