"""The web chat page and the control API it uses, served on loopback only."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import aiohttp
import pytest

from bot.sandbox import SandboxBotAPI
from bot.sandbox.media import sample_png


async def request(
    sandbox: SandboxBotAPI,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, sandbox.page_url + path.lstrip("/"), json=body, headers=headers) as r,
    ):
        text = await r.text()
        try:
            return r.status, json.loads(text)
        except ValueError:
            return r.status, text


async def test_the_page_is_served_with_its_banner(sandbox: SandboxBotAPI) -> None:
    status, html = await request(sandbox, "GET", "/")
    assert status == 200
    assert "Sandbox — nothing leaves this computer" in html
    for asset in ("/static/app.js", "/static/style.css"):
        assert asset in html
        assert (await request(sandbox, "GET", asset))[0] == 200


async def test_requests_for_another_host_name_are_refused(sandbox: SandboxBotAPI) -> None:
    for host in ("evil.example", "192.168.1.20", "tongban.example.org:80"):
        status, _ = await request(sandbox, "GET", "/", headers={"Host": host})
        assert status == 403
    status, _ = await request(sandbox, "GET", "/", headers={"Host": f"localhost:{sandbox.port}"})
    assert status == 200


async def test_state_changes_from_another_web_page_are_refused(sandbox: SandboxBotAPI) -> None:
    body = {"first_name": "Mallory"}
    status, _ = await request(
        sandbox, "POST", "/sandbox/api/users", body, {"Origin": "https://evil.example"}
    )
    assert status == 403
    same = {"Origin": sandbox.page_url.rstrip("/")}
    status, answer = await request(sandbox, "POST", "/sandbox/api/users", body, same)
    assert status == 200 and answer["result"]["first_name"] == "Mallory"


async def test_only_loopback_addresses_can_be_listened_on() -> None:
    with pytest.raises(ValueError, match="only on this computer"):
        await SandboxBotAPI().start(host="0.0.0.0")


async def test_a_person_talks_through_the_control_api(sandbox: SandboxBotAPI) -> None:
    status, created = await request(
        sandbox,
        "POST",
        "/sandbox/api/users",
        {"first_name": "陳大文", "language_code": "zh-HK", "role": "family member"},
    )
    assert status == 200
    person = created["result"]
    assert person["role"] == "family member" and person["language_code"] == "zh-HK"
    uid = person["id"]

    status, sent = await request(
        sandbox, "POST", f"/sandbox/api/users/{uid}/text", {"text": "/start"}
    )
    assert status == 200 and sent["result"]["entities"][0]["type"] == "bot_command"
    image = base64.b64encode(sample_png()).decode()
    status, photo = await request(
        sandbox, "POST", f"/sandbox/api/users/{uid}/photo", {"data_base64": image}
    )
    assert status == 200 and photo["result"]["kind"] == "photo"
    status, refused = await request(
        sandbox, "POST", f"/sandbox/api/users/{uid}/press", {"message_id": 1, "callback_data": "x"}
    )
    assert status == 400 and "no bot message" in refused["error"]

    status, history = await request(sandbox, "GET", f"/sandbox/api/chats/{uid}/history")
    assert [e["kind"] for e in history["result"]] == ["text", "photo"]
    status, state = await request(sandbox, "GET", "/sandbox/api/state")
    assert state["result"]["people"][0]["first_name"] == "陳大文"
    assert state["result"]["demo_cast"] is False


async def test_control_posts_must_be_json(sandbox: SandboxBotAPI) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(sandbox.page_url + "sandbox/api/users", data={"first_name": "A"}) as r,
    ):
        assert r.status == 415


async def test_the_page_hears_changes_live(sandbox: SandboxBotAPI) -> None:
    events: list[dict[str, Any]] = []
    listening = asyncio.Event()

    async def listen() -> None:
        async with (
            aiohttp.ClientSession() as http,
            http.get(sandbox.page_url + "sandbox/api/events") as r,
        ):
            async for line in r.content:
                if line.startswith(b"data: "):
                    events.append(json.loads(line[6:]))
                    listening.set()
                    if events[-1]["type"] == "message":
                        return

    listener = asyncio.create_task(listen())
    await asyncio.wait_for(listening.wait(), 2)
    person = await sandbox.create_user("Ana", "en")
    await sandbox.user_send_text(person["id"], "hello")
    await asyncio.wait_for(listener, 2)
    assert [e["type"] for e in events] == ["hello", "person", "person", "message"]
    assert events[-1]["entry"]["text"] == "hello"
    assert str(person["id"]) in events[1]["profiles"]


async def test_demo_cast_and_user_created_hooks() -> None:
    created: list[dict[str, Any]] = []

    async def on_user_created(user: dict[str, Any]) -> None:
        created.append(user)

    async with SandboxBotAPI(rate_limits=False, on_user_created=on_user_created) as sandbox:
        assert (await request(sandbox, "POST", "/sandbox/api/demo-cast", {}))[0] == 404

        async def cast() -> list[dict[str, Any]]:
            return [await sandbox.create_user("Demo client", "zh-CN", role="client")]

        sandbox.demo_cast = cast
        status, answer = await request(sandbox, "POST", "/sandbox/api/demo-cast", {})
        state = (await request(sandbox, "GET", "/sandbox/api/state"))[1]["result"]
    assert status == 200 and answer["result"][0]["role"] == "client"
    assert state["demo_cast"] is True
    assert [u["first_name"] for u in created] == ["Demo client"]


async def test_no_other_web_page_can_make_the_bot_send(sandbox: SandboxBotAPI) -> None:
    """A link or an image on another page is a GET without Origin; a script's request
    carries its Origin; browsers mark both with Sec-Fetch-Site."""
    person = (await request(sandbox, "POST", "/sandbox/api/users", {"first_name": "Ann"}))[1]
    chat = person["result"]["id"]
    send = f"/bot{sandbox.token}/sendMessage?chat_id={chat}&text=hi"
    before = len(sandbox.calls)
    status, answer = await request(sandbox, "GET", send)
    assert status == 405 and answer["description"].startswith("Method Not Allowed")
    status, _ = await request(
        sandbox,
        "POST",
        f"/bot{sandbox.token}/sendMessage",
        {"chat_id": chat, "text": "hi"},
        {"Origin": "https://evil.example"},
    )
    assert status == 403
    status, _ = await request(
        sandbox, "GET", f"/bot{sandbox.token}/getMe", headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert status == 403
    assert [c.method for c in sandbox.calls[before:]] == ["sendMessage"], "refused, nothing sent"
    assert sandbox.bot_messages(chat) == []
    status, answer = await request(sandbox, "GET", f"/bot{sandbox.token}/getMe")
    assert status == 200 and answer["ok"]


def test_the_sandbox_has_a_new_token_at_every_start() -> None:
    from bot.sandbox.launch import new_token

    first, second = new_token(), new_token()
    assert first != second
    SandboxBotAPI(token=first)  # a valid bot token
