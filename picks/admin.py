"""Django admin for picks and surveys: read them, find them by image, well and kind."""

from __future__ import annotations

from django.contrib import admin

from picks.models import Pick, Survey, SurveyStation


@admin.register(Pick)
class PickAdmin(admin.ModelAdmin):
    """Picks, by image and depth."""

    list_display = ("id", "image", "depth", "dip", "dip_azimuth", "amplitude", "kind", "confidence", "author")
    list_filter = ("kind", "confidence")
    search_fields = ("comment", "image__name", "author__username")
    raw_id_fields = ("image", "author")
    readonly_fields = ("created", "updated")


class SurveyStationInline(admin.TabularInline):
    """A survey's stations, in measured-depth order."""

    model = SurveyStation
    extra = 0


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    """Wells' deviation surveys."""

    list_display = ("id", "well", "author", "created")
    raw_id_fields = ("well", "author")
    inlines = [SurveyStationInline]
