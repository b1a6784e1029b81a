"""Where uploads and pyramids live: Django's default storage, local files or a bucket.

``DJANGO_STORAGE=local`` (the default) keeps them under ``MEDIA_ROOT``;
``DJANGO_STORAGE=s3`` keeps them in an S3-compatible bucket (django-storages).
Either way the rest of the code goes through these calls:

* :func:`storage_put` moves a whole local file into storage under its final name.
  Readers only ever see a complete file: a rename on the local disk, a single
  PUT (or a multipart upload, aborted on failure) on S3, where an object becomes
  visible only once it is complete.
* :func:`storage_reader` reads byte ranges of a stored file (:class:`RangeReader`):
  ``os.pread`` on the local disk, one ranged ``GetObject`` per read on a bucket
  (neighbouring ranges coalesced into one request by :meth:`RangeReader.read_many`).
  Serving reads pyramids only this way (:mod:`tiles.core.pyramid`): the TIFF
  structure once, then each tile's bytes; never the whole object.
* :func:`storage_local_path` answers a local path to read a whole stored file with:
  the file itself on the local disk, or a copy in ``DATA_DIR/cache``
  (``DJANGO_STORAGE_CACHE_DIR``) for a bucket, downloaded once. Only small files
  are read this way (well curves' ``.npy``); no pyramid is served from a copy
  (django-large-image's stock ``info/*`` routes still open one through
  :func:`ingest.selectors.image_local_path` until their viewset opens
  :func:`tiles.services.large_image_source` instead).
* :func:`storage_delete` removes a stored file and its cached copy, if any.

Client choice (measured in ``benchmarks/storage.py`` against moto on 127.0.0.1):
boto3 ranged ``GetObject`` through django-storages' own connection. It holds the
bucket's credentials chain, retries and endpoint settings already; django-storages
keeps one boto3 resource per thread and botocore's client is thread-safe, with
urllib3 keep-alive pools, so a gunicorn sync worker reuses one connection for every
request. A new client per request costs 2-3x a reused one; a raw keep-alive GET
without boto3 is about a third faster per request (what a presigned URL and
urllib3 could win later). fsspec/s3fs and obstore are not dependencies and would
bring an event loop or a Rust client for the same ranged GET. No local block cache:
a cold tile is in no cache by definition, rendered outputs are shared by every
process in the tiles cache, decoded tiles stay in process
(:data:`tiles.core.pyramid.DECODED_TILES`), so a per-pod disk cache of blocks would
mostly hold what those caches hold already; the pod's disk stays free of pyramids.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import weakref
from pathlib import Path, PurePosixPath
from typing import Any, cast

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage, storages

logger = logging.getLogger(__name__)

_COPY_CHUNK = 4 << 20

#: Downloads into the cache so far in this process (tests and diagnostics read it).
download_count = 0
_count_lock = threading.Lock()


def storage() -> Storage:
    """The storage of uploads and pyramids: Django's ``default`` (what ``FileField`` uses)."""
    return storages["default"]


def storage_is_local() -> bool:
    """True when stored files are plain files on the local disk (no cache needed)."""
    return isinstance(storage(), FileSystemStorage)


def cache_dir() -> Path:
    """The read-through cache of stored files: ``DJANGO_STORAGE_CACHE_DIR`` or ``DATA_DIR/cache``."""
    return Path(settings.STORAGE_CACHE_DIR or Path(settings.DATA_DIR) / "cache")


def _cache_path(name: str) -> Path:
    """The cached copy of the stored file ``name`` (a relative POSIX name such as ``images/1-ab.tiff``).

    Raises:
        ValueError: ``name`` is absolute or climbs out of the cache (``..``).
    """
    parts = PurePosixPath(name).parts
    if not parts or PurePosixPath(name).is_absolute() or ".." in parts:
        raise ValueError(f"not a storage name: {name!r}")
    return cache_dir().joinpath(*parts)


def storage_local_path(name: str) -> Path:
    """A local file holding the stored file ``name``, to open by path.

    On the local disk, the stored file itself. On a bucket, a copy in the cache,
    downloaded on first use into a temporary file in the same folder and then
    renamed into place (``os.replace``), so concurrent requests (threads or
    processes) never see a partial copy: each may download, the last rename wins,
    and the bytes are the same. Later calls only ``stat`` the copy.

    Args:
        name: the storage name (``image.file.name``).

    Returns:
        An absolute path on the local disk.

    Raises:
        FileNotFoundError: the file is not in storage.
        ValueError: ``name`` is not a relative storage name.
    """
    if storage_is_local():
        return Path(storage().path(name))
    target = _cache_path(name)
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".download", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            _download(name, out)
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return target


def _download(name: str, out) -> None:
    """Copy the stored file ``name`` into the open binary file ``out``.

    S3 storages: boto3's managed transfer (ranged GETs in parallel for large
    objects), straight into ``out``; other storages: ``Storage.open`` in chunks.
    """
    global download_count  # noqa: PLW0603 (a process-wide counter the tests read)
    with _count_lock:
        download_count += 1
    backend = storage()
    bucket = getattr(backend, "bucket", None)
    if bucket is not None and hasattr(backend, "_normalize_name"):
        from botocore.exceptions import ClientError
        from storages.utils import clean_name

        key = backend._normalize_name(clean_name(name))  # noqa: SLF001 (django-storages' key mapping)
        try:
            bucket.Object(key).download_fileobj(out)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey"):
                raise FileNotFoundError(f"not in storage: {name}") from None
            raise
        return
    with storage().open(name, "rb") as source:
        shutil.copyfileobj(source, out, _COPY_CHUNK)


def storage_fetch(name: str, destination: Path) -> Path:
    """The stored file ``name`` as a local file, for one job (not cached).

    On the local disk the stored file itself is returned and nothing is copied;
    otherwise it is downloaded to ``destination``, which the caller deletes.

    Returns:
        The path to read.
    """
    if storage_is_local():
        return Path(storage().path(name))
    destination.parent.mkdir(parents=True, exist_ok=True)
    with open(destination, "wb") as out:
        _download(name, out)
    return destination


def storage_put(local_path: Path, name: str) -> str:
    """Move the whole local file ``local_path`` into storage as ``name``.

    Local disk: a rename into ``MEDIA_ROOT`` (a copy to a temporary name and a
    rename when ``MEDIA_ROOT`` is on another file system). Bucket: an upload
    (multipart for large files; boto3 aborts a failed one, so no part lingers),
    after which ``local_path`` is deleted. An object already stored under
    ``name`` is replaced: names carry the image id and content hash, so a job
    run again writes the same bytes.

    Args:
        local_path: a complete file on the local disk; it is gone afterwards.
        name: the storage name, e.g. ``images/12-0123456789abcdef.tiff``.

    Returns:
        The name stored (``name``).

    Raises:
        OSError, botocore.exceptions.BotoCoreError, ...: the move or upload
            failed; nothing is stored under ``name`` then and ``local_path`` stays
            for the caller to delete.
    """
    local_path = Path(local_path)
    if storage_is_local():
        target = Path(storage().path(name))
        target.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(local_path, 0o644)
        try:
            os.replace(local_path, target)
        except OSError:
            # Another file system: copy beside the target, then rename (still atomic).
            fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
            os.close(fd)
            try:
                shutil.copyfile(local_path, tmp_name)
                os.chmod(tmp_name, 0o644)
                os.replace(tmp_name, target)
            except BaseException:
                Path(tmp_name).unlink(missing_ok=True)
                raise
            local_path.unlink()
        return name
    with open(local_path, "rb") as stream:
        stored = storage().save(name, File(stream, name=PurePosixPath(name).name))
    if stored != name:  # a storage that renames instead of replacing: keep ours
        storage().delete(stored)
        raise RuntimeError(f"storage stored {name!r} as {stored!r}; it must overwrite (file_overwrite)")
    local_path.unlink()
    return name


def storage_delete(name: str) -> None:
    """Delete the stored file ``name`` (no error when it is gone) and its cached copy, if any.

    A pyramid's parsed structure and open readers are dropped by
    :func:`tiles.source.forget` when its image row is deleted.
    """
    if not name:
        return
    storage().delete(name)
    if not storage_is_local():
        _cache_path(name).unlink(missing_ok=True)


def storage_check() -> None:
    """Write, read back and delete a small probe file, for ``/readyz``.

    Raises:
        Exception: whatever the storage raises when unreachable, or RuntimeError
            when the probe does not read back.
    """
    import uuid

    from django.core.files.base import ContentFile

    backend = storage()
    stored = backend.save(f".readyz-{uuid.uuid4().hex}", ContentFile(b"ok"))
    try:
        with backend.open(stored, "rb") as probe:
            if probe.read() != b"ok":
                raise RuntimeError("the storage probe did not read back")
    finally:
        backend.delete(stored)


# -- range reads (serving pyramids without downloading them) ------------------------------

#: Bytes fetched from a bucket by range reads in this process, and the requests made
#: (tests and the storage benchmark read them).
range_stats = {"requests": 0, "bytes": 0}
#: Ranges closer than this many bytes are fetched in one request (adjacent tiles are
#: contiguous in our pyramids; a small gap costs less than another round trip).
COALESCE_GAP = 4 << 10
#: One coalesced request fetches at most this many bytes (longer runs are split).
COALESCE_MAX = 32 << 20


class RangeReader:
    """Ranged reads of one stored file: ``os.pread`` on the local disk, ranged GETs on a bucket.

    Thread-safe: a local reader shares one file descriptor (``pread`` has no file
    position); a bucket reader uses the calling thread's boto3 client (django-storages
    keeps one per thread) and keeps no state but the object's size.

    Attributes:
        name: the storage name (``image.file.name``).
    """

    def __init__(self, name: str):
        self.name = name

    @property
    def size(self) -> int:
        """The file's size in bytes."""
        raise NotImplementedError

    def read(self, offset: int, length: int) -> bytes:
        """``length`` bytes from ``offset`` (fewer only at the end of the file)."""
        raise NotImplementedError

    def read_many(self, ranges: list[tuple[int, int]]) -> list[bytes]:
        """The bytes of each ``(offset, length)`` range, fetching neighbouring ranges together.

        Ranges are sorted by offset and merged when less than :data:`COALESCE_GAP`
        bytes apart (up to :data:`COALESCE_MAX` a request): a window of adjacent tiles
        is one request.

        Returns:
            One ``bytes`` per range, in the order given.
        """
        order = sorted(range(len(ranges)), key=lambda i: ranges[i][0])
        out: list[bytes] = [b""] * len(ranges)
        run: list[int] = []
        for i in order:
            if run:
                start = ranges[run[0]][0]
                end = max(ranges[j][0] + ranges[j][1] for j in run)
                offset, length = ranges[i]
                if offset - end > COALESCE_GAP or offset + length - start > COALESCE_MAX:
                    self._read_run(ranges, run, out)
                    run = []
            run.append(i)
        if run:
            self._read_run(ranges, run, out)
        return out

    def _read_run(self, ranges: list[tuple[int, int]], run: list[int], out: list[bytes]) -> None:
        start = ranges[run[0]][0]
        end = max(ranges[j][0] + ranges[j][1] for j in run)
        data = memoryview(self.read(start, end - start))
        for j in run:
            offset, length = ranges[j]
            out[j] = bytes(data[offset - start : offset - start + length])

    def close(self) -> None:
        """Release what the reader holds (a file descriptor)."""


class LocalRangeReader(RangeReader):
    """A stored file on the local disk, read with ``os.pread`` (no copy, no cache)."""

    def __init__(self, name: str, path: Path):
        super().__init__(name)
        self.path = path
        fd = os.open(path, os.O_RDONLY)
        self._fd = fd
        self._size = os.fstat(fd).st_size
        self._closer = weakref.finalize(self, os.close, fd)

    @property
    def size(self) -> int:
        return self._size

    def read(self, offset: int, length: int) -> bytes:
        return os.pread(self._fd, length, offset)

    def close(self) -> None:
        self._closer()


class S3RangeReader(RangeReader):
    """An object in the bucket, read by ranged ``GetObject`` requests (boto3).

    Each read is one ``GET`` with ``Range: bytes=a-b`` on the storage's own boto3
    client (django-storages' ``connection``, one per thread, keep-alive connections
    pooled by urllib3). The object's size comes from the first response's
    ``Content-Range`` (no ``HEAD``).
    """

    def __init__(self, name: str, size: int | None = None):
        super().__init__(name)
        backend: Any = storage()  # django-storages' S3Storage (bucket_name, connection: untyped)
        from storages.utils import clean_name

        self._backend = backend
        self._bucket = backend.bucket_name
        self._key = backend._normalize_name(clean_name(name))  # noqa: SLF001 (django-storages' key mapping)
        self._size: int | None = size

    @property
    def size(self) -> int:
        if self._size is None:
            self.read(0, 1)
        return cast(int, self._size)

    def read(self, offset: int, length: int) -> bytes:
        if length <= 0:
            return b""
        from botocore.exceptions import ClientError

        client = self._backend.connection.meta.client
        try:
            response = client.get_object(
                Bucket=self._bucket, Key=self._key, Range=f"bytes={offset}-{offset + length - 1}"
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code in ("404", "NoSuchKey"):
                raise FileNotFoundError(f"not in storage: {self.name}") from None
            if code == "InvalidRange":  # past the end
                return b""
            raise
        data = response["Body"].read()
        total = response.get("ContentRange", "").rpartition("/")[2]
        if total.isdigit():
            self._size = int(total)
        elif self._size is None:
            self._size = int(response.get("ContentLength", len(data)))
        with _count_lock:
            range_stats["requests"] += 1
            range_stats["bytes"] += len(data)
        return data


def storage_reader(name: str, size: int | None = None) -> RangeReader:
    """A :class:`RangeReader` of the stored file ``name``: ``pread`` locally, ranged GETs on a bucket.

    Args:
        name: the storage name (``image.file.name``).
        size: a bucket object's size when known (else learnt from the first read).

    Raises:
        FileNotFoundError: a local file that is missing (a bucket object: on the first read).
        ValueError: ``name`` is not a relative storage name.
    """
    _cache_path(name)  # refuses absolute names and ``..``
    if storage_is_local():
        return LocalRangeReader(name, Path(storage().path(name)))
    return S3RangeReader(name, size)
