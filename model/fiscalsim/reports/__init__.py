"""Charts and reports for Chinese readers first: a CJK font, amounts in 万元, sources listed."""
