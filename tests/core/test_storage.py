"""File storage: local directories write in place, atomically; other URLs go to advanced-alchemy's obstore backend."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from advanced_alchemy.types.file_object import FileObject, storages
from advanced_alchemy.types.file_object.backends.obstore import ObstoreBackend

from app.core.storage import LocalDirectoryBackend, register_storage


async def test_a_file_url_saves_reads_and_deletes_in_the_directory(tmp_path: Path) -> None:
    backend = register_storage("test-local", f"file://{tmp_path / 'store'}")
    assert isinstance(backend, LocalDirectoryBackend)
    assert storages.get_backend("test-local") is backend

    saved = await FileObject(backend="test-local", filename="ab/cd.png", to_filename="ab/cd.png").save_async(
        data=b"\x89PNG..."
    )
    assert saved.size == 7
    assert (tmp_path / "store" / "ab" / "cd.png").read_bytes() == b"\x89PNG..."
    assert await backend.get_content_async("ab/cd.png") == b"\x89PNG..."
    assert list((tmp_path / "store" / "ab").iterdir()) == [tmp_path / "store" / "ab" / "cd.png"]  # no leftovers

    await backend.delete_object_async("ab/cd.png")
    assert not (tmp_path / "store" / "ab" / "cd.png").exists()
    await backend.delete_object_async(["ab/cd.png"])  # deleting what is gone is fine


async def test_saving_again_replaces_the_whole_file(tmp_path: Path) -> None:
    backend = LocalDirectoryBackend(key="test-replace", root=tmp_path)
    await backend.save_object_async(FileObject(backend=backend, filename="a.txt"), b"a much longer first version")
    await backend.save_object_async(FileObject(backend=backend, filename="a.txt"), b"short")
    assert (tmp_path / "a.txt").read_bytes() == b"short"


@pytest.mark.parametrize("path", ["../outside.png", "/etc/passwd", "a/../../b.png", ""])
async def test_paths_outside_the_directory_are_refused(tmp_path: Path, path: str) -> None:
    backend = LocalDirectoryBackend(key="test-escape", root=tmp_path / "store")
    with pytest.raises(ValueError, match="not a path inside the storage"):
        backend.get_content(path)
    with pytest.raises(ValueError, match="not a path inside the storage"):
        backend.delete_object(path)
    assert not (tmp_path / "outside.png").exists()


async def test_unsupported_data_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    backend = LocalDirectoryBackend(key="test-data", root=tmp_path)

    async def chunks() -> object:
        yield b"x"

    with pytest.raises(TypeError, match="saves bytes, text or a file path"):
        await backend.save_object_async(FileObject(backend=backend, filename="a.bin"), chunks())  # type: ignore[arg-type]
    assert os.listdir(tmp_path) == []


def test_a_local_directory_has_no_signed_urls(tmp_path: Path) -> None:
    with pytest.raises(NotImplementedError):
        LocalDirectoryBackend(key="test-sign", root=tmp_path).sign("a.png")


async def test_an_object_store_url_uses_the_obstore_backend() -> None:
    backend = register_storage("test-memory", "memory://")
    assert isinstance(backend, ObstoreBackend)
    await FileObject(backend="test-memory", filename="x/y.png", to_filename="x/y.png").save_async(data=b"png")
    assert await backend.get_content_async("x/y.png") == b"png"
    await backend.delete_object_async("x/y.png")


async def test_a_directory_removed_behind_its_back_is_made_again(tmp_path: Path) -> None:
    backend = LocalDirectoryBackend(key="test-gone", root=tmp_path / "store")
    await backend.save_object_async(FileObject(backend=backend, filename="ab/one.png"), b"1")
    shutil.rmtree(tmp_path / "store" / "ab")
    await backend.save_object_async(FileObject(backend=backend, filename="ab/two.png"), b"2")
    assert await backend.get_content_async("ab/two.png") == b"2"
