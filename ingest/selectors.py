"""Reads on images."""

from __future__ import annotations

from django.db.models import QuerySet

from ingest.models import Image


def image_list() -> QuerySet[Image]:
    """All images, newest first."""
    return Image.objects.order_by("-created", "-id")


def image_get(*, image_id: int) -> Image:
    """One image by id.

    Raises:
        Image.DoesNotExist: no such image.
    """
    return Image.objects.get(pk=image_id)
