"""The Monte Carlo simulation: populations grown year by year, awards by the one engine."""
