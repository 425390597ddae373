"""Render: the annotated output frame (face labels, class-mood panel, disclosure, self-recognition marker)."""

from ferbot.render.compose import DISCLOSURE, OutputLayout, Renderer, stopped_card

__all__ = ["DISCLOSURE", "OutputLayout", "Renderer", "stopped_card"]
