"""HTML pages: the dashboard (list of images, upload form), the GeoJS viewer and the workstation.

Both show only what the session's user may see (public images, their own, all
for staff); a page that shows a private image says ``Cache-Control: private``.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.http import require_safe

from ingest.models import Image, Well
from ingest.rest.serializers import CurveSerializer
from ingest.rest.viewsets import private_response
from ingest.selectors import image_list, well_list
from picks.models import Confidence
from picks.selectors import image_diameter
from tiles.core.pyramid import zoom_levels
from tiles.source import ImageSource
from tiles.templatetags.depth import depth, depth_decimals

IMAGES_PER_PAGE = 20
#: The strip an embed snippet draws: exact size, the whole log squeezed into it.
EMBED_WIDTH, EMBED_HEIGHT = 64, 400
#: The viewer's export formats: the source's, without the aliases ``jpg`` and ``tif``.
REGION_FORMATS = tuple(fmt for fmt in ImageSource.data_formats if fmt not in ("jpg", "tif"))


def embed_url(request: HttpRequest, image: Image) -> str | None:
    """The absolute thumbnail URL of an image's whole depth range, to paste into a dashboard.

    Args:
        request: the page request (gives the scheme and host).
        image: a succeeded image (depth axis known).

    Returns:
        ``.../data/thumbnail.png?depth_min=...&depth_max=...&width=64&height=400``, or None
        when the image has no depth axis yet.
    """
    if image.status != Image.Status.SUCCEEDED or image.depth_min is None or image.depth_max is None:
        return None
    query = urlencode(
        {
            "depth_min": depth(image.depth_min, image.depth_step),
            "depth_max": depth(image.depth_max, image.depth_step),
            "width": EMBED_WIDTH,
            "height": EMBED_HEIGHT,
        }
    )
    path = reverse("image-detail", kwargs={"pk": image.pk}) + "/data/thumbnail.png?" + query
    return request.build_absolute_uri(path)


@require_safe
def image_list_page(request: HttpRequest) -> HttpResponse:
    """``/``: the dashboard.

    Every image, newest first, :data:`IMAGES_PER_PAGE` a page (``?page=N``; a page
    out of range shows the last one), each with a strip thumbnail and an embed
    snippet; and a form that uploads a CSV through the API with the user's token.
    """
    paginator = Paginator(image_list(user=request.user).select_related("owner"), IMAGES_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    for image in page.object_list:
        image.embed_url = embed_url(request, image)
    context = {
        "page": page,
        "images": page.object_list,
        "page_range": paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
        "upload_url": reverse("image-list"),
        "depth_units": Image.DepthUnit.choices,
    }
    response = render(request, "tiles/image_list.html", context)
    if any(not image.public for image in page.object_list):
        private_response(response)
    return response


def image_axis_config(image: Image) -> dict:
    """An image's depth axis, size and value statistics, as the viewer and the workstation read them.

    Returns:
        JSON-able dict: ``depth_min``, ``depth_max``, ``depth_step`` (in ``depth_unit``),
        ``depth_unit``, ``rows`` and ``columns`` (pixels), ``dtype`` ("uint8" when not yet
        known) and the value statistics ``value_min``, ``value_max``, ``value_p2``,
        ``value_p98`` (None until ingested).
    """
    return {
        "depth_min": image.depth_min,
        "depth_max": image.depth_max,
        "depth_step": image.depth_step,
        "depth_unit": image.depth_unit,
        "rows": image.rows,
        "columns": image.columns,
        "dtype": image.dtype or "uint8",
        "value_min": image.value_min,
        "value_max": image.value_max,
        "value_p2": image.value_p2,
        "value_p98": image.value_p98,
    }


@require_safe
def image_viewer_page(request: HttpRequest, pk: int) -> HttpResponse:
    """``/images/{id}``: pan and zoom the log with a depth axis, colour controls and a readout.

    404 unless the session's user may see the image.
    """
    image = get_object_or_404(image_list(user=request.user), pk=pk)
    api = reverse("image-detail", kwargs={"pk": image.pk})
    config = {
        "id": image.pk,
        "name": image.name,
        "status": image.status,
        "progress": image.progress,
        "error": image.error,
        **image_axis_config(image),
        "tile_size": ImageSource.tile_size,
        "tile_url": f"{api}/tiles/{{z}}/{{x}}/{{y}}.png",
        "region_url": f"{api}/data/region",
        "region_formats": list(REGION_FORMATS),
        "pixel_url": f"{api}/data/pixel",
        "detail_url": api,
        "colormaps_url": reverse("colormap-list"),
        "geojs_url": static(settings.GEOJS_STATIC),
    }
    response = render(request, "tiles/viewer.html", {"image": image, "viewer_config": config})
    return response if image.public else private_response(response)


# -- the workstation -------------------------------------------------------------------

#: Tracks a layout may name (static/tiles/well/state.js MAX_TRACKS).
MAX_TRACKS = 16
#: The depth scales offered, 1:N (static/tiles/well/scale.js PRESETS).
SCALE_PRESETS = (20, 50, 100, 200, 500, 1000)
#: The default layout of a well: its curves in tracks of this many, at most this many tracks.
CURVES_PER_TRACK, MAX_CURVE_TRACKS = 2, 4
#: The workstation's ES modules (static/), preloaded by its page in one go.
_WELL_MODULES = (
    "azimuth",
    "curve-track",
    "curves",
    "depth-track",
    "image-track",
    "levels",
    "main",
    "pick-layer",
    "picks",
    "readout",
    "scale",
    "state",
    "tadpole-track",
    "tiles",
    "track",
)
WORKSTATION_MODULES = (
    *(f"tiles/viewer/{name}.js" for name in ("api", "axis", "canvas", "style", "ticks")),
    *(f"tiles/well/{name}.js" for name in _WELL_MODULES),
)
_IMAGE_TOKEN = re.compile(r"img:(\d{1,10})")


def image_track_config(image: Image) -> dict:
    """What an image track needs of a ready image: its depth axis, pyramid, values and URLs.

    Args:
        image: a succeeded image.

    Returns:
        JSON-able dict: ``id``, ``name``, the depth axis (``depth_min``, ``depth_max``,
        ``depth_step``, ``depth_unit``, ``rows``), ``columns``, ``dtype``, the value
        statistics, ``value_unit`` ("" unknown), ``tile_size`` and ``zooms`` (levels,
        z = 0 the coarsest), and the ``tile_url`` (append ``/{z}/{x}/{y}.png``) and
        ``pixel_url`` prefixes.
    """
    api = reverse("image-detail", kwargs={"pk": image.pk})
    picks = reverse("image-picks", kwargs={"pk": image.pk})
    return {
        "id": image.pk,
        "name": image.name,
        **image_axis_config(image),
        "value_unit": image.value_unit or "",
        "tile_size": ImageSource.tile_size,
        "zooms": zoom_levels(image.columns or 1, image.rows or 1, ImageSource.tile_size),
        "tile_url": f"{api}/tiles",
        "pixel_url": f"{api}/data/pixel",
        "azimuth_offset": image.azimuth_offset or 0.0,
        "diameter": image_diameter(image),
        "picks_url": picks,
        "picks_csv_url": reverse("image-picks-csv", kwargs={"pk": image.pk}),
        "fit_url": reverse("image-picks-fit", kwargs={"pk": image.pk}),
    }


def layout_image_ids(request: HttpRequest) -> list[int]:
    """The image ids a layout in the address names (``?t=depth,img:12,...``), at most MAX_TRACKS."""
    tokens = request.GET.get("t", "").split(",")[:MAX_TRACKS]
    return [int(m.group(1)) for m in map(_IMAGE_TOKEN.fullmatch, tokens) if m]


def workstation_config(*, images: list[Image], curves: list[dict], default_tracks: list[str]) -> dict:
    """The workstation page's configuration (static/tiles/well/main.js).

    Args:
        images: succeeded images the user may see, each a possible image track.
        curves: the well's curve objects (the curves API's), each a possible curve.
        default_tracks: the layout without ``?t=``, as state.js tokens.

    Returns:
        JSON-able dict: ``images`` (:func:`image_track_config`), ``curves``, the depth
        range of all of them (``depth_min``, ``depth_max``, ``depth_unit``), the
        decimals of the finest depth step, ``default_tracks``, ``colormaps_url``,
        and the ``pick_kinds`` (settings.PICK_KINDS) and ``pick_confidences``.
    """
    ranges = [
        (i.depth_min, i.depth_max) for i in images if i.depth_min is not None and i.depth_max is not None
    ]
    ranges += [(c["depth_min"], c["depth_max"]) for c in curves if c.get("depth_min") is not None]
    steps = [i.depth_step for i in images if i.depth_step]
    unit = images[0].depth_unit if images else "m"
    return {
        "images": [image_track_config(i) for i in images],
        "curves": curves,
        "depth_min": min((r[0] for r in ranges), default=0.0),
        "depth_max": max((r[1] for r in ranges), default=1.0),
        "depth_unit": unit,
        "depth_decimals": depth_decimals(min(steps)) if steps else 1,
        "default_tracks": default_tracks,
        "colormaps_url": reverse("colormap-list"),
        "pick_kinds": list(settings.PICK_KINDS),
        "pick_confidences": list(Confidence.values),
    }


def _render_workstation(request: HttpRequest, context: dict, images: list[Image]) -> HttpResponse:
    context["presets"] = SCALE_PRESETS
    context["modules"] = WORKSTATION_MODULES
    response = render(request, "tiles/well.html", context)
    return private_response(response) if any(not i.public for i in images) else response


@require_safe
def image_tracks_page(request: HttpRequest, pk: int) -> HttpResponse:
    """``/images/{id}/tracks``: the workstation with one image as a one-track well.

    Opens with a depth track and the image's track; a layout in the address
    (``?t=...``) may add other images the user may see (their ready ones). 404
    unless the user may see the image.
    """
    visible = image_list(user=request.user)
    image = get_object_or_404(visible, pk=pk)
    images = [image] if image.status == Image.Status.SUCCEEDED else []
    others = [i for i in layout_image_ids(request) if i != image.pk]
    if images and others:
        extra = visible.filter(pk__in=others, status=Image.Status.SUCCEEDED, depth_unit=image.depth_unit)
        images += sorted(extra, key=lambda i: others.index(i.pk))
    config = workstation_config(images=images, curves=[], default_tracks=["depth", f"img:{image.pk}"])
    context = {
        "title": image.name,
        "subtitle": "Tracks",
        "links": [
            {"url": reverse("image-viewer", kwargs={"pk": image.pk}), "label": "Image view"},
            {"url": reverse("image-detail", kwargs={"pk": image.pk}), "label": "API"},
            *(
                [{"url": reverse("well-page", kwargs={"pk": image.well_id}), "label": "Well"}]
                if image.well_id
                else []
            ),
        ],
        "config": config,
        "empty_message": f"The image is not ready ({image.status}): see its image view.",
    }
    return _render_workstation(request, context, [image, *images])


def well_default_tracks(images: list[Image], mnemonics: list[str]) -> list[str]:
    """A well's layout without ``?t=``: depth, each image, its curves :data:`CURVES_PER_TRACK` a track.

    At most :data:`MAX_TRACKS` tracks, of them at most :data:`MAX_CURVE_TRACKS` curve
    tracks (the other curves can be added on the page).
    """
    tracks = ["depth", *(f"img:{i.pk}" for i in images)]
    chunks = [mnemonics[k : k + CURVES_PER_TRACK] for k in range(0, len(mnemonics), CURVES_PER_TRACK)]
    tracks += ["curve:" + "|".join(chunk) for chunk in chunks[:MAX_CURVE_TRACKS]]
    return tracks[:MAX_TRACKS]


@require_safe
def well_page(request: HttpRequest, pk: int) -> HttpResponse:
    """``/wells/{id}``: the workstation of a well, its images and curves on one depth axis.

    Opens with a depth track, a track per ready image and the curves two a track
    (:func:`well_default_tracks`); a layout in the address (``?t=...``) replaces it.
    404 unless the session's user may see the well.
    """
    well = get_object_or_404(well_list(user=request.user), pk=pk)
    images = list(well.images.filter(status=Image.Status.SUCCEEDED).order_by("id"))
    curves = list(CurveSerializer(well.curves.all(), many=True, context={"request": request}).data)
    mnemonics = [c["mnemonic"] for c in curves]
    config = workstation_config(
        images=images, curves=curves, default_tracks=well_default_tracks(images, mnemonics)
    )
    config["depth_unit"] = well.depth_unit
    facts = [well.well_name, well.field, well.company, well.uwi]
    context = {
        "title": well.name,
        "subtitle": " · ".join(fact for fact in facts if fact) or "Well",
        "links": [{"url": reverse("well-detail", kwargs={"pk": well.pk}), "label": "API"}],
        "config": config,
        "empty_message": (
            f"The well is {well.status}: no image or curve to show yet."
            if well.status != Well.Status.SUCCEEDED
            else "The well has no image and no curve."
        ),
    }
    response = _render_workstation(request, context, images)
    return response if well.public else private_response(response)
