"""The pure core of serving: pyramid reads, styles and rendering, with no Django."""
