"""Settings shared by every environment.

The environment is read here and only here, through one ``environ.Env``. Every
variable we own starts with ``DJANGO_``; each has a type and a default that gives
the embedded setup (SQLite, media on the local disk, eager Celery tasks).

| variable | type | default |
| --- | --- | --- |
| DJANGO_SECRET_KEY | str | an insecure development key (production requires one) |
| DJANGO_ALLOWED_HOSTS | list | 127.0.0.1,localhost,testserver (production requires it) |
| DJANGO_DEBUG | bool | false (Django's debug pages; development: true unless set) |
| DJANGO_DATA_DIR | path | ``var/`` in the repository |
| DJANGO_DATABASE_URL | url | ``sqlite:///<DATA_DIR>/db.sqlite3`` (or ``postgres://user@host:5432/db``) |
| DJANGO_DB_CONN_MAX_AGE | int | 60 (seconds a process keeps its database connection; 0: one per request) |
| DJANGO_MEDIA_ROOT | path | ``<DATA_DIR>/media`` |
| DJANGO_CELERY_BROKER_URL | url | ``memory://`` (e.g. ``amqp://user:password@rabbitmq:5672//``) |
| DJANGO_CELERY_TASK_ALWAYS_EAGER | bool | true (tasks run in the web process) |
| DJANGO_MAX_ROWS | int | 20000000 (image rows of one job, gap rows included; more: 422) |
| DJANGO_MAX_COLUMNS | int | 4096 (pixel columns of one CSV; more: 422) |
| DJANGO_MAX_CELLS | int | 2000000000 (rows x columns of one image; more: 422) |
| DJANGO_MAX_GAP_ROWS | int | 1000000 (nodata rows one depth gap may add; more: 422) |
| DJANGO_MAX_LINE_BYTES | int | 1048576 (bytes of one CSV line; longer: 422) |
| DJANGO_INGEST_SOFT_TIME_LIMIT | int | 3600 (seconds; then the job ends ``failed``) |
| DJANGO_INGEST_TIME_LIMIT | int | 3720 (seconds; then the worker process is killed) |
| DJANGO_TASK_SOFT_TIME_LIMIT, DJANGO_TASK_TIME_LIMIT | int | 60, 90 (seconds, every other task) |
| DJANGO_MAX_ATTEMPTS | int | 3 (starts of one job; then ``failed``: it kills its worker) |
| DJANGO_JOB_LEASE_SECONDS | int | 30 (a running job's lease, renewed every third of it) |
| DJANGO_REAP_INTERVAL_SECONDS | int | 15 (Celery beat: resume or fail jobs whose lease lapsed) |
| DJANGO_CACHE_URL | url | ``locmemcache://`` (Django's cache: throttle counters, large_image's cache) |
| DJANGO_TILES_CACHE_URL | url | ``locmemcache://depthtiles-tiles`` (2,000 entries; production: LRU Redis) |
| DJANGO_TILES_CACHE_SECONDS | int | 86400 (life of a rendered output in the tiles cache) |
| DJANGO_TILES_CACHE_MAX_BYTES | int | 2097152 (larger outputs are not cached) |
| DJANGO_TILES_MAX_OUTPUT_PIXELS | int | 67108864 (8192 x 8192) |
| DJANGO_API_MAX_LIMIT | int | 200 (largest ``limit`` of an API list; more: 400) |
| DJANGO_THROTTLE_ANON | str | empty: off (e.g. ``1200/minute``: requests without a user, per address; 429) |
| DJANGO_THROTTLE_USER | str | empty: off (e.g. ``6000/minute``: requests per authenticated user; 429) |
| DJANGO_NUM_PROXIES | int | 0 (proxies in front: the client address is taken from X-Forwarded-For) |
| DJANGO_TILES_MAX_READ_PIXELS | int | 16777216 (4096 x 4096 pixels of stored tiles per request; more: 400) |
| DJANGO_PUBLIC_READ | bool | true (reads need no token; a new image's ``public`` default) |
| DJANGO_CORS_ALLOWED_ORIGINS | list | empty (other origins allowed to read: GET and HEAD) |
| DJANGO_MAX_UPLOAD_MB | int | 4096 (413 above) |
| DJANGO_CELERY_QUEUE | str | celery |
| DJANGO_WEBHOOK_SECRET | str | empty: derived from DJANGO_SECRET_KEY |
| DJANGO_WEBHOOK_MAX_ATTEMPTS | int | 5 |
| DJANGO_WEBHOOK_BACKOFF_SECONDS | float | 2.0 (doubles after each failure) |
| DJANGO_WEBHOOK_TIMEOUT_SECONDS | float | 5.0 (one deadline: connect, send and the whole answer) |
| DJANGO_WEBHOOK_ALLOW_PRIVATE | bool | false (true in development settings): loopback/private receivers |
| DJANGO_CSRF_TRUSTED_ORIGINS | list | empty (e.g. ``https://tiles.example.com`` behind a proxy) |
| DJANGO_SECURE_PROXY_SSL_HEADER | str | X-Forwarded-Proto (production only; empty: trust no proxy) |
| DJANGO_SECURE_SSL_REDIRECT | bool | false (the TLS-terminating proxy redirects) |
| DJANGO_SECURE_HSTS_SECONDS | int | 31536000 (one year; 0 turns HSTS off) |
| DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS | bool | true |
| DJANGO_SECURE_HSTS_PRELOAD | bool | false (opt in before submitting to browsers' preload list) |
| DJANGO_MAX_FRAMES | int | 10000 (most frames one ``GET /get-images/...`` answers; more: 400) |
| DJANGO_CLASSIC_UPLOAD_PUBLIC | bool | false (``POST /upload-csv/`` needs a token, as other writes) |
| DJANGO_STORAGE | str | local (``MEDIA_ROOT``); ``s3``: a bucket (the DJANGO_S3_* below) |
| DJANGO_S3_BUCKET | str | empty (required with ``s3``) |
| DJANGO_S3_ENDPOINT_URL | str | empty: AWS; else any S3-compatible service (MinIO, Ceph...) |
| DJANGO_S3_REGION | str | empty (boto3's default) |
| DJANGO_S3_ACCESS_KEY_ID, DJANGO_S3_SECRET_ACCESS_KEY | str | empty: boto3's chain (AWS_*, roles) |
| DJANGO_S3_PREFIX | str | empty (a folder in the bucket) |
| DJANGO_S3_ADDRESSING_STYLE | str | path (``virtual`` for virtual-hosted buckets) |
| DJANGO_STORAGE_CACHE_DIR | path | empty: ``<DATA_DIR>/cache`` (S3: holds the block cache in blocks/) |
| DJANGO_STORAGE_CACHE_BYTES | int | 0: off; S3: an LRU cache of pyramid blocks, bytes on disk (>= 4 MiB) |
| DJANGO_TOKEN_TTL_HOURS | int | 720 (an API token's life, hours; 0: never expires) |
| DJANGO_QUOTA_BYTES | int | 10737418240 (10 GiB of uploaded CSV and well files per user; 0: no limit) |
| DJANGO_MAX_CONCURRENT_JOBS | int | 4 (pending + running jobs per user; 0: unlimited; more: 429) |
"""

import re
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parents[2]

env = environ.Env()

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="insecure-development-key-change-me")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])

DATA_DIR = Path(env.str("DJANGO_DATA_DIR", default=str(BASE_DIR / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "knox",  # API tokens: hashed at rest, with expiry and revocation (django-rest-knox)
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served by us: /api/docs needs no CDN
    "django_large_image",
    "ingest",
    "tiles",
    "picks",
]

MIDDLEWARE = [
    "project.middleware.ApiErrorMiddleware",  # X-Request-ID; JSON errors on API paths (project/middleware.py)
    "tiles.middleware.TileFastLaneMiddleware",  # public tile GETs skip the rest (tiles/middleware.py)
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "project.urls"
WSGI_APPLICATION = "project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db_url("DJANGO_DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'db.sqlite3'}")}
# A new PostgreSQL connection per request cost 20-45 ms of a list's p50 (benchmarks/lists.py).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": env.cache_url("DJANGO_CACHE_URL", default="locmemcache://"),
    # Rendered tiles, regions and thumbnails; Redis in production, shared by all workers.
    "tiles": env.cache_url("DJANGO_TILES_CACHE_URL", default="locmemcache://depthtiles-tiles"),
}
CACHES["tiles"].setdefault("TIMEOUT", env.int("DJANGO_TILES_CACHE_SECONDS", default=86400))
if CACHES["tiles"]["BACKEND"].endswith("LocMemCache"):
    CACHES["tiles"].setdefault("OPTIONS", {}).setdefault("MAX_ENTRIES", 2000)
TILES_CACHE_ALIAS = "tiles"
TILES_CACHE_MAX_BYTES = env.int("DJANGO_TILES_CACHE_MAX_BYTES", default=2 * 1024 * 1024)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "staticfiles"
# WhiteNoise serves static files in every setup (gunicorn included), straight
# from the app and project folders: no collectstatic step.
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# A real path, never reached through a symlink: django-large-image answers 500 for
# media files behind a symlink (shared/STACK-NOTES.md).
MEDIA_ROOT = Path(env.str("DJANGO_MEDIA_ROOT", default=str(DATA_DIR / "media"))).resolve()
MEDIA_URL = "/media/"

# Uploads and pyramids: Django's default storage. "local" keeps them under MEDIA_ROOT;
# "s3" in a bucket of any S3-compatible service (django-storages). Pyramids are served
# by ranged reads (pread locally, ranged GETs on a bucket: ingest/storage.py), never
# downloaded whole; only small files (well curves) are copied into a local cache.
STORAGE_KIND = env.str("DJANGO_STORAGE", default="local")
S3_BUCKET = env.str("DJANGO_S3_BUCKET", default="")
S3_ENDPOINT_URL = env.str("DJANGO_S3_ENDPOINT_URL", default="")
S3_REGION = env.str("DJANGO_S3_REGION", default="")
S3_ACCESS_KEY_ID = env.str("DJANGO_S3_ACCESS_KEY_ID", default="")
S3_SECRET_ACCESS_KEY = env.str("DJANGO_S3_SECRET_ACCESS_KEY", default="")
S3_PREFIX = env.str("DJANGO_S3_PREFIX", default="")
S3_ADDRESSING_STYLE = env.str("DJANGO_S3_ADDRESSING_STYLE", default="path")
#: Local copies of small stored files (S3 only: well curves); empty: ``DATA_DIR/cache``.
STORAGE_CACHE_DIR = env.str("DJANGO_STORAGE_CACHE_DIR", default="")
#: A local block cache of pyramid ranges read from the bucket (S3 only), bounded in bytes of disk
#: under ``<cache dir>/blocks`` (LRU, shared by the pod's processes: ingest.storage.BlockCache); 0: off.
STORAGE_CACHE_BYTES = env.int("DJANGO_STORAGE_CACHE_BYTES", default=0)
if 0 < STORAGE_CACHE_BYTES < 4 << 20:
    raise ImproperlyConfigured("DJANGO_STORAGE_CACHE_BYTES must be 0 (off) or at least 4194304 (4 MiB)")


def s3_storage(
    *,
    bucket: str,
    endpoint_url: str = "",
    region: str = "",
    access_key_id: str = "",
    secret_access_key: str = "",
    prefix: str = "",
    addressing_style: str = "path",
) -> dict:
    """The ``STORAGES["default"]`` entry of a bucket (django-storages' S3Storage).

    Empty keys fall back to boto3's own chain (AWS_* variables, instance roles).
    Objects are private, and a save under an existing name replaces it (names carry
    the image id and a content hash).
    """
    options = {
        "bucket_name": bucket,
        "endpoint_url": endpoint_url or None,
        "region_name": region or None,
        "access_key": access_key_id or None,
        "secret_key": secret_access_key or None,
        "location": prefix,
        "addressing_style": addressing_style or None,
        "file_overwrite": True,
        "default_acl": None,
        "querystring_auth": True,
        "signature_version": "s3v4",
    }
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}


if STORAGE_KIND == "local":
    _DEFAULT_STORAGE = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
elif STORAGE_KIND == "s3":
    if not S3_BUCKET:
        raise ImproperlyConfigured("DJANGO_STORAGE=s3 needs DJANGO_S3_BUCKET")
    _DEFAULT_STORAGE = s3_storage(
        bucket=S3_BUCKET,
        endpoint_url=S3_ENDPOINT_URL,
        region=S3_REGION,
        access_key_id=S3_ACCESS_KEY_ID,
        secret_access_key=S3_SECRET_ACCESS_KEY,
        prefix=S3_PREFIX,
        addressing_style=S3_ADDRESSING_STYLE,
    )
else:
    raise ImproperlyConfigured(f"DJANGO_STORAGE must be local or s3, not {STORAGE_KIND!r}")
STORAGES = {
    "default": _DEFAULT_STORAGE,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# django-large-image keeps its scratch files here.
DATA_TEMP_DIR = str(DATA_DIR / "tmp")

# Uploads above 8 MB stream to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 8 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 8 * 1024 * 1024

TILES_MAX_OUTPUT_PIXELS = env.int("DJANGO_TILES_MAX_OUTPUT_PIXELS", default=8192 * 8192)
#: Read budget: stored-tile pixels one request may decode (tiles read x 256 x 256), checked
#: before decoding: 400 read_too_large above. 4096 x 4096 = 256 tiles: a tile reads 1, a
#: viewer's or dashboard's thumbnail, strip or region a few dozen.
TILES_MAX_READ_PIXELS = env.int("DJANGO_TILES_MAX_READ_PIXELS", default=4096 * 4096)

#: Reads (lists, tiles, regions...) need no token unless this is false; writes always do.
PUBLIC_READ = env.bool("DJANGO_PUBLIC_READ", default=True)

#: The kinds a pick may have (picks/): a plain list, not read from the environment.
PICK_KINDS = ["bedding", "fracture", "fault", "breakout", "other"]

#: Uploads larger than this are refused with 413 before their body is read.
MAX_UPLOAD_MB = env.int("DJANGO_MAX_UPLOAD_MB", default=4096)

#: Per-user quotas, checked before anything is stored: bytes of uploaded CSV kept
#: (413 ``quota_exceeded``) and jobs pending or running at once (429 ``too_many_jobs``).
#: 0 turns a quota off. Staff count like anyone: a quota protects the disk and the
#: workers, whoever fills them.
QUOTA_BYTES = env.int("DJANGO_QUOTA_BYTES", default=10 * 1024**3)
MAX_CONCURRENT_JOBS = env.int("DJANGO_MAX_CONCURRENT_JOBS", default=4)

#: API tokens (django-rest-knox): ``Authorization: Token <key>``; stored as a SHA-512
#: digest; ``POST /api/v1/auth/logout`` revokes the token it is sent with.
TOKEN_TTL_HOURS = env.int("DJANGO_TOKEN_TTL_HOURS", default=720)
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=TOKEN_TTL_HOURS) if TOKEN_TTL_HOURS > 0 else None,
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}

#: Largest ``limit`` of an API list (more: 400); without ``limit`` a page holds PAGE_SIZE (50).
API_MAX_LIMIT = env.int("DJANGO_API_MAX_LIMIT", default=200)
#: Request rates (``<n>/<second|minute|hour|day>``) without a user (per address) and per user;
#: empty: off (the embedded default and the benchmarks; production sets both).


def throttle_rate(variable: str, default: str) -> str:
    """A request rate from the environment, checked: ``<n>/<s|m|h|d...>`` (DRF's), or empty (off)."""
    rate = env.str(variable, default=default).strip()
    if rate and not re.fullmatch(r"[1-9]\d*/(s|sec|second|m|min|minute|h|hour|d|day)", rate):
        raise ImproperlyConfigured(f"{variable} must look like 600/minute (or be empty: off), not {rate!r}")
    return rate


THROTTLE_ANON = throttle_rate("DJANGO_THROTTLE_ANON", "")
THROTTLE_USER = throttle_rate("DJANGO_THROTTLE_USER", "")

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "project.schema.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["project.permissions.PublicReadTokenWrite"],
    "EXCEPTION_HANDLER": "project.exceptions.api_exception_handler",
    "DEFAULT_PAGINATION_CLASS": "project.pagination.BoundedLimitOffsetPagination",
    "PAGE_SIZE": 50,
    # Rates from THROTTLE_ANON / THROTTLE_USER, read per request (project/throttling.py).
    "DEFAULT_THROTTLE_CLASSES": ["project.throttling.AnonThrottle", "project.throttling.UserThrottle"],
    "NUM_PROXIES": env.int("DJANGO_NUM_PROXIES", default=0),
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}

SPECTACULAR_SETTINGS = {
    "TITLE": "depthtiles",
    "DESCRIPTION": (
        "Tiles, regions and thumbnails of depth-indexed images (borehole image logs). "
        "Depths are in the image's depth unit (`depth_unit`: m or ft); sizes and windows in pixels; "
        "row 0 is the shallowest scanline. Reads are public unless DJANGO_PUBLIC_READ=false; "
        "writes need `Authorization: Token <key>`. Every error is JSON of one shape (`Error`)."
    ),
    "VERSION": "0.1.0",
    # Swagger UI from drf-spectacular-sidecar's static files: no CDN, works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "persistAuthorization": True, "validatorUrl": None},
    "SERVE_INCLUDE_SCHEMA": False,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "project.schema.add_error_responses",
    ],
}

# Other origins (dashboards) may read: GET and HEAD only, with the caching and depth headers.
CORS_ALLOWED_ORIGINS = env.list("DJANGO_CORS_ALLOWED_ORIGINS", default=[])
CORS_ALLOW_METHODS = ["GET", "HEAD", "OPTIONS"]
CORS_EXPOSE_HEADERS = ["ETag", "X-Depth-Min", "X-Depth-Max", "X-Depth-Step", "X-Depth-Unit", "X-Rows"]
# The API and the classic depth frames (dashboards read both).
CORS_URLS_REGEX = r"^/(api/|get-images/).*$"

# Caps on one ingestion job (ingest.pipeline.IngestLimits), checked before the work they
# bound and answered 422 with the line. The defaults admit a real well: 2,000,000 scanlines
# x 360 columns is 720,000,000 cells (about 1.4 GB of uint8 value and alpha at level 0).
MAX_ROWS = env.int("DJANGO_MAX_ROWS", default=20_000_000)
MAX_COLUMNS = env.int("DJANGO_MAX_COLUMNS", default=4096)
MAX_CELLS = env.int("DJANGO_MAX_CELLS", default=2_000_000_000)
MAX_GAP_ROWS = env.int("DJANGO_MAX_GAP_ROWS", default=1_000_000)
MAX_LINE_BYTES = env.int("DJANGO_MAX_LINE_BYTES", default=1 << 20)

# Celery: no result backend (job state lives in our database), late acknowledgement,
# one task at a time per worker process. The broker of compose and k8s is RabbitMQ: it
# hands an unacknowledged job to another worker as soon as its worker's connection drops.
CELERY_BROKER_URL = env.str("DJANGO_CELERY_BROKER_URL", default="memory://")
CELERY_TASK_DEFAULT_QUEUE = env.str("DJANGO_CELERY_QUEUE", default="celery")
#: A job's budget: past the soft limit it ends ``failed`` and cleans up; past the hard one
#: its process is killed (then the lease lapses and the reaper counts the attempt).
INGEST_SOFT_TIME_LIMIT = env.int("DJANGO_INGEST_SOFT_TIME_LIMIT", default=3600)
INGEST_TIME_LIMIT = env.int("DJANGO_INGEST_TIME_LIMIT", default=3720)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("DJANGO_TASK_SOFT_TIME_LIMIT", default=60)
CELERY_TASK_TIME_LIMIT = env.int("DJANGO_TASK_TIME_LIMIT", default=90)
CELERY_TASK_ANNOTATIONS = {
    "ingest.tasks.ingest_image": {"soft_time_limit": INGEST_SOFT_TIME_LIMIT, "time_limit": INGEST_TIME_LIMIT},
    "ingest.tasks.ingest_well": {"soft_time_limit": INGEST_SOFT_TIME_LIMIT, "time_limit": INGEST_TIME_LIMIT},
}
#: Starts of one job (``Image.attempts``): one more ends it ``failed`` (it kills its worker).
MAX_ATTEMPTS = env.int("DJANGO_MAX_ATTEMPTS", default=3)
#: A running job holds a lease on its row, renewed every third of it while its process lives;
#: a delivery of a job under a live lease waits for it, a lapsed one is resumed (ingest/jobs.py).
JOB_LEASE_SECONDS = env.int("DJANGO_JOB_LEASE_SECONDS", default=30)
REAP_INTERVAL_SECONDS = env.int("DJANGO_REAP_INTERVAL_SECONDS", default=15)
CELERY_BEAT_SCHEDULE = {
    "reap-jobs": {"task": "ingest.tasks.reap_jobs", "schedule": REAP_INTERVAL_SECONDS},
}
# Redis as the broker: a message not acknowledged is handed out again only after this, so
# never while its job may still run (the lease and the reaper resume a dead one sooner).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": INGEST_TIME_LIMIT + 60}
CELERY_TASK_ALWAYS_EAGER = env.bool("DJANGO_CELERY_TASK_ALWAYS_EAGER", default=True)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None

#: The classic depth-frame API (GET /get-images/...): most frames in one answer (more: 400).
MAX_FRAMES = env.int("DJANGO_MAX_FRAMES", default=10000)
#: POST /upload-csv/ without a token (classic clients send none). Off: it needs a token like
#: every other write; turn it on only where the network itself is trusted.
CLASSIC_UPLOAD_PUBLIC = env.bool("DJANGO_CLASSIC_UPLOAD_PUBLIC", default=False)

#: Webhooks: signed with HMAC-SHA256 over the raw body (X-Signature-256: sha256=...).
WEBHOOK_SECRET = env.str("DJANGO_WEBHOOK_SECRET", default="")
WEBHOOK_MAX_ATTEMPTS = env.int("DJANGO_WEBHOOK_MAX_ATTEMPTS", default=5)
WEBHOOK_BACKOFF_SECONDS = env.float("DJANGO_WEBHOOK_BACKOFF_SECONDS", default=2.0)
#: One deadline per attempt: connect, TLS, send and the whole answer (ingest/webhooks.py).
WEBHOOK_TIMEOUT_SECONDS = env.float("DJANGO_WEBHOOK_TIMEOUT_SECONDS", default=5.0)
#: Let webhooks reach loopback, private and shared (100.64/10) addresses: a receiver on the
#: developer's machine. Metadata, link-local, multicast and reserved addresses stay refused.
WEBHOOK_ALLOW_PRIVATE = env.bool("DJANGO_WEBHOOK_ALLOW_PRIVATE", default=False)

# HTTPS. Production (production.py) trusts the proxy header and marks cookies secure;
# HSTS is only sent on HTTPS requests, so these defaults are inert on plain HTTP.
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
#: The header a TLS-terminating proxy sets to ``https`` (production only; empty: none).
SECURE_PROXY_HEADER_NAME = env.str("DJANGO_SECURE_PROXY_SSL_HEADER", default="X-Forwarded-Proto")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]  # probes speak plain HTTP to the pod
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Every record names the request it belongs to (X-Request-ID; "-" outside requests).
    "filters": {"request_id": {"()": "project.middleware.RequestIdFilter"}},
    "formatters": {"default": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["request_id"], "formatter": "default"}
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "ingest": {"level": "INFO"},
        "tiles": {"level": "INFO"},
    },
}

#: GeoJS, as django-large-image ships it (static path): the viewer page and the admin preview load it.
GEOJS_STATIC = "django_large_image/js/geojs/1.8.3/geo.min.js"
