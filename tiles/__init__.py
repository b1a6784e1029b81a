"""Serving ready images: tiles, regions, thumbnails and frames.

request -> params -> image source -> render -> cache -> response.
"""
