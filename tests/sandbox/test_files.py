"""Photos and documents: multipart uploads, file_id re-sends, getFile and downloads."""

from __future__ import annotations

import aiohttp
import pytest
from telegram import Bot
from telegram.error import BadRequest

from bot.sandbox import SandboxBotAPI
from bot.sandbox.media import image_size, sample_png


async def fetch(url: str) -> tuple[bytes, dict[str, str]]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        assert response.status == 200
        return await response.read(), dict(response.headers)


async def test_an_uploaded_photo_can_be_downloaded_and_sent_again(
    sandbox: SandboxBotAPI, bot: Bot, chat_id: int
) -> None:
    image = sample_png(120, 80)
    sent = await bot.send_photo(chat_id, image, caption="<i>today's walk</i>", parse_mode="HTML")
    photo = sent.photo[-1]
    assert (photo.width, photo.height) == (120, 80)
    assert sent.caption == "today's walk"

    file = await bot.get_file(photo.file_id)
    assert bytes(await file.download_as_bytearray()) == image

    again = await bot.send_photo(chat_id, photo.file_id)
    assert again.photo[-1].file_unique_id == photo.file_unique_id

    [entry, _] = sandbox.bot_messages(chat_id)
    assert entry.kind == "photo" and entry.photo_url is not None
    body, headers = await fetch(sandbox.page_url.rstrip("/") + entry.photo_url)
    assert body == image and headers["Content-Type"] == "image/png"


async def test_a_document_keeps_its_name_and_downloads_as_an_attachment(
    sandbox: SandboxBotAPI, bot: Bot, chat_id: int
) -> None:
    sent = await bot.send_document(chat_id, "安全计划\n".encode(), filename="安全计划.txt")
    assert sent.document is not None
    assert sent.document.file_name == "安全计划.txt"
    assert sent.document.mime_type == "text/plain"
    file = await bot.get_file(sent.document.file_id)
    assert bytes(await file.download_as_bytearray()) == "安全计划\n".encode()

    [entry] = sandbox.bot_messages(chat_id)
    assert entry.document_url is not None and entry.file_name == "安全计划.txt"
    _, headers = await fetch(sandbox.page_url.rstrip("/") + entry.document_url)
    assert headers["Content-Disposition"].startswith("attachment;")


async def test_a_photo_from_a_person_reaches_the_bot_and_downloads(
    sandbox: SandboxBotAPI, bot: Bot, chat_id: int
) -> None:
    await bot.get_updates()
    await sandbox.user_send_photo(chat_id, caption="my meds")
    updates = await bot.get_updates(offset=-1)
    message = updates[0].message
    assert message is not None and message.caption == "my meds"
    data = await (await bot.get_file(message.photo[-1].file_id)).download_as_bytearray()
    assert image_size(bytes(data)) == (96, 64)


async def test_stickers_voice_and_documents_from_people(
    sandbox: SandboxBotAPI, bot: Bot, chat_id: int
) -> None:
    await sandbox.user_send_sticker(chat_id, "🌱")
    await sandbox.user_send_voice(chat_id, duration=4)
    await sandbox.user_send_document(chat_id, b"%PDF-1.4", "letter.pdf")
    updates = await bot.get_updates()
    messages = [u.message for u in updates if u.message is not None][1:]
    assert messages[0].sticker is not None and messages[0].sticker.emoji == "🌱"
    assert messages[1].voice is not None
    assert messages[1].voice.file_id.startswith("AwAC")
    assert messages[2].document is not None
    assert messages[2].document.mime_type == "application/pdf"


async def test_files_telegram_would_refuse(sandbox: SandboxBotAPI, bot: Bot, chat_id: int) -> None:
    with pytest.raises(BadRequest, match=r"(?i)IMAGE_PROCESS_FAILED"):
        await bot.send_photo(chat_id, b"not an image")
    document = await bot.send_document(chat_id, b"text", filename="a.txt")
    assert document.document is not None
    with pytest.raises(BadRequest, match=r"(?i)can't use file of type Document as Photo"):
        await bot.send_photo(chat_id, document.document.file_id)
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_photo(chat_id, "AgACnot-a-real-id")
    with pytest.raises(BadRequest, match=r"(?i)invalid file_id"):
        await bot.get_file("nope")
