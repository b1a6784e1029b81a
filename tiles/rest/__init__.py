"""The tiles API: DRF viewsets, the classic API, request parameters and colormaps."""
