"""Who may do what.

Reads are public unless ``DJANGO_PUBLIC_READ=false``, writes need a token
(:class:`PublicReadTokenWrite`); which images a request sees is decided by the
querysets (:func:`ingest.selectors.image_list`: public ones, one's own, all for
staff), and changing or deleting an image is for its owner and staff
(:class:`ImageOwnerOrStaff`).
"""

from django.conf import settings
from rest_framework.permissions import SAFE_METHODS, BasePermission

from ingest.selectors import image_can_manage


class PublicReadTokenWrite(BasePermission):
    """Safe methods for anyone when ``PUBLIC_READ``; everything else for authenticated users."""

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS and settings.PUBLIC_READ:
            return True
        return bool(request.user and request.user.is_authenticated)


class ImageOwnerOrStaff(BasePermission):
    """Unsafe methods on an image (PATCH, DELETE): its owner and staff only (others: 403).

    An image the requester cannot see is a 404 before this runs (the queryset
    filters it out), so a 403 only ever tells what the requester could read anyway.
    """

    message = "only the image's owner and staff may change or delete it"

    def has_object_permission(self, request, view, obj) -> bool:
        return request.method in SAFE_METHODS or image_can_manage(obj, request.user)
