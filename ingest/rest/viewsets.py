"""``/api/v1/images``: upload, list, detail, change and delete (the ingest side of the API).

:class:`ImageViewSet` owns the routes of the image as a job: ``POST`` (upload,
202 with the job), ``GET`` (list and detail), ``PATCH`` (rename, visibility) and
``DELETE``. Serving a ready image (tiles, data, info) is
:class:`tiles.rest.viewsets.ImageDataViewSet`, registered under the same
``images`` prefix; both derive from :class:`ImageViewSetBase` (who may see an
image, who may change it, and the private-response headers).
"""

from __future__ import annotations

from typing import TypeVar

from django.http import HttpResponse
from django.utils.cache import patch_vary_headers
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.filters import BaseFilterBackend
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.viewsets import GenericViewSet

from ingest.models import Image
from ingest.rest.serializers import (
    OWNER_USERNAME,
    ImageListParams,
    ImageSerializer,
    ImageUpdateSerializer,
    ImageUploadSerializer,
    WellListParams,
)
from ingest.rest.uploads import (
    failed_upload_body,
    image_create_from_upload,
    upload_owner,
    upload_quota_check,
    upload_size_check,
)
from ingest.selectors import image_list, list_filter, owner_username, visible_count
from ingest.services import image_delete
from project.pagination import BoundedLimitOffsetPagination
from project.permissions import ImageOwnerOrStaff, PublicReadTokenWrite

#: The error shape (``project.schema`` adds it to the components).
ERROR = {"$ref": "#/components/schemas/Error"}
FORBIDDEN = OpenApiResponse(ERROR, description="permission_denied: only the owner and staff may do this")


#: A private image's responses: only the requester's browser keeps them, and asks
#: again each time (a 304 for a matching ETag), so a revoked reader stops reading.
PRIVATE = "private, no-cache"

#: Any response type: :func:`private_response` gives back the response it marks.
_Response = TypeVar("_Response", bound=HttpResponse)


def private_response(response: _Response) -> _Response:
    """Mark a response that depends on who asks: ``Cache-Control: private``, ``Vary: Authorization``.

    For every response about a private image (and every list a signed-in user
    reads): shared caches must not keep it, nor give it to another requester.
    """
    response["Cache-Control"] = PRIVATE
    patch_vary_headers(response, ("Authorization",))
    return response


class ListFilters(BaseFilterBackend):
    """The filters of the image and well lists: ``owner``, ``status``, ``name`` (and ``well`` for images).

    Validated by :class:`~ingest.rest.serializers.ImageListParams` (images) or
    :class:`~ingest.rest.serializers.WellListParams` (wells): a bad value is a 400
    ``invalid_parameter`` naming it. Applied on the ``list`` action only (a
    detail is never filtered), through :func:`ingest.selectors.list_filter`,
    and documented as query parameters of the list in the OpenAPI schema.
    """

    @staticmethod
    def params(view) -> type[serializers.Serializer]:
        """The serializer of the view's filters: by the model it lists."""
        return ImageListParams if view.serializer_class.Meta.model is Image else WellListParams

    def filter_queryset(self, request, queryset, view):
        if getattr(view, "action", None) != "list":
            return queryset
        query = self.params(view)(data=request.query_params)
        query.is_valid(raise_exception=True)
        return list_filter(queryset, **query.validated_data)

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = []
        for name, field in self.params(view)().fields.items():
            schema: dict = {"type": "string"}
            if isinstance(field, serializers.ChoiceField):
                schema["enum"] = list(field.choices)
            elif isinstance(field, serializers.IntegerField):
                schema = {"type": "integer", "minimum": field.min_value, "maximum": field.max_value}
            elif isinstance(field, serializers.CharField):
                schema.update(minLength=field.min_length or 1, maxLength=field.max_length)
            parameters.append(
                {
                    "name": name,
                    "in": "query",
                    "required": False,
                    "description": str(field.help_text),
                    "schema": schema,
                }
            )
        return parameters


class VisibleCountPagination(BoundedLimitOffsetPagination):
    """The project's pagination, counting what the requester sees by :func:`ingest.selectors.visible_count`.

    The same ``count`` as ``queryset.count()``, sooner for a signed-in user
    (their own private rows and the public ones are counted apart, each from its index).
    """

    def get_count(self, queryset) -> int:
        return visible_count(queryset, getattr(self.request, "user", None))


class ImageViewSetBase(GenericViewSet):
    """What every ``/api/v1/images`` route shares: who sees an image, who changes it, private headers.

    A request sees public images, its user's own and, for staff, all
    (:func:`ingest.selectors.image_list`): any other id is a 404 on every route.
    The owner and staff may change (PATCH) and delete an image; others who can
    see it get a 403. Responses about a private image say ``Cache-Control:
    private`` and ``Vary: Authorization`` (:func:`private_response`).
    """

    serializer_class = ImageSerializer
    permission_classes = [PublicReadTokenWrite, ImageOwnerOrStaff]
    filter_backends = [ListFilters]
    lookup_value_regex = r"\d+"
    #: Set when the response is about a private image or depends on the user.
    _private = False
    #: JSON answers whose content depends on the user (their private images, their webhooks).
    PER_USER_ACTIONS: tuple[str, ...] = ()

    def get_queryset(self):
        user = getattr(self.request, "user", None)
        return image_list(user=user).select_related("owner")

    def get_object(self) -> Image:
        """The image of the URL, if the requester may see it (else 404); writes: owner or staff (else 403)."""
        image = super().get_object()
        self._private = self._private or not image.public
        return image

    def finalize_response(self, request, response, *args, **kwargs):
        """Private headers for a private image, and for a signed-in user's lists and details."""
        response = super().finalize_response(request, response, *args, **kwargs)
        user = getattr(request, "_user", None)  # never authenticate again here
        per_user = getattr(self, "action", None) in self.PER_USER_ACTIONS
        if self._private or (per_user and user is not None and user.is_authenticated):
            return private_response(response)
        if per_user:
            patch_vary_headers(response, ("Authorization",))
        return response


class ImageViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ImageViewSetBase):
    """Depth-indexed images as jobs: upload (202, ingested as a job), list, detail, change, delete."""

    pagination_class = VisibleCountPagination

    PER_USER_ACTIONS = ("list", "retrieve", "create", "partial_update")

    def get_parsers(self):
        request = getattr(self, "request", None)  # None while drf-spectacular builds the schema
        if getattr(self, "action", None) == "create" or (request is not None and request.method == "POST"):
            return [MultiPartParser(), FormParser()]
        return super().get_parsers()

    def get_queryset(self):
        """The images the requester may see, each with its owner's username (no user object per row)."""
        user = getattr(self.request, "user", None)
        return image_list(user=user).annotate(**{OWNER_USERNAME: owner_username()})

    # -- upload -----------------------------------------------------------------

    @extend_schema(
        request=ImageUploadSerializer,
        responses={
            202: ImageSerializer,
            200: ImageSerializer,
            413: OpenApiResponse(
                ERROR,
                description="upload_too_large (DJANGO_MAX_UPLOAD_MB) or quota_exceeded (DJANGO_QUOTA_BYTES)",
            ),
            429: OpenApiResponse(
                ERROR, description="too_many_jobs: DJANGO_MAX_CONCURRENT_JOBS pending or running"
            ),
        },
    )
    def create(self, request: Request) -> Response:
        """Upload a CSV; answers 202 with the image, whose ``status`` follows the job.

        The same bytes uploaded again return the existing image (200) unless
        ``force=true``. With in-process tasks (the embedded default) the job has
        already run: a CSV that failed answers 422 with the line and column.
        """
        upload_size_check(int(request.META.get("CONTENT_LENGTH") or 0))  # before the body is read
        upload_quota_check(owner=upload_owner(request))
        upload = ImageUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        image, created = image_create_from_upload(data=upload.validated_data, owner=upload_owner(request))
        body = ImageSerializer(image, context={"request": request}).data
        headers = {"Location": body["url"]}
        if image.status == Image.Status.FAILED:
            return Response({**failed_upload_body(image), "image": body}, status=422, headers=headers)
        return Response(
            body,
            status=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK,
            headers=headers,
        )

    @extend_schema(request=ImageUpdateSerializer, responses={200: ImageSerializer, 403: FORBIDDEN})
    def partial_update(self, request: Request, pk=None) -> Response:
        """Rename an image or change who may read it: ``name`` and ``public`` only (owner or staff).

        Any other field is a 400 naming it.
        """
        image = self.get_object()
        change = ImageUpdateSerializer(image, data=request.data, partial=True)
        change.is_valid(raise_exception=True)
        change.save()
        return Response(ImageSerializer(image, context=self.get_serializer_context()).data)

    @extend_schema(
        request=None,
        responses={204: OpenApiResponse(description="deleted, with everything made from it"), 403: FORBIDDEN},
    )
    def destroy(self, request: Request, pk=None) -> Response:
        """Delete an image (owner or staff): its row, pyramid, CSV and cached outputs. 204."""
        image_delete(image=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
