"""Replay: a run captured into a bundle beside its record, and judged again from it (DESIGN
"Replay"). bundle reads and writes the file; capture records a live run at the Redis client and
the host; serve answers from a bundle in their place; plugin wires both into a pytest run."""
