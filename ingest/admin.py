from django.contrib import admin

from ingest.models import Image


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "name",
        "status",
        "depth_min",
        "depth_max",
        "depth_unit",
        "rows",
        "columns",
        "created",
    ]
    list_filter = ["status", "depth_unit"]
    readonly_fields = [f.name for f in Image._meta.fields]
