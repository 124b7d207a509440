"""Files the sandbox holds: uploads from the bot and media sent by simulated people."""

from __future__ import annotations

import mimetypes
import secrets
from dataclasses import dataclass
from typing import Any, Literal

FileKind = Literal["photo", "document", "sticker", "voice"]

PHOTO_MAX_BYTES = 10 * 1024 * 1024
UPLOAD_MAX_BYTES = 50 * 1024 * 1024
DOWNLOAD_MAX_BYTES = 20 * 1024 * 1024

_ID_PREFIX = {"photo": "AgAC", "document": "BQAC", "sticker": "CAAC", "voice": "AwAC"}
_FOLDER = {"photo": "photos", "document": "documents", "sticker": "stickers", "voice": "voice"}


@dataclass(frozen=True)
class StoredFile:
    file_id: str
    file_unique_id: str
    kind: FileKind
    data: bytes
    mime_type: str
    file_path: str
    file_name: str | None = None
    dimensions: tuple[int, int] | None = None  # width and height of a photo or sticker

    @property
    def size(self) -> int:
        return len(self.data)

    def to_file(self) -> dict[str, Any]:
        """The Bot API File object (getFile's answer)."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
            "file_path": self.file_path,
        }

    def to_document(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "mime_type": self.mime_type,
            "file_size": self.size,
        }
        if self.file_name:
            document["file_name"] = self.file_name
        return document

    def to_sticker(self, emoji: str) -> dict[str, Any]:
        return {
            **self.to_photo_size(),
            "type": "regular",
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }

    def to_voice(self, duration: int) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "duration": duration,
            "mime_type": self.mime_type,
            "file_size": self.size,
        }

    def to_photo_size(self) -> dict[str, Any]:
        width, height = self.dimensions or (0, 0)
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
            "width": width,
            "height": height,
        }


class FileStore:
    def __init__(self) -> None:
        self._by_id: dict[str, StoredFile] = {}
        self._by_unique_id: dict[str, StoredFile] = {}
        self._by_path: dict[str, StoredFile] = {}

    def add(
        self,
        kind: FileKind,
        data: bytes,
        *,
        mime_type: str | None = None,
        file_name: str | None = None,
        dimensions: tuple[int, int] | None = None,
    ) -> StoredFile:
        mime = mime_type or _guess_mime(file_name) or "application/octet-stream"
        extension = mimetypes.guess_extension(mime) or ".bin"
        unique_id = "AQAD" + secrets.token_urlsafe(9)
        stored = StoredFile(
            file_id=_ID_PREFIX[kind] + secrets.token_urlsafe(33),
            file_unique_id=unique_id,
            kind=kind,
            data=data,
            mime_type=mime,
            file_path=f"{_FOLDER[kind]}/file_{len(self._by_id)}{extension}",
            file_name=file_name,
            dimensions=dimensions,
        )
        self._by_id[stored.file_id] = stored
        self._by_unique_id[unique_id] = stored
        self._by_path[stored.file_path] = stored
        return stored

    def by_id(self, file_id: str) -> StoredFile | None:
        return self._by_id.get(file_id)

    def by_unique_id(self, unique_id: str) -> StoredFile | None:
        return self._by_unique_id.get(unique_id)

    def by_path(self, file_path: str) -> StoredFile | None:
        return self._by_path.get(file_path)


def _guess_mime(file_name: str | None) -> str | None:
    return mimetypes.guess_type(file_name)[0] if file_name else None
