"""Template tags of the tiles app."""
