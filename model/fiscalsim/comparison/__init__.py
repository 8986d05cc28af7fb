"""Policy alternatives on the same firms: compare, sweep, target and the band of readings."""
