"""Report: turn a session's CSV log into the teacher's after-class HTML report."""

from ferbot.report.html import write_report
from ferbot.report.summary import SessionSummary, summarize

__all__ = ["SessionSummary", "summarize", "write_report"]
