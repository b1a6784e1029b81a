"""URL wiring: the API under /api/v1/, the classic depth-frame API, the HTML pages, admin, the docs."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter, SimpleRouter

from ingest.rest.viewsets import ImageViewSet
from ingest.rest.wells import WellViewSet
from picks.rest.viewsets import PickCsvView, PickViewSet, SurveyView
from project.auth import LogoutView
from project.health import healthz, readyz
from tiles import views
from tiles.rest.classic import ClassicFramesView, ClassicUploadView
from tiles.rest.colormaps import ColormapLegendView, ColormapListView
from tiles.rest.viewsets import ImageDataViewSet

# One prefix, two apps: the image as a job (upload, list, detail, PATCH, DELETE) is
# ingest's; serving it (tiles, data, info) is tiles'. Two routers, as DRF allows one
# viewset per basename in a router; the route names (image-list, image-tile, ...) are unchanged.
router = DefaultRouter(trailing_slash=False)
router.include_format_suffixes = False  # no ".json" twins: half the patterns to match per request
router.register("images", ImageViewSet, basename="image")
router.register("wells", WellViewSet, basename="well")
serving = SimpleRouter(trailing_slash=False)
serving.register("images", ImageDataViewSet, basename="image")

urlpatterns = [
    path("", views.image_list_page, name="image-list-page"),
    path("images/<int:pk>", views.image_viewer_page, name="image-viewer"),
    path("images/<int:pk>/tracks", views.image_tracks_page, name="image-tracks"),
    path("wells/<int:pk>", views.well_page, name="well-page"),
    path("api/v1/colormaps", ColormapListView.as_view(), name="colormap-list"),
    path("api/v1/colormaps/<str:name>.png", ColormapLegendView.as_view(), name="colormap-legend"),
    path("api/v1/auth/logout", LogoutView.as_view(), name="auth-logout"),
    # Picks of an image, and a well's deviation survey (picks/rest/viewsets.py).
    path(
        "api/v1/images/<int:pk>/picks",
        PickViewSet.as_view({"get": "list", "post": "create"}),
        name="image-picks",
    ),
    path("api/v1/images/<int:pk>/picks.csv", PickCsvView.as_view({"get": "export"}), name="image-picks-csv"),
    path("api/v1/images/<int:pk>/picks/fit", PickViewSet.as_view({"post": "fit"}), name="image-picks-fit"),
    path(
        "api/v1/images/<int:pk>/picks/<int:pick_id>",
        PickViewSet.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"}),
        name="image-pick-detail",
    ),
    path("api/v1/wells/<int:pk>/survey", SurveyView.as_view(), name="well-survey"),
    path("api/v1/", include(router.urls)),
    path("api/v1/", include(serving.urls)),
    path("api/schema", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    # The classic depth-frame API (tiles/rest/classic.py).
    path("upload-csv/", ClassicUploadView.as_view(), name="classic-upload"),
    path("get-images/<str:depth_min>/<str:depth_max>/", ClassicFramesView.as_view(), name="classic-frames"),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
]
