"""A fast lane for the commonest request of a tile server: a public tile GET.

A viewer panning a log asks for tiles by the hundred; each answer is a cached
or quickly rendered PNG, so Django's middleware chain and DRF's request
machinery (about 0.14 ms of the 0.24 ms a warm tile costs in-process) are most
of its price. :class:`TileFastLaneMiddleware`, first in ``MIDDLEWARE``, answers
such a request itself, with the same code as the viewset's ``tile`` action
(:func:`tiles.rest.viewsets.tile_response`) and the headers the skipped
middleware would add. Anything else goes down the normal stack untouched,
including every request the lane is not sure about:

* not a ``GET``, or not exactly ``/api/v1/images/{id}/tiles/{z}/{x}/{y}.{fmt}``;
* reads need a token (``DJANGO_PUBLIC_READ=false``), or the request carries
  ``Authorization`` or ``Origin`` (CORS decides), or a session cookie (a
  logged-in browser: DRF authenticates it and counts it against
  ``DJANGO_THROTTLE_USER``, not the anonymous rate of its address);
* a host not in ``ALLOWED_HOSTS``, or a redirect SecurityMiddleware would make;
* an image not in the in-process cache of ready images (the normal path
  loads it, checking that the requester may see it), a private image (only
  its owner and staff may read it: the normal stack authenticates them), a bad
  parameter, or any error: the normal stack answers, with its JSON error;
* the anonymous request rate (``DJANGO_THROTTLE_ANON``) is spent: the lane
  counts each tile it answers exactly as DRF would (:func:`project.throttling.lane_allows`),
  and steps aside for DRF's 429 when the rate is spent.

The lane answers public images only, from rows cached at most
``ingest.selectors.READY_CACHE_SECONDS`` (2 s): an image deleted or made private
by a request another process answered may be served here for at most that long
after the change's commit (this process forgets it at once, ``tiles.source``;
with local storage a deleted pyramid is noticed at once).

``tests/test_tiles_fast_lane.py`` checks that both paths give the same status,
body and headers, but two the lane leaves out on purpose: DRF's ``Allow`` and
``Vary: Cookie`` (tiles are public here, so a cookie changes nothing and must
not split shared caches).
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.security import SecurityMiddleware
from django.utils.cache import patch_vary_headers

from ingest.selectors import image_get_ready_cached
from project.throttling import lane_allows
from tiles.rest import params
from tiles.rest.viewsets import TILE_ROUTE, query_params, tile_response

#: The tile route of :class:`tiles.rest.viewsets.ImageDataViewSet` (its own regex) under ``/api/v1/``.
TILE_PATH = re.compile(rf"^/api/v1/images/(?P<pk>\d+)/{TILE_ROUTE}$")

#: Request headers that send a request down the normal stack (so does the session cookie).
_UNSURE = ("HTTP_AUTHORIZATION", "HTTP_ORIGIN")


def _unsure(request) -> bool:
    """The request carries credentials (a token, a session cookie: a user to DRF) or an ``Origin``."""
    return settings.SESSION_COOKIE_NAME in request.COOKIES or any(name in request.META for name in _UNSURE)


def _no_response(request):  # the skipped middleware only post-process the lane's response
    return None


class TileFastLaneMiddleware:
    """Answer public tile GETs before the rest of the middleware chain and DRF (see the module)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self._security = SecurityMiddleware(_no_response)
        self._frame = XFrameOptionsMiddleware(_no_response)

    def __call__(self, request):
        response = self._answer(request) if request.method == "GET" else None
        return self.get_response(request) if response is None else response

    def _answer(self, request):
        match = TILE_PATH.match(request.path_info)
        if match is None or not settings.PUBLIC_READ or _unsure(request):
            return None
        try:
            request.get_host()
        except DisallowedHost:
            return None
        if self._security.process_request(request) is not None:
            return None
        image = image_get_ready_cached(image_id=int(match["pk"]))
        if image is None or not image.public or not lane_allows(request):  # rate spent: DRF's 429
            return None
        try:
            style = query_params(params.StyleParams, request.GET)
            response = tile_response(
                request,
                image,
                style,
                z=int(match["z"]),
                x=int(match["x"]),
                y=int(match["y"]),
                fmt=match["fmt"],
            )
        except Exception:  # noqa: BLE001 - the normal stack answers errors, in their JSON shape
            return None
        patch_vary_headers(response, ("origin",))  # as django-cors-headers does for every response
        response.headers["Content-Length"] = str(len(response.content))  # as CommonMiddleware does
        response = self._security.process_response(request, response)
        return self._frame.process_response(request, response)
