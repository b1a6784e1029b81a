"""HTML pages: the list of images and the GeoJS viewer."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.templatetags.static import static
from django.urls import reverse

from ingest.models import Image
from ingest.selectors import image_list
from tiles.core.style import COLORMAPS

GEOJS = "django_large_image/js/geojs/1.8.3/geo.min.js"


def image_list_page(request: HttpRequest) -> HttpResponse:
    """``/``: every image, newest first, with a thumbnail strip."""
    return render(request, "tiles/image_list.html", {"images": list(image_list())})


def image_viewer_page(request: HttpRequest, pk: int) -> HttpResponse:
    """``/images/{id}``: pan and zoom the log with a depth axis and a colormap choice."""
    image = get_object_or_404(Image, pk=pk)
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
        "tile_size": 256,
        "tile_url": f"{api}/tiles/{{z}}/{{x}}/{{y}}.png",
        "region_url": f"{api}/data/region.png",
        "pixel_url": f"{api}/data/pixel",
        "detail_url": api,
        "colormaps": list(COLORMAPS),
        "geojs_url": static(GEOJS),
    }
    return render(request, "tiles/viewer.html", {"image": image, "viewer_config": config})
