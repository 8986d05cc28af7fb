"""The administrative budget process: from the awards firms qualify for to cash paid.

A discrete-event model (SimPy) of applications, reviews, quotas, appropriations and arrears,
driven by the award ledger after simulation (stage: budget; never imports comparison/reports).
"""
