"""Pagination of API lists: ``limit``/``offset`` with bounds, a bad value is a 400."""

from __future__ import annotations

from django.conf import settings
from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination

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
    def max_limit(self) -> int:
        return settings.API_MAX_LIMIT

    def _bounded(self, request, name: str, low: int, high: int, default: int) -> int:
        if name not in request.query_params:
            return default
        field = serializers.IntegerField(min_value=low, max_value=high)
        try:
            return field.run_validation(request.query_params[name])
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({name: exc.detail}) from None

    def get_limit(self, request) -> int:
        return self._bounded(request, self.limit_query_param, 1, self.max_limit, self.default_limit)

    def get_offset(self, request) -> int:
        return self._bounded(request, self.offset_query_param, 0, MAX_OFFSET, 0)

    def get_schema_operation_parameters(self, view):
        limit, offset = super().get_schema_operation_parameters(view)
        limit["schema"].update(minimum=1, maximum=self.max_limit, default=self.default_limit)
        limit["description"] = f"Number of results to return per page (1..{self.max_limit})."
        offset["schema"].update(minimum=0, maximum=MAX_OFFSET, default=0)
        return [limit, offset]
