"""The decision-log report: `render` (record -> HTML, no pytest), `plots`, and `hooks` (the
pytest-html hook class the plugin registers for a recorded run)."""
