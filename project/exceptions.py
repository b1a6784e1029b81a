"""One JSON error shape for the whole API, and the table of domain errors.

Every error answers::

    {"error": {"code": "<machine code>", "message": "<what is wrong>", ...}}

with extra keys where they help (``line`` and ``column`` for a CSV, ``line`` and
``where`` for a well log (the LAS curve, the DLIS logical record and channel), ``fields``
for parameters, ``status`` for an image not ready, ``limit`` for an output too
large). Domain exceptions carry no
HTTP; this table gives their status, in the spirit of titiler's error table.
Image routes answer errors as JSON too (stock django-large-image labels them
``image/png``). Any other exception is a bug: it is logged with its traceback and
answered ``500`` with ``code`` ``server_error`` and the ``request_id`` of the
request (also its ``X-Request-ID`` header and in the log line), never an HTML page,
whatever ``DEBUG`` says. Errors of routes outside DRF are reshaped the same way by
:class:`project.middleware.ApiErrorMiddleware`.
"""

from __future__ import annotations

import logging
import uuid

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import set_rollback

from ingest.axis import DepthRangeError
from ingest.reader import CsvFormatError
from ingest.welllog import WellLogError
from tiles.core.pyramid import ReadTooLargeError
from tiles.core.render import OutputTooLargeError
from tiles.frames import NoScanlineError
from tiles.services import ImageNotReadyError, StyleError, TileOutOfRangeError

logger = logging.getLogger("project.errors")

#: The message of every 500: nothing of the exception leaves the server.
SERVER_ERROR_MESSAGE = "internal server error; quote the request_id when you report it"

#: exception class -> (HTTP status, error code)
DOMAIN_ERRORS: dict[type[Exception], tuple[int, str]] = {
    CsvFormatError: (422, "invalid_csv"),
    WellLogError: (422, "invalid_well_log"),
    DepthRangeError: (400, "invalid_depth_range"),
    ReadTooLargeError: (400, "read_too_large"),  # an OutputTooLargeError: before it
    OutputTooLargeError: (400, "output_too_large"),
    StyleError: (400, "invalid_style"),
    TileOutOfRangeError: (404, "tile_out_of_range"),
    NoScanlineError: (404, "no_scanline_in_range"),
    ImageNotReadyError: (409, "image_not_ready"),
}


def _flatten(detail) -> str:
    if isinstance(detail, dict):
        return "; ".join(f"{key}: {_flatten(value)}" for key, value in detail.items())
    if isinstance(detail, list):
        return " ".join(_flatten(item) for item in detail)
    return str(detail)


def error_body(code: str, message: str, **extra) -> dict:
    """The error shape, with ``None`` extras left out."""
    body = {"code": code, "message": message}
    body.update({key: value for key, value in extra.items() if value is not None})
    return {"error": body}


def api_exception_handler(exc: Exception, context: dict) -> Response | None:  # noqa: PLR0912 (the error table: one branch per domain exception)
    """DRF exception handler: domain errors by table, DRF's own errors reshaped, the rest a JSON 500."""
    response = None
    for exc_class, (status_code, code) in DOMAIN_ERRORS.items():
        if isinstance(exc, exc_class):
            extra: dict[str, object] = {}
            if isinstance(exc, CsvFormatError):
                extra = {"line": exc.line, "column": exc.column}
                message = str(exc)
            elif isinstance(exc, WellLogError):
                extra = {"line": exc.line, "where": exc.where or None}
                message = str(exc)
            elif isinstance(exc, ImageNotReadyError):
                extra = {"status": exc.image.status, "progress": exc.image.progress}
                message = str(exc)
            elif isinstance(exc, OutputTooLargeError):
                extra = {"limit": exc.limit}
                message = str(exc)
            else:
                message = str(exc)
            response = Response(error_body(code, message, **extra), status=status_code)
            break
    else:
        if isinstance(exc, Http404):
            exc = exceptions.NotFound()
        elif isinstance(exc, PermissionDenied):
            exc = exceptions.PermissionDenied()
        if isinstance(exc, exceptions.ValidationError):
            response = Response(
                error_body("invalid_parameter", _flatten(exc.detail), fields=exc.detail),
                status=status.HTTP_400_BAD_REQUEST,
            )
        elif isinstance(exc, exceptions.APIException):
            codes = exc.get_codes()
            api_code = codes if isinstance(codes, str) else exc.default_code
            response = Response(error_body(api_code, _flatten(exc.detail)), status=exc.status_code)
            if wait := getattr(exc, "wait", None):
                response["Retry-After"] = str(int(wait))
    request = context.get("request")
    if response is None:
        request_id = getattr(request, "request_id", None) or uuid.uuid4().hex
        view = context.get("view")
        logger.error("unhandled exception in %s (request %s)", type(view).__name__, request_id, exc_info=exc)
        set_rollback()
        response = Response(
            error_body("server_error", SERVER_ERROR_MESSAGE, request_id=request_id), status=500
        )
    if request is not None:
        # Image routes negotiate image renderers; an error is always JSON.
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = "application/json"
    return response
