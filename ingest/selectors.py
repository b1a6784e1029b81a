"""Reads on images and wells."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TypeVar

from django.contrib.auth.models import User
from django.db.models import OuterRef, Q, QuerySet, Subquery

from ingest.models import Curve, Image, WebhookDelivery, Well
from ingest.storage import storage_is_local, storage_local_path


def image_list(
    *,
    user=None,
    owner: str | None = None,
    well: int | None = None,
    status: str | None = None,
    name: str | None = None,
) -> QuerySet[Image]:
    """The images ``user`` may see, newest first (``-created``, ``-id``), optionally filtered.

    Public images are seen by everyone; a private one (``public=False``) only by
    its owner and staff. The filters narrow that set (never widen it); each is
    served by an index of :class:`ingest.models.Image` (migration 0005).

    Args:
        user: the requester (an ``AnonymousUser``, or None, sees public images only).
        owner: only images uploaded by this username (exact spelling).
        well: only the images of the well with this id.
        status: only images whose job has this status (``pending``, ``running``, ...).
        name: only images whose name contains this text, case-insensitive.
    """
    images = _visible(Image.objects.order_by("-created", "-id"), user)
    return list_filter(images, owner=owner, status=status, name=name, well=well)


def well_list(
    *,
    user=None,
    owner: str | None = None,
    status: str | None = None,
    name: str | None = None,
) -> QuerySet[Well]:
    """The wells ``user`` may see, newest first: public ones, their own, all for staff (as images).

    Args:
        user: the requester.
        owner: only wells uploaded by this username (exact spelling).
        status: only wells whose job has this status.
        name: only wells whose name contains this text, case-insensitive.
    """
    wells = _visible(Well.objects.order_by("-created", "-id"), user)
    return list_filter(wells, owner=owner, status=status, name=name)


_Rows = TypeVar("_Rows", Image, Well)


def visible_images_q(user, *, prefix: str = "") -> Q:
    """The condition on images ``user`` may see, through the relation ``prefix`` (e.g. ``"images__"``).

    Staff: every image (an empty ``Q``); signed in: public or their own; else public only.
    """
    if image_sees_everything(user):
        return Q()
    if user is not None and user.is_authenticated:
        return Q(**{f"{prefix}public": True}) | Q(**{f"{prefix}owner": user})
    return Q(**{f"{prefix}public": True})


def _visible(rows: QuerySet[_Rows], user) -> QuerySet[_Rows]:
    """``rows`` narrowed to those ``user`` may see (public, their own, all for staff)."""
    if image_sees_everything(user):
        return rows
    if user is not None and user.is_authenticated:
        return rows.filter(Q(public=True) | Q(owner=user))
    return rows.filter(public=True)


def owner_username():
    """The owner's username of each row (images or wells), to annotate a list with: ``None`` when none.

    A correlated subquery, not ``F("owner__username")``: a join would stay in the
    list's ``count(*)`` (Django drops an unused annotation from a count, not its
    join), which then reads every visible row and its user (6.7 ms against 1.6 ms
    for 7,000 public images in ``benchmarks/lists.py``); the subquery costs one
    primary-key lookup per row of the page.
    """
    return Subquery(User.objects.filter(pk=OuterRef("owner_id")).values("username")[:1])


def visible_count(rows: QuerySet[_Rows], user) -> int:
    """``rows.count()`` of rows narrowed by :func:`image_list` or :func:`well_list`: the same number, sooner.

    The sum of the counts of :func:`visible_count_parts`.

    Args:
        rows: a queryset of :func:`image_list` or :func:`well_list` for ``user``
            (filters allowed), so a subset of what ``user`` may see.
        user: the requester.
    """
    return sum(part.count() for part in visible_count_parts(rows, user))


def visible_count_parts(rows: QuerySet[_Rows], user) -> list[QuerySet[_Rows]]:
    """Disjoint parts of ``rows`` whose counts add up to ``rows.count()``, each counted from an index.

    A signed-in user who is not staff sees ``public OR owner = them``: most of the
    table, which PostgreSQL counts by reading every row (7 ms at 10,000 images).
    The public rows and their own private ones are disjoint, so they are counted
    apart: the public ones from the partial index ``image_public_created`` alone
    (an index-only scan), their own private ones from the owner's index. Anyone
    else: ``rows`` itself (one ``count(*)``).

    Args:
        rows: as :func:`visible_count`.
        user: the requester.
    """
    if image_sees_everything(user) or user is None or not user.is_authenticated:
        return [rows]
    return [rows.filter(public=True), rows.filter(public=False, owner=user)]


def list_filter(
    rows: QuerySet[_Rows],
    *,
    owner: str | None = None,
    status: str | None = None,
    name: str | None = None,
    well: int | None = None,
) -> QuerySet[_Rows]:
    """``rows`` (images or wells) narrowed by the list filters that are set (None: not filtered).

    Args:
        rows: images or wells, already narrowed to what the requester may see.
        owner: the uploader's username, exact.
        status: the job's status.
        name: a part of the name, case-insensitive (``icontains``).
        well: a well's id (images only).
    """
    if owner is not None:
        # The owner's id as a scalar subquery, not a join: PostgreSQL then reads the
        # owner's index (owner, -created, -id) instead of walking every row by date.
        uploader = User.objects.filter(username=owner).values("pk")[:1]
        rows = rows.filter(owner_id=Subquery(uploader))
    if well is not None:
        rows = rows.filter(well_id=well)  # type: ignore[misc]  # images only: a well has no well
    if status is not None:
        rows = rows.filter(status=status)
    if name:
        rows = rows.filter(name__icontains=name)
    return rows


def webhook_deliveries_of(*, image_ids: list[int]) -> dict[int, list[WebhookDelivery]]:
    """The webhook deliveries of these images, by image id, by attempt (one query; none for no id).

    Args:
        image_ids: ids of images (each gets a list, empty when it has no delivery).
    """
    found: dict[int, list[WebhookDelivery]] = {pk: [] for pk in image_ids}
    if found:
        for delivery in WebhookDelivery.objects.filter(image_id__in=found):  # ordered: image, attempt
            found[delivery.image_id].append(delivery)
    return found


def well_curve(*, well: Well, mnemonic: str) -> Curve | None:
    """The curve ``mnemonic`` of a well (exact spelling), or None."""
    return well.curves.filter(mnemonic=mnemonic).first()


def image_sees_everything(user) -> bool:
    """True for staff: they see and manage every image."""
    return bool(user is not None and user.is_authenticated and user.is_staff)


def image_is_visible(image: Image | Well, user) -> bool:
    """The rule of :func:`image_list` (:func:`well_list`) for one image (well) already loaded."""
    return image.public or image_can_manage(image, user)


def image_can_manage(image: Image | Well, user) -> bool:
    """The owner and staff may change (PATCH) and delete an image or a well (an ownerless one: staff only)."""
    if image_sees_everything(user):
        return True
    return bool(user is not None and user.is_authenticated and image.owner_id == user.pk)


def image_local_path(image: Image) -> Path:
    """The pyramid of an image as a file on the local disk, to open by path.

    Serving does not use it: pyramids are read by ranged reads
    (:func:`tiles.services.pyramid_by_name`). Left for django-large-image's stock
    routes (``tiles/metadata``, ``info/*``: libtiff opens a path) until their viewset
    opens :func:`tiles.services.large_image_source` instead; with a bucket it copies
    the whole pyramid into ``DATA_DIR/cache`` (:func:`ingest.storage.storage_local_path`).

    Args:
        image: an image whose ``file`` is set (status ``succeeded``).

    Returns:
        An absolute path.

    Raises:
        ValueError: the image has no pyramid.
        FileNotFoundError: the pyramid is missing from the storage.
    """
    if not image.file:
        raise ValueError(f"image {image.pk} has no pyramid (status {image.status})")
    return storage_local_path(image.file.name)


def _pyramid_present(image: Image) -> bool:
    """Local storage: the pyramid is still on the disk. A bucket is not asked per request."""
    return not storage_is_local() or os.path.exists(image_local_path(image))


#: Ready images' pixels are immutable: keep the rows in process memory briefly so a
#: tile request does not query the database (pk -> (expiry, image)). The row itself
#: is not immutable: an image may be deleted, or made private, by a request another
#: process answers. This process forgets at once (:func:`image_forget_ready`); any
#: other serves a cached row at most READY_CACHE_SECONDS after that change's commit
#: (with local storage a deleted pyramid is noticed at once: see
#: :func:`image_get_ready_cached`). Two seconds cost one query per image, process and
#: two seconds, against a query per tile.
_READY: dict[int, tuple[float, Image]] = {}
READY_CACHE_SECONDS = 2.0
READY_CACHE_SIZE = 1024


def image_get_ready_cached(*, image_id: int) -> Image | None:
    """A succeeded image from a short in-process cache, or None if not cached.

    Only images whose status is ``succeeded`` are cached (their content never
    changes); an entry lives :data:`READY_CACHE_SECONDS`, and one whose pyramid
    is gone from the disk is dropped at once (the caller then asks the database).
    """
    entry = _READY.get(image_id)
    if entry is None:
        return None
    expiry, image = entry
    if expiry < time.monotonic() or not _pyramid_present(image):
        _READY.pop(image_id, None)
        return None
    return image


def image_forget_ready(*, image_id: int | None = None) -> None:
    """Drop one image (``image_id``), or every image, from the in-process cache of ready images."""
    if image_id is None:
        _READY.clear()
    else:
        _READY.pop(image_id, None)


def image_remember_ready(image: Image) -> None:
    """Put a succeeded image in the in-process cache (see :func:`image_get_ready_cached`)."""
    if image.status != Image.Status.SUCCEEDED:
        return
    if len(_READY) >= READY_CACHE_SIZE:
        _READY.clear()
    _READY[image.pk] = (time.monotonic() + READY_CACHE_SECONDS, image)
