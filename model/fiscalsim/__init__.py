"""fiscalsim: the fiscal cost of local enterprise-incentive policies, by paying budget."""

__version__ = "0.1.0"
