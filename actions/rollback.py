"""Roll PatchTST back to shadow (runbook s.6, < 60 s): refuses unless rollback is armed;
`--break-glass --reason TEXT` for a real emergency. --help lists all options."""

import sys

from shadowgate.actions.rollback import main

if __name__ == "__main__":
    sys.exit(main())
