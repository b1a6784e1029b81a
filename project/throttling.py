"""Request rates per client: DRF's throttles with rates read from our settings at request time.

``THROTTLE_ANON`` (``DJANGO_THROTTLE_ANON``) limits requests without a user, by
client address; ``THROTTLE_USER`` (``DJANGO_THROTTLE_USER``) requests of an
authenticated user, by user. A rate is DRF's ``<number>/<second|minute|hour|day>``;
empty turns that throttle off (the embedded default and the benchmarks). The
client address is ``REMOTE_ADDR``, or with ``DJANGO_NUM_PROXIES=N`` the address
the N-th proxy from the end of ``X-Forwarded-For`` saw (a client cannot pick its
own address). Throttled: 429 ``throttled`` with ``Retry-After``
(project/exceptions.py). History lives in the ``default`` cache (Redis in production,
shared by every web process).

The tile fast lane (tiles/middleware.py) answers anonymous tile GETs (no
``Authorization``, no session cookie) before DRF:
it calls :func:`lane_allows` first, so a tile counts against the anonymous rate
exactly once whichever path answers it; when the rate is spent the lane steps
aside and DRF answers the 429.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

#: Set on a request the fast lane has already counted (the normal stack must not count it again).
COUNTED = "_depthtiles_throttle_counted"


class AnonThrottle(AnonRateThrottle):
    """Requests without an authenticated user, per client address, at ``THROTTLE_ANON``."""

    def get_rate(self) -> str | None:
        return settings.THROTTLE_ANON or None

    def get_cache_key(self, request, view) -> str | None:
        user = getattr(request, "user", None)  # the fast lane's plain HttpRequest has none
        if user is not None and user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def allow_request(self, request, view) -> bool:
        if getattr(request, COUNTED, False):
            return True
        return super().allow_request(request, view)


class UserThrottle(UserRateThrottle):
    """Requests of an authenticated user, per user, at ``THROTTLE_USER`` (others: :class:`AnonThrottle`)."""

    def get_rate(self) -> str | None:
        return settings.THROTTLE_USER or None

    def get_cache_key(self, request, view) -> str | None:
        if not request.user or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


def lane_allows(request) -> bool:
    """Count an anonymous request the fast lane is about to answer; False when the rate is spent.

    Args:
        request: a Django ``HttpRequest`` (no user: the lane serves requests without credentials).

    Returns:
        True (and the request is counted) when it may be answered; False when the
        normal stack must answer it (it then throttles it with a 429).
    """
    throttle = AnonThrottle()
    if throttle.rate is None:
        return True
    if not throttle.allow_request(request, None):
        return False
    setattr(request, COUNTED, True)
    return True
