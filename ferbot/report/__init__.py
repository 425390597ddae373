"""Report: turn a session's CSV log into the teacher's after-class HTML report."""

from ferbot.report.html import report_paths, write_report
from ferbot.report.summary import SessionSummary, summarize

__all__ = ["SessionSummary", "report_paths", "summarize", "write_report"]
