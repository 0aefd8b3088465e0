"""Everything that exists only to test and demo shadowgate: the systemd box, the stand-in
engine and its scenarios, a throwaway Redis, the suite runner, the demo and its drill. Nothing
on the operator's path (plugin, checks, evidence, actions, cli) imports this package."""
