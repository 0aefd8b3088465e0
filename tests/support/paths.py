"""Where the repository is, wherever a test module sits in tests/."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
