"""The web chat page, and the guard that keeps the whole server to this computer.

The page is plain HTML, CSS and JavaScript from `static/`: no build step, nothing fetched
from the internet. Requests whose Host is not a loopback name are refused, so a web site
cannot reach the sandbox through DNS rebinding; state-changing requests from another
origin are refused too.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Handler

STATIC_DIR = Path(__file__).parent / "static"
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
_PAGE_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"
)


@web.middleware
async def loopback_only(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.url.host not in LOOPBACK_NAMES:
        return web.Response(
            status=403, text="The sandbox answers only on this computer (http://127.0.0.1)."
        )
    # Another web page open in the same browser must not drive the sandbox: a request made
    # by another page carries its Origin, or Sec-Fetch-Site says it came from elsewhere (an
    # image or a link has no Origin, but browsers send Sec-Fetch-Site with every request).
    origin = request.headers.get("Origin")
    fetched_from = request.headers.get("Sec-Fetch-Site", "same-origin")
    if (origin is not None and origin != f"{request.scheme}://{request.host}") or (
        fetched_from not in ("same-origin", "none")
    ):
        return web.Response(status=403, text="Requests from other web pages are refused.")
    return await handler(request)


async def _index(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(
        STATIC_DIR / "index.html",
        headers={
            "Content-Security-Policy": _PAGE_POLICY,
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def page_routes() -> list[web.AbstractRouteDef]:
    return [web.get("/", _index), web.static("/static", STATIC_DIR)]
