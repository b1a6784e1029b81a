"""Django admin for images (the job's status, its depth axis, its error, and a preview) and wells.

The change page (``templates/admin/ingest/image/change_form.html``) adds a thumbnail
strip of the whole log and a GeoJS viewer over the image's tiles
(``/api/v1/images/{id}/tiles/{z}/{x}/{y}.png``). GeoJS is django-large-image's copy,
served with our static files, as the site's own viewer loads it; django-large-image's
stock admin include is not used because it pulls Tailwind, DaisyUI and Alpine from
CDNs and calls a colormap route (``/api/large-image/colormaps``) this server does not
have.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html

from ingest.models import Curve, Image, WebhookDelivery, Well
from ingest.pyramid import TILE

#: The strip on the change page: this many pixels wide and high, whatever the log's size.
STRIP_WIDTH = 48
STRIP_HEIGHT = 600
#: The en dash: the typography of depth ranges and of an empty value (not a hyphen-minus).
DASH = "–"  # noqa: RUF001 the en dash is intended (depth ranges), not a mistyped hyphen


def _depth(value: float | None) -> str:
    return DASH if value is None else f"{value:g}"


def image_preview_urls(image: Image) -> dict:
    """The URLs the change page's preview uses (strip, tile template, API detail).

    Args:
        image: a saved image.

    Returns:
        ``{"detail": ..., "strip": ..., "tiles": ..., "geojs": ...}``; ``tiles`` keeps
        ``{z}``, ``{x}`` and ``{y}`` for GeoJS to fill.
    """
    detail = reverse("image-detail", args=[image.pk])
    return {
        "detail": detail,
        "strip": f"{detail}/data/thumbnail.png?width={STRIP_WIDTH}&height={STRIP_HEIGHT}",
        "tiles": f"{detail}/tiles/{{z}}/{{x}}/{{y}}.png",
        "geojs": static(settings.GEOJS_STATIC),
    }


#: The columns of an image's webhook deliveries on its change page.
DELIVERY_FIELDS = (
    "attempt",
    "url",
    "event_status",
    "status_code",
    "delivered",
    "duration",
    "error",
    "created",
)


class WebhookDeliveryInline(admin.TabularInline):
    """An image's webhook deliveries on its change page, read-only (the job adds them)."""

    model = WebhookDelivery
    extra = 0
    can_delete = False
    fields = DELIVERY_FIELDS
    readonly_fields = DELIVERY_FIELDS

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    """Images are created by uploads (API, ``ingest`` command), so the admin reads and deletes.

    The admin is for staff only (Django's ``is_staff``), who see every image,
    private ones included. Deleting an image deletes its pyramid and its CSV from
    the storage (``ingest.models``) and every process cache forgets it
    (``tiles.source``).
    """

    list_display = ["id", "name", "owner", "public", "status", "depth_range", "rows", "columns", "created"]
    list_display_links = ["id", "name"]
    list_filter = ["status", "public", "depth_unit", "dtype"]
    list_select_related = ["owner"]
    search_fields = ["name", "sha256", "owner__username"]
    date_hierarchy = "created"
    inlines = [WebhookDeliveryInline]
    # SLF001: Model._meta is Django's documented model metadata API, not a private member.
    readonly_fields = [f.name for f in Image._meta.fields] + ["depth_range", "error_summary", "duration"]  # noqa: SLF001

    def save_model(self, request, obj: Image, form, change: bool) -> None:
        """Write only the columns the form changed (all are read-only here: none).

        A full-row save would write back the job's columns as the page read them,
        undoing a job that finished meanwhile.
        """
        if not change:
            super().save_model(request, obj, form, change)
        elif form.changed_data:
            obj.save(update_fields=form.changed_data)

    fieldsets = [
        (
            None,
            {
                "fields": [
                    "name",
                    ("owner", "public"),
                    ("well", "value_unit"),
                    "status",
                    "progress",
                    "error_summary",
                ]
            },
        ),
        (
            "Depth axis",
            {
                "fields": [
                    "depth_range",
                    ("depth_min", "depth_max", "depth_step", "depth_unit"),
                    ("rows", "columns", "levels", "dtype"),
                    ("value_min", "value_max", "value_p2", "value_p98"),
                ]
            },
        ),
        (
            "Job",
            {
                "fields": [
                    ("created", "started", "finished", "duration"),
                    ("rows_read", "rows_dropped", "bytes_read"),
                    "options",
                    "webhook_url",
                ]
            },
        ),
        ("Files", {"fields": ["file", "source", "source_size", "sha256"]}),
    ]

    @admin.display(description="depth range", ordering="depth_min")
    def depth_range(self, image: Image) -> str:
        """``depth_min – depth_max unit`` (closed range), or a dash before ingestion."""  # noqa: RUF002 en dash intended
        if image.depth_min is None or image.depth_max is None:
            return DASH
        step = f", step {_depth(image.depth_step)}" if image.depth_step else ""
        return f"{_depth(image.depth_min)} {DASH} {_depth(image.depth_max)} {image.depth_unit}{step}"

    @admin.display(description="error")
    def error_summary(self, image: Image) -> str:
        """The job's error with its line and column, or a dash."""
        if not image.error:
            return DASH
        where = []
        if image.error_line is not None:
            where.append(f"line {image.error_line}")
        if image.error_column:
            where.append(f"column {image.error_column}")
        return format_html(
            '<span class="errornote" id="image-error">{}{}</span>',
            image.error,
            f" ({', '.join(where)})" if where else "",
        )

    def has_add_permission(self, request) -> bool:
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        image = self.get_object(request, object_id)
        if image is not None:
            extra_context["preview"] = {
                **image_preview_urls(image),
                "ready": image.is_ready,
                "columns": image.columns,
                "rows": image.rows,
                "tile_size": TILE,
                "strip_width": STRIP_WIDTH,
                "strip_height": STRIP_HEIGHT,
            }
        return super().change_view(request, object_id, form_url, extra_context=extra_context)


class CurveInline(admin.TabularInline):
    """A well's curves, read only (its job makes them)."""

    model = Curve
    extra = 0
    can_delete = False
    readonly_fields = [
        "mnemonic",
        "unit",
        "description",
        "samples",
        "depth_min",
        "depth_max",
        "value_min",
        "value_max",
        "file",
    ]
    fields = list(readonly_fields)

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Well)
class WellAdmin(admin.ModelAdmin):
    """Wells are created by uploads, so the admin reads and deletes (with their images and curves)."""

    list_display = ["id", "name", "owner", "public", "format", "status", "well_name", "depth_unit", "created"]
    list_display_links = ["id", "name"]
    list_filter = ["status", "public", "format", "depth_unit"]
    list_select_related = ["owner"]
    search_fields = ["name", "well_name", "uwi", "sha256", "owner__username"]
    date_hierarchy = "created"
    inlines = [CurveInline]
    readonly_fields = [f.name for f in Well._meta.fields]  # noqa: SLF001 (Django's documented metadata API)

    def has_add_permission(self, request) -> bool:
        return False

    def save_model(self, request, obj: Well, form, change: bool) -> None:
        """Write only the columns the form changed (none: all are read-only), never the job's."""
        if form.changed_data:
            obj.save(update_fields=form.changed_data)
