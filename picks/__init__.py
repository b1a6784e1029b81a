"""Picks: planes picked on images as sinusoids, dips, and deviation surveys."""
