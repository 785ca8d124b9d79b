"""A session security audit for any web app, given its URL and how to log in and out.

Client side only: it speaks HTTP through the recording :class:`sessionlab.Client` and never
imports the lab's server, so it audits apps sessionlab did not write just as well.
"""

from ..routes import Route, Routes
from .finding import REQUIREMENTS, VERDICTS, Finding
from .output import to_json, to_junit, to_sarif, to_table
from .report import COLUMNS, advised, audit, failed

__all__ = [
    "COLUMNS",
    "REQUIREMENTS",
    "VERDICTS",
    "Finding",
    "Route",
    "Routes",
    "advised",
    "audit",
    "failed",
    "to_json",
    "to_junit",
    "to_sarif",
    "to_table",
]
