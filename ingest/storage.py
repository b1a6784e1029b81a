"""Where uploads and pyramids live: Django's default storage, local files or a bucket.

``DJANGO_STORAGE=local`` (the default) keeps them under ``MEDIA_ROOT``;
``DJANGO_STORAGE=s3`` keeps them in an S3-compatible bucket (django-storages).
Either way the rest of the code goes through these calls:

* :func:`storage_put` moves a whole local file into storage under its final name.
  Readers only ever see a complete file: a rename on the local disk, a single
  PUT (or a multipart upload, aborted on failure) on S3, where an object becomes
  visible only once it is complete.
* :func:`storage_reader` reads byte ranges of a stored file (:class:`RangeReader`):
  ``os.pread`` on the local disk, one ranged GET per read on a bucket
  (neighbouring ranges coalesced into one request by :meth:`RangeReader.read_many`),
  through an optional local block cache (:class:`BlockCache`, below).
  Serving reads pyramids only this way (:mod:`tiles.core.pyramid`, and large_image
  over it: django-large-image's ``info/*`` and metadata routes open
  :func:`tiles.services.large_image_source`, our tile source over the same reader):
  the TIFF structure once, then each tile's bytes; never the whole object.
* :func:`storage_local_path` answers a local path to read a whole stored file with:
  the file itself on the local disk, or a copy in ``DATA_DIR/cache``
  (``DJANGO_STORAGE_CACHE_DIR``) for a bucket, downloaded once. No serving path reads
  this way: well curves are read by ranges too (:func:`ingest.curves.curve_window`); it
  stays for tests and tools (:func:`ingest.selectors.image_local_path`).
* :func:`storage_delete` removes a stored file, its cached copy and its cached blocks, if any.

Range client (measured by ``benchmarks/storage.py``'s client line against moto on
127.0.0.1, a ranged GET of one 56 kB tile, candidates interleaved; 7 runs on this
2-core machine at load averages 1.4-4.4, one of them of a 4 kB range; medians): boto3
``get_object`` on a reused client 7.2-9.0 ms; a new boto3 client per request 20-52 ms;
a request signed by botocore's ``S3SigV4Auth`` sent over a urllib3 keep-alive pool
5.4-7.0 ms; a presigned URL over that pool 4.7-6.4 ms; obstore's ``get_range``
4.6-6.6 ms, the fastest in 6 of the 7 runs (the presigned URL once, by 0.8 ms) and
with the least CPU per request (0.6-1.1 ms against boto3's 2.8-3.5 ms). Ranged reads
use **obstore** (Development Seed's binding of the Rust ``object_store`` crate): the
fastest, and a maintained library rather than our own signing, presigned-URL cache
and retry code; it brings credentials (here boto3's own
chain through :class:`obstore.auth.boto3.Boto3CredentialProvider`, so keys, profiles,
web identity and instance roles resolve as for django-storages), endpoint, region and
addressing style, retries with backoff, ``404`` as :class:`FileNotFoundError`, and a
thread-safe, pooled client. Its one hazard is ``fork``: its tokio runtime does not
survive one once started, so a process forked after a request falls back to
django-storages' boto3 client (:func:`_obstore_usable`); gunicorn's sync workers and
Celery's pool are forked before any request and use obstore. Uploads, deletes and
whole downloads stay on boto3 (django-storages, managed multipart transfers).
fsspec/s3fs would add an event loop and its own block cache for the same ranged GET.

Block cache (``DJANGO_STORAGE_CACHE_BYTES``, 0 = off, the default): each range a
bucket reader is asked for (a tile's compressed bytes, a piece of the TIFF structure)
is kept on the pod's disk in ``<cache dir>/blocks`` by diskcache (an SQLite index, safe
for concurrent threads and processes; LRU), keyed by storage name, offset and length:
names carry the image id and content hash, so a block never goes stale and needs no
ETag. A warm read is no request; the disk used stays under the configured bytes
(:class:`BlockCache` says how the bound is made real). Off by default: rendered
outputs are shared by every process in the tiles cache and decoded tiles stay in
process (:data:`tiles.core.pyramid.DECODED_TILES`); the block cache serves re-reads
that miss both (a new process, an evicted output, another style of the same tile).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import weakref
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage, storages

if TYPE_CHECKING:
    from obstore.store import ClientConfig, S3Config

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
    and the bytes are the same. Later calls only ``stat`` the copy. Not for serving:
    a bucket's copy is never evicted (serving reads ranges, :func:`storage_reader`).

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
        cache = block_cache()
        if cache is not None:
            cache.evict(name)


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
        data = memoryview(self._fetch_run(start, end - start))
        for j in run:
            offset, length = ranges[j]
            out[j] = bytes(data[offset - start : offset - start + length])

    def _fetch_run(self, offset: int, length: int) -> bytes:
        """The bytes of one coalesced run of :meth:`read_many` (a reader with a cache skips it)."""
        return self.read(offset, length)

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
    """An object in the bucket, read by ranged GETs (obstore), through the local block cache if on.

    Each network read is one ``GET`` with ``Range: bytes=a-b`` on this process's
    :class:`obstore.store.S3Store` (:func:`_object_store`: the bucket, endpoint, region,
    addressing style and credentials of django-storages' settings; keep-alive
    connections pooled by its Rust HTTP client). The object's size comes from the
    first response (no ``HEAD``). With ``DJANGO_STORAGE_CACHE_BYTES`` set, every range
    asked for (a tile, an IFD) is first looked up in the pod's :class:`BlockCache` and
    kept there after a GET.

    In a process forked from one that had already made an obstore request (the
    Rust runtime's threads do not survive a fork: the child would crash), reads go
    through django-storages' boto3 client instead (:func:`_obstore_usable`).
    """

    def __init__(self, name: str, size: int | None = None):
        super().__init__(name)
        backend: Any = storage()  # django-storages' S3Storage (bucket_name, connection: untyped)
        from storages.utils import clean_name

        self._backend = backend
        self._bucket = backend.bucket_name
        self._key = backend._normalize_name(clean_name(name))  # noqa: SLF001 (django-storages' key mapping)
        cache = block_cache()
        if size is None and cache is not None:
            size = cache.size(name)
        self._size: int | None = size

    @property
    def _cache(self) -> BlockCache | None:
        """This process's block cache, looked up on each use (a reader may outlive a fork)."""
        return block_cache()

    @property
    def size(self) -> int:
        if self._size is None:
            self.read(0, 1)
        return cast(int, self._size)

    def read(self, offset: int, length: int) -> bytes:
        if length <= 0:
            return b""
        if self._size is not None:
            if offset >= self._size:
                return b""
            length = min(length, self._size - offset)
        cache = self._cache
        if cache is not None and self._size is not None:
            kept = cache.get(self.name, offset, length)
            if kept is not None:
                return kept
        data = self._get(offset, length)
        if cache is not None:
            cache.put(self.name, offset, data)
        return data

    def read_many(self, ranges: list[tuple[int, int]]) -> list[bytes]:
        """As :meth:`RangeReader.read_many`; with the block cache, only the ranges it lacks are fetched.

        Each range asked for is one block of the cache (a tile's bytes), whatever
        request fetched it.
        """
        cache = self._cache
        if cache is None or self._size is None:
            return super().read_many(ranges)
        out: list[bytes | None] = [cache.get(self.name, o, n) if n > 0 else b"" for o, n in ranges]
        missing = [i for i, data in enumerate(out) if data is None]
        if missing:
            fetched = super().read_many([ranges[i] for i in missing])
            for i, data in zip(missing, fetched, strict=True):
                out[i] = data
                cache.put(self.name, ranges[i][0], data)
        return cast(list[bytes], out)

    def _fetch_run(self, offset: int, length: int) -> bytes:
        if self._size is not None:
            length = min(length, self._size - offset)
        return self._get(offset, length) if length > 0 else b""

    def _get(self, offset: int, length: int) -> bytes:
        """One ranged GET of ``length`` bytes from ``offset`` (learning the size if unknown)."""
        learning = self._size is None
        data = self._get_obstore(offset, length) if _obstore_usable() else self._get_boto3(offset, length)
        cache = self._cache
        if learning and self._size is not None and cache is not None:
            cache.put_size(self.name, self._size)
        with _count_lock:
            range_stats["requests"] += 1
            range_stats["bytes"] += len(data)
        return data

    def _get_obstore(self, offset: int, length: int) -> bytes:
        global _obstore_pid  # noqa: PLW0603 (the process whose Rust runtime runs: see _obstore_usable)
        import obstore

        store = _object_store(self._backend)
        _obstore_pid = os.getpid()
        if self._size is not None:
            return bytes(obstore.get_range(store, self._key, start=offset, length=length))
        result = obstore.get(store, self._key, options={"range": (offset, offset + length)})
        self._size = int(result.meta["size"])
        return bytes(result.bytes())

    def _get_boto3(self, offset: int, length: int) -> bytes:
        from botocore.exceptions import ClientError

        client = self._backend.connection.meta.client
        try:
            response = client.get_object(
                Bucket=self._bucket, Key=self._key, Range=f"bytes={offset}-{offset + length - 1}"
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey"):
                raise FileNotFoundError(f"not in storage: {self.name}") from None
            raise
        data = response["Body"].read()
        total = response.get("ContentRange", "").rpartition("/")[2]
        if total.isdigit():
            self._size = int(total)
        return data


#: The pid of the process whose obstore (tokio) runtime has started, once a request was made.
_obstore_pid: int | None = None
#: ``(pid, bucket settings)`` -> this process's obstore S3Store (one per configuration).
_stores: dict[tuple, Any] = {}
_stores_lock = threading.Lock()


def _obstore_usable() -> bool:
    """True unless this process was forked from one whose obstore runtime had started.

    obstore runs its requests on a multi-threaded tokio runtime started by the first
    request; ``fork`` copies only the calling thread, and a child using that runtime
    crashes (measured: a segmentation fault; obstore's maintainers say it is not
    fork-safe). gunicorn and Celery fork their workers before any request, so they use
    obstore; a child forked after one (``multiprocessing`` with ``fork``) reads with boto3.
    """
    return _obstore_pid is None or _obstore_pid == os.getpid()


def _object_store(backend: Any) -> Any:
    """This process's :class:`obstore.store.S3Store` for django-storages' S3Storage ``backend``.

    Made once per process and configuration (thread-safe; it pools connections):
    the bucket, the endpoint (an ``http://`` one allowed), the region (else boto3's,
    else ``us-east-1``), path or virtual-hosted addressing, TLS verification, and the
    credentials of django-storages' own boto3 session (its keys, profile or boto3's
    chain: environment, web identity, instance roles; refreshed by obstore through
    :class:`obstore.auth.boto3.Boto3CredentialProvider`). Retries: 3, with exponential
    backoff, within 10 s (5xx, dropped connections, timeouts); 5 s to connect, 30 s a
    request.

    Raises:
        PermissionError: no credentials found by boto3's chain.
    """
    from urllib.parse import urlsplit, urlunsplit

    key = (
        os.getpid(),
        backend.bucket_name,
        backend.endpoint_url,
        backend.region_name,
        backend.addressing_style,
        backend.access_key,
        backend.secret_key,
        backend.security_token,
        backend.session_profile,
        str(backend.verify),
    )
    with _stores_lock:
        store = _stores.get(key)
        if store is not None:
            return store
        from datetime import timedelta

        from obstore.auth.boto3 import Boto3CredentialProvider
        from obstore.store import S3Store

        session = backend._create_session()  # noqa: SLF001 (django-storages' own credentials chain)
        try:
            credentials = Boto3CredentialProvider(session)
        except ValueError:
            raise PermissionError("no credentials for the bucket (boto3's chain found none)") from None
        virtual = backend.addressing_style == "virtual"
        endpoint = backend.endpoint_url
        if endpoint and virtual:  # obstore wants the bucket in a virtual-hosted endpoint's host
            parts = urlsplit(endpoint)
            endpoint = urlunsplit(parts._replace(netloc=f"{backend.bucket_name}.{parts.netloc}"))
        client_options: ClientConfig = {"connect_timeout": "5s", "timeout": "30s"}
        if endpoint and endpoint.startswith("http://"):
            client_options["allow_http"] = True
        if backend.verify is False:
            client_options["allow_invalid_certificates"] = True
        elif isinstance(backend.verify, str):
            client_options["root_certificate"] = Path(backend.verify).read_bytes()
        config: S3Config = {
            "region": backend.region_name or session.region_name or "us-east-1",
            "virtual_hosted_style_request": virtual,
        }
        if endpoint:
            config["endpoint"] = endpoint
        store = S3Store(
            backend.bucket_name,
            config=config,
            client_options=client_options,
            retry_config={"max_retries": 3, "retry_timeout": timedelta(seconds=10)},
            credential_provider=credentials,
        )
        _stores[key] = store
        return store


# -- the local block cache (DJANGO_STORAGE_CACHE_BYTES) ------------------------------------

#: Disk the cache keeps free of blocks for its SQLite index's write-ahead log (limited to
#: :data:`_WAL_BYTES` after each checkpoint), shared memory and directory entries.
_WAL_BYTES = 256 << 10
_FIXED_OVERHEAD = 1 << 20
#: The smallest bound accepted (settings refuse less).
MIN_CACHE_BYTES = 4 << 20


class _FlatDisk:
    """Mixed into diskcache's ``Disk``: value files in one folder (``v/``), not two random levels.

    diskcache spreads files over up to 65,536 folders of 4 kB each, which its size
    accounting does not count; one folder keeps that overhead small and bounded.
    """

    def filename(self, key: Any = None, value: Any = None) -> tuple[str, str]:
        name = os.path.join("v", os.urandom(16).hex() + ".val")
        return name, os.path.join(cast(Any, self)._directory, name)  # noqa: SLF001 (diskcache's folder)


class BlockCache:
    """A local, LRU, byte-bounded cache of a bucket's blocks, shared by the pod's processes (diskcache).

    One block is one range a :class:`S3RangeReader` was asked for (a tile's
    compressed bytes, a piece of the TIFF structure), keyed by the storage name
    (which holds the image id and content hash, so a block never goes stale), offset
    and length, and tagged with the name so :func:`storage_delete` drops an object's
    blocks at once. Kept in ``<cache dir>/blocks`` by :class:`diskcache.Cache`: an
    SQLite index (WAL: safe for concurrent threads and processes) and one file per
    block of 32 kB or more (smaller ones inside the index).

    The bound is real disk usage (``du`` of the folder: files rounded up to the file
    system's 4 kB blocks, the index, its write-ahead log, the folders), at most
    ``limit`` bytes. diskcache bounds only its own estimate (index pages plus value
    sizes) and culls after each store, so: its ``size_limit`` is three quarters of
    ``limit`` less :data:`_FIXED_OVERHEAD` (room for rounding, the log and the folders),
    blocks over 1/32 of that are not kept (one store cannot overshoot by much), and a
    store that leaves the estimate over the limit culls until it is under.
    Failures of the cache (a locked or damaged index) are misses, never errors.

    Args:
        directory: the cache's folder (created).
        limit: the bound in bytes (>= :data:`MIN_CACHE_BYTES`).
    """

    def __init__(self, directory: Path, limit: int):
        import diskcache  # type: ignore[import-untyped]

        class FlatDisk(_FlatDisk, diskcache.Disk):
            pass

        self.directory = directory
        self.limit = limit
        self.size_limit = max(0, (limit - _FIXED_OVERHEAD) * 3 // 4)
        self.max_block = self.size_limit // 32
        self._cache = diskcache.Cache(
            str(directory),
            disk=FlatDisk,
            size_limit=self.size_limit,
            eviction_policy="least-recently-used",
            tag_index=True,
            cull_limit=16,
            sqlite_journal_size_limit=_WAL_BYTES,
            sqlite_wal_autocheckpoint=_WAL_BYTES // 4096 // 2,
            timeout=1,  # seconds waiting for the index lock, then a miss
        )

    @staticmethod
    def _key(name: str, offset: int, length: int) -> str:
        return f"{name}\0{offset}\0{length}"

    def get(self, name: str, offset: int, length: int) -> bytes | None:
        """The block ``(offset, length)`` of ``name``, or None if not kept (or the cache failed)."""
        try:
            return cast(bytes | None, self._cache.get(self._key(name, offset, length)))
        except Exception:  # a cache never fails a read
            logger.warning("block cache: lookup failed", exc_info=True)
            return None

    def put(self, name: str, offset: int, data: bytes) -> None:
        """Keep ``data``, the block of ``name`` from ``offset`` (not if empty or over :attr:`max_block`)."""
        if not data or len(data) > self.max_block:
            return
        try:
            self._cache.set(self._key(name, offset, len(data)), bytes(data), tag=name)
            if self._cache.volume() > self.size_limit:
                self._cache.cull()
        except Exception:  # a cache never fails a read
            logger.warning("block cache: store failed", exc_info=True)

    def size(self, name: str) -> int | None:
        """The object's size in bytes if kept (learnt by a first read), else None."""
        try:
            return cast(int | None, self._cache.get(f"{name}\0size"))
        except Exception:  # a cache never fails a read
            logger.warning("block cache: lookup failed", exc_info=True)
            return None

    def put_size(self, name: str, size: int) -> None:
        """Keep the object's size (so a reader with a warm cache needs no request to learn it)."""
        try:
            self._cache.set(f"{name}\0size", size, tag=name)
        except Exception:  # a cache never fails a read
            logger.warning("block cache: store failed", exc_info=True)

    def evict(self, name: str) -> int:
        """Drop every block of ``name``; the number dropped (0 if the cache failed: logged).

        A failure leaves blocks nobody can ask for again (the object and its row are
        gone); the LRU evicts them in time, so a delete never fails for them.
        """
        try:
            return int(self._cache.evict(name, retry=True))
        except Exception:
            logger.warning("block cache: eviction of %s failed", name, exc_info=True)
            return 0

    def close(self) -> None:
        """Close the index's connections (another instance may reopen the folder)."""
        self._cache.close()


#: ``(pid, folder, limit)`` -> this process's :class:`BlockCache` (SQLite connections do not cross a fork).
_block_caches: dict[tuple[int, str, int], BlockCache] = {}


def block_cache() -> BlockCache | None:
    """This process's block cache (``DJANGO_STORAGE_CACHE_BYTES`` in ``<cache dir>/blocks``), None if off."""
    limit = int(getattr(settings, "STORAGE_CACHE_BYTES", 0) or 0)
    if limit <= 0:
        return None
    directory = cache_dir() / "blocks"
    key = (os.getpid(), str(directory), limit)
    with _stores_lock:
        cache = _block_caches.get(key)
        if cache is None:
            cache = _block_caches[key] = BlockCache(directory, limit)
        return cache


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
