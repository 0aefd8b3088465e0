"""Backtest: the monitoring windows' rules slid over a long recorded history (bundles), to see
when each stop condition and red flag would have fired, and which archived decisions a
threshold change would flip (ARCHITECTURE.md "Replay").

    history.py   bundle(s) -> what the rules count of each intent, and the outcomes
    sweep.py     the sliding evaluation: each entry folded in and out of running sums once
    judge.py     a position's figures -> each check's status, with the rules' comparisons
    page.py      the timeline as CSV and as an HTML page with SVG plots
    compare.py   archived records re-judged with other thresholds
    command.py   `shadowgate backtest`
"""
