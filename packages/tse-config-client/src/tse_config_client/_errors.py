"""Exceptions of the configuration client."""

from __future__ import annotations


class ConfigurationError(Exception):
    """A value could not be had: the service is unreachable or answered badly, and there was
    neither a cached value within ``max_stale`` nor a default.

    Attributes:
        key: the configuration key (None for requests that are not about one key).
        url: the URL that was asked.
        cause: what went wrong (also ``__cause__``), or None.
    """

    def __init__(
        self, message: str, *, key: str | None, url: str, cause: BaseException | None = None
    ) -> None:
        super().__init__(f"{message} (key {key!r}, {url})" if key else f"{message} ({url})")
        self.key = key
        self.url = url
        self.cause = cause


class ConfigurationKeyNotFound(ConfigurationError, KeyError):  # noqa: N818 - named by the issue
    """The service answered 404: it has no such key in the client's environment."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])
