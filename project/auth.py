"""API tokens: django-rest-knox's, revoked by ``POST /api/v1/auth/logout``.

Tokens are made by ``manage.py createtoken USER`` (shown once: only a SHA-512
digest is stored), sent as ``Authorization: Token <key>``, and expire after
``DJANGO_TOKEN_TTL_HOURS`` (0: never). Staff can also delete any token in the
admin (knox's ``AuthToken`` pages).
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from knox import views as knox_views


class LogoutView(knox_views.LogoutView):
    """``POST /api/v1/auth/logout``: revoke the token this request is sent with (204)."""

    @extend_schema(
        operation_id="auth_logout",
        request=None,
        responses={204: OpenApiResponse(description="the token is revoked: it is refused from now on")},
    )
    def post(self, request, format=None):  # noqa: A002 (DRF's signature)
        return super().post(request, format)
