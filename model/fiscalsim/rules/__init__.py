"""Policy rules as data: the schema of a policy file, its loader, and the readings of ambiguous text."""
