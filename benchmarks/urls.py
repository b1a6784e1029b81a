"""Our URLs plus the baseline (stock django-large-image) and the floor view."""

from django.http import HttpResponse
from django.urls import include, path
from django_large_image.rest import LargeImageFileDetailMixin
from rest_framework.routers import SimpleRouter
from rest_framework.viewsets import GenericViewSet

from ingest.models import Image
from project.urls import urlpatterns as project_urlpatterns

FLOOR_BODY = b"x" * 30_000


class StockImageViewSet(LargeImageFileDetailMixin, GenericViewSet):
    """django-large-image 0.10.5 as its README shows it: the baseline."""

    queryset = Image.objects.all()
    FILE_FIELD_NAME = "file"


def floor(request):
    """A Django view returning a fixed 30 kB body: the cost of the stack itself."""
    return HttpResponse(FLOOR_BODY, content_type="application/octet-stream")


router = SimpleRouter(trailing_slash=False)
router.register("images", StockImageViewSet, basename="baseline-image")

urlpatterns = [
    path("bench/floor", floor),
    path("baseline/", include(router.urls)),
    *project_urlpatterns,
]
