"""File storage through advanced-alchemy's backend registry: a local directory, or an object store.

``file://`` URLs get :class:`LocalDirectoryBackend`; every other URL (``s3://``, ``gs://``, ``az://``,
``memory://``) gets advanced-alchemy's obstore backend. Both are advanced-alchemy ``StorageBackend``s,
so callers use one API (``FileObject.save_async``, ``delete_object_async``) whatever the target.

Why a backend of our own for local directories: obstore runs every call on its own Rust threads and
hands the result back to the event loop. Under load that round trip waits for the GIL and for the OS
to schedule the other thread, milliseconds each time, which capped the public sign endpoint at about
700 req/s with most of the CPU idle (see bench/README.md). Writing a small file to a local directory
takes microseconds, so this backend does it in the calling thread, like the reference stack does.
Files are written to a temporary name and renamed into place, so no reader ever sees half a file.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from advanced_alchemy.types.file_object import StorageBackend, storages
from advanced_alchemy.types.file_object.backends.obstore import ObstoreBackend

if TYPE_CHECKING:
    from advanced_alchemy.types.file_object import FileObject
    from advanced_alchemy.types.file_object.base import AsyncDataLike, DataLike, PathLike

__all__ = ["LocalDirectoryBackend", "register_storage"]


def register_storage(key: str, url: str) -> StorageBackend:
    """Register (or replace) the storage backend ``key`` for ``url`` and return it."""
    backend: StorageBackend
    if url.startswith("file://"):
        backend = LocalDirectoryBackend(key=key, root=Path(url.removeprefix("file://")))
    else:
        backend = ObstoreBackend(key=key, fs=url)
    storages.register_backend(backend)
    return backend


class LocalDirectoryBackend(StorageBackend):
    """Objects as files under ``root`` (created on first use), written in the calling thread."""

    driver = "local"
    protocol = "file"

    def __init__(self, key: str, root: Path) -> None:
        super().__init__(key=key, fs=None)
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self._root = str(self.root)
        self._directories: set[str] = {self._root}

    def _file(self, path: PathLike) -> str:
        """The file of ``path`` under the root (plain string work: it runs on every signature)."""
        relative = self._to_path(path)
        parts = [part for part in relative.split("/") if part not in ("", ".")]
        if relative.startswith("/") or ".." in parts or not parts:
            raise ValueError(f"not a path inside the storage: {relative}")
        return os.path.join(self._root, *parts)

    def get_content(self, path: PathLike, *, options: dict[str, Any] | None = None) -> bytes:
        return Path(self._file(path)).read_bytes()

    async def get_content_async(self, path: PathLike, *, options: dict[str, Any] | None = None) -> bytes:
        return self.get_content(path, options=options)

    def save_object(
        self,
        file_object: FileObject,
        data: DataLike,
        *,
        use_multipart: bool | None = None,
        chunk_size: int = 5 * 1024 * 1024,
        max_concurrency: int = 12,
    ) -> FileObject:
        target = self._file(file_object.path)
        content = _as_bytes(data)
        directory, name = os.path.split(target)
        staging = f"{directory}/.{name}.{secrets.token_hex(4)}.part"
        try:
            self._write_new(staging, content, directory)
            os.replace(staging, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(staging)
            raise
        file_object.size = len(content)
        file_object.last_modified = time.time()
        return file_object

    def _write_new(self, name: str, content: bytes, directory: str) -> None:
        """Create ``name`` (never an existing file) and write ``content``: plain system calls, no buffering."""
        if directory not in self._directories:
            os.makedirs(directory, exist_ok=True)
            self._directories.add(directory)
        try:
            descriptor = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        except FileNotFoundError:  # the directory went away since we saw it
            self._directories.discard(directory)
            os.makedirs(directory, exist_ok=True)
            descriptor = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        try:
            view = memoryview(content)
            while view:
                view = view[os.write(descriptor, view) :]
        finally:
            os.close(descriptor)

    async def save_object_async(
        self,
        file_object: FileObject,
        data: AsyncDataLike,
        *,
        use_multipart: bool | None = None,
        chunk_size: int = 5 * 1024 * 1024,
        max_concurrency: int = 12,
    ) -> FileObject:
        return self.save_object(file_object, cast("DataLike", data))  # anything else: TypeError, nothing written

    def delete_object(self, paths: PathLike | Sequence[PathLike]) -> None:
        for path in [paths] if isinstance(paths, str | os.PathLike) else paths:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._file(path))

    async def delete_object_async(self, paths: PathLike | Sequence[PathLike]) -> None:
        self.delete_object(paths)

    def sign(
        self, paths: PathLike | Sequence[PathLike], *, expires_in: int | None = None, for_upload: bool = False
    ) -> str | list[str]:
        raise NotImplementedError("a local directory has no signed URLs; serve the file through the API")

    async def sign_async(
        self, paths: PathLike | Sequence[PathLike], *, expires_in: int | None = None, for_upload: bool = False
    ) -> str | list[str]:
        return self.sign(paths, expires_in=expires_in, for_upload=for_upload)


def _as_bytes(data: Any) -> bytes:
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data)
    if isinstance(data, str):
        return data.encode()
    if isinstance(data, Path):
        return data.read_bytes()
    raise TypeError(f"the local storage saves bytes, text or a file path, not {type(data).__name__}")
