"""First-pass triage of adult social care feedback: read, classify, suggest routing."""

__version__ = "0.1.0"
