"""Stand-in for the providers' data in the demo: a FOCUS sample, a cost history and its provider-shaped answers."""
