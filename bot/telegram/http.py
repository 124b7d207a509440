"""Bot API requests over aiohttp, through python-telegram-bot's ``BaseRequest``.

PTB's default request class uses httpx. Its connection pool (httpcore) walks every
connection and every waiting request on each call, asking each socket whether it is still
usable: with a few hundred updates in flight that walk was half of the bot's CPU over HTTP
(py-spy, 100 updates/s against the sandbox; docs/benchmarks.md), and the bot fell behind.
aiohttp (already here for the sandbox) keeps idle connections in a queue per host, so a
call costs the same however busy the bot is.

The proxy settings (``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``NO_PROXY``) are read once, when the
session is made. aiohttp's ``trust_env`` would read them, and ``~/.netrc``, again on every
call, each time on a worker thread: two thread hops per call, about 0.6 ms of CPU (more
than the call itself against a local server), in every check-in answer and room copy.

Both the bot's calls and its long polling (``getUpdates``, one connection) use it. Errors
map to PTB's: a timeout to ``TimedOut``, anything from the connection to ``NetworkError``;
PTB turns HTTP status codes into its errors itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit
from urllib.request import getproxies

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from bot.metrics import Metrics


class AiohttpRequest(BaseRequest):
    """A ``BaseRequest`` on one ``aiohttp.ClientSession``, made in ``initialize``."""

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
        metrics: Metrics | None = None,
    ) -> None:
        self._metrics = metrics  # counts Telegram's 429s, which the rate limiter retries
        self._pool_size = connection_pool_size
        self._timeouts = _Timeouts(
            read_timeout, write_timeout, connect_timeout, pool_timeout, media_write_timeout
        )
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[str, str] = {}

    @property
    def read_timeout(self) -> float | None:
        return self._timeouts.read

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            # HTTPS_PROXY / HTTP_PROXY / NO_PROXY, as PTB's httpx client honoured them
            # (where Telegram is only reachable through a proxy)
            self._proxies = getproxies()
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        files = request_data.multipart_data if request_data else None
        fields = request_data.json_parameters if request_data else None
        body: aiohttp.FormData | dict[str, str] | None = fields
        if files:
            body = aiohttp.FormData()
            for name, value in (fields or {}).items():
                body.add_field(name, value)
            for name, (filename, content, mimetype) in files.items():
                body.add_field(name, content, filename=filename, content_type=mimetype)
        timeout = self._timeouts.for_call(
            bool(files), read_timeout, write_timeout, connect_timeout, pool_timeout
        )
        try:
            async with self._session.request(
                method, url, data=body, timeout=timeout, proxy=proxy_for(url, self._proxies)
            ) as response:
                if response.status == 429 and self._metrics is not None:
                    self._metrics.rate_limited.inc()
                return response.status, await response.read()
        except TimeoutError as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc


def proxy_for(url: str, proxies: Mapping[str, str]) -> str | None:
    """The proxy ``getproxies()`` names for the URL's scheme, unless ``NO_PROXY`` lists its
    host or a domain it is in (``*``: every host)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    for entry in proxies.get("no", "").split(","):
        domain = entry.strip().lstrip(".").lower()
        if domain == "*" or (domain and (host == domain or host.endswith("." + domain))):
            return None
    return proxies.get(parts.scheme)


@dataclass(frozen=True, slots=True)
class _Timeouts:
    """The request's own timeouts in seconds (None: no limit), for when PTB passes none."""

    read: float | None
    write: float | None
    connect: float | None
    pool: float | None
    media_write: float | None

    def for_call(
        self,
        media: bool,
        read_timeout: object,
        write_timeout: object,
        connect_timeout: object,
        pool_timeout: object,
    ) -> aiohttp.ClientTimeout:
        """aiohttp's timeout for one call, from what PTB passed for it and these defaults."""
        read = _given(read_timeout, self.read)
        write = _given(write_timeout, self.media_write if media else self.write)
        connect = _given(connect_timeout, self.connect)
        pool = _given(pool_timeout, self.pool)
        # aiohttp has no separate write timeout: sending the body and reading the answer
        # share the read allowance, which gets the write one added (an upload of a chart).
        sock_read = None if read is None else read + (write or 0.0)
        acquire = None if pool is None or connect is None else pool + connect
        return aiohttp.ClientTimeout(
            total=None, connect=acquire, sock_connect=connect, sock_read=sock_read
        )


def _given(value: object, default: float | None) -> float | None:
    """A timeout PTB passed, or ours when it passed its "use the default" marker (the public
    ``BaseRequest.DEFAULT_NONE``)."""
    if value is BaseRequest.DEFAULT_NONE:
        return default
    return float(value) if isinstance(value, int | float) else None
