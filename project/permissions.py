"""Who may do what: reads are public (unless ``DJANGO_PUBLIC_READ=false``), writes need a token."""

from django.conf import settings
from rest_framework.permissions import SAFE_METHODS, BasePermission


class PublicReadTokenWrite(BasePermission):
    """Safe methods for anyone when ``PUBLIC_READ``; everything else for authenticated users."""

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS and settings.PUBLIC_READ:
            return True
        return bool(request.user and request.user.is_authenticated)
