"""HTML pages: the dashboard (list of images, upload form) and the GeoJS viewer.

Both show only what the session's user may see (public images, their own, all
for staff); a page that shows a private image says ``Cache-Control: private``.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.http import require_safe

from ingest.models import Image
from ingest.rest.viewsets import private_response
from ingest.selectors import image_list
from tiles.source import ImageSource
from tiles.templatetags.depth import depth

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
