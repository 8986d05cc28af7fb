"""Yearly firm dynamics: exit, growth, entry, and the events non-revenue clauses pay for."""
