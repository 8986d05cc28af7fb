"""`python -m fiscalsim` runs the command line."""

from fiscalsim.cli import main

main()
