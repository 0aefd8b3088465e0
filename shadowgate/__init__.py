"""shadowgate: the PatchTST activation runbook as a live pytest suite."""

__version__ = "0.1.0"
