"""The evaluate function: changed daily totals, runs and budgets (or the hourly schedule) in; alerts out.

The walk goes down: ``handler`` decodes the batch, ``inputs`` reads what it needs once, the ``rules`` turn that
data into proposed alerts and resolutions, and ``apply`` writes them, each alert once.
"""
