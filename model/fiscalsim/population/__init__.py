"""Synthetic enterprise populations at the start year, fitted to calibration targets."""
