"""Pagination of API lists: ``limit``/``offset`` with bounds, a bad value is a 400."""

from __future__ import annotations

from django.conf import settings
from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request

#: Largest ``offset`` accepted: far beyond any list here, well inside every database's integer.
MAX_OFFSET = 2**31 - 1


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    """DRF's limit/offset pagination: ``limit`` in ``1..API_MAX_LIMIT``, ``offset`` in ``0..MAX_OFFSET``.

    Stock DRF falls back to the default for a malformed value and passes any
    size on to the database (``?limit=4333628726088377435160576`` was a 500 on
    SQLite). Here a value that is not an integer in range is a 400
    ``invalid_parameter`` naming the parameter and its bounds. Without
    ``limit``: ``PAGE_SIZE`` items.
    """

    @property
    def max_limit(self) -> int:  # type: ignore[override]  # read per request: tests override the setting
        return settings.API_MAX_LIMIT

    def _bounded(self, request: Request, name: str, low: int, high: int) -> int | None:
        if name not in request.query_params:
            return None
        field = serializers.IntegerField(min_value=low, max_value=high)
        try:
            return field.run_validation(request.query_params[name])
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({name: exc.detail}) from None

    def get_limit(self, request: Request) -> int | None:
        limit = self._bounded(request, self.limit_query_param, 1, self.max_limit)
        return self.default_limit if limit is None else limit

    def get_offset(self, request: Request) -> int:
        offset = self._bounded(request, self.offset_query_param, 0, MAX_OFFSET)
        return 0 if offset is None else offset

    def get_schema_operation_parameters(self, view):
        limit, offset = super().get_schema_operation_parameters(view)
        limit["schema"].update(minimum=1, maximum=self.max_limit, default=self.default_limit)
        limit["description"] = f"Number of results to return per page (1..{self.max_limit})."
        offset["schema"].update(minimum=0, maximum=MAX_OFFSET, default=0)
        return [limit, offset]
