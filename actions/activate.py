"""Activate PatchTST (runbook s.4): refuses unless `pytest -m preactivation` just passed.
`python actions/activate.py --approved-by="alice (risk)" --weight=10 ...`; --help lists all."""

import sys

from shadowgate.actions.activate import main

if __name__ == "__main__":
    sys.exit(main())
