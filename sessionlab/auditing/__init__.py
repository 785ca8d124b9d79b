"""A session security audit for any web app, given its URL and how to log in and out.

Client side only: it speaks HTTP through the recording :class:`sessionlab.Client` and never
imports the lab's server, so it audits apps sessionlab did not write just as well.
"""

from .finding import REQUIREMENTS, VERDICTS, Finding
from .report import COLUMNS, audit, failed
from .target import Route, Routes

__all__ = ["COLUMNS", "REQUIREMENTS", "VERDICTS", "Finding", "Route", "Routes", "audit", "failed"]
