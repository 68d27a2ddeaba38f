"""Logs: one JSON object per line (``LOG_FORMAT=json``) or plain text (``console``)."""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

_CONSOLE = "%(asctime)s %(levelname)s %(name)s [{service}/{instance}]: %(message)s"


def _drop_color_message(record: logging.LogRecord) -> bool:
    record.__dict__.pop("color_message", None)  # uvicorn's ANSI-coloured copy of the message
    return True


def configure_logging(
    level: str = "INFO", fmt: str = "json", *, service: str = "", instance: str = ""
) -> None:
    """Send the root logger's records to stderr, replacing its handlers.

    JSON records carry ``timestamp`` (RFC 3339), ``level``, ``logger``, ``message``,
    ``service`` and ``instance``, plus ``exc_info`` when there is one and any ``extra=``.

    Args:
        level: a :mod:`logging` level name.
        fmt: ``"json"`` or ``"console"``.
        service, instance: stamped on every record.

    Raises:
        ValueError: an unknown level or format.
    """
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(
            JsonFormatter(
                "{levelname}{name}{message}",
                style="{",
                rename_fields={"levelname": "level", "name": "logger"},
                static_fields={"service": service, "instance": instance},
                timestamp=True,
            )
        )
    elif fmt == "console":
        handler.setFormatter(logging.Formatter(_CONSOLE.format(service=service, instance=instance)))
    else:
        raise ValueError(f"log format must be 'json' or 'console', got {fmt!r}")
    handler.addFilter(_drop_color_message)
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # httpx logs every request at INFO (readiness probes would flood the log)
    logging.getLogger("httpx").setLevel(max(root.level, logging.WARNING))
