"""Render: the annotated output frame (face labels, class-mood panel, disclosure, self-recognition marker)."""

from ferbot.render.compose import BAR_BACKGROUND, DISCLOSURE, OutputLayout, Renderer, draw_disclosure

__all__ = ["BAR_BACKGROUND", "DISCLOSURE", "OutputLayout", "Renderer", "draw_disclosure"]
