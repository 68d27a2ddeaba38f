"""gRPC contracts of the TSE services, and converters between their messages and
:mod:`tse_models` dataclasses.

The generated messages and stubs are in :mod:`tse_interservice.proto`; the client manager and
server kit arrive with their own issue.
"""

from importlib.metadata import PackageNotFoundError, version

from tse_interservice._convert import PROTO_MESSAGES, from_proto, to_proto

try:
    __version__ = version("tse-interservice")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = ["PROTO_MESSAGES", "__version__", "from_proto", "to_proto"]
