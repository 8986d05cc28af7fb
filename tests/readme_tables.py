"""Keep the generated tables in README.md in step with the policy files.

`python tests/readme_tables.py --write` rewrites them; the test suite fails when they differ.
"""

from __future__ import annotations

import re
import sys

from fiscalsim.cli import assumptions_markdown
from fiscalsim.paths import REPO_DIR

README = REPO_DIR / "README.md"
START, END = "<!-- assumptions:start -->", "<!-- assumptions:end -->"


def expected_readme() -> str:
    text = README.read_text(encoding="utf-8")
    block = f"{START}\n{assumptions_markdown()}{END}"
    return re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _m: block, text, flags=re.S)


if __name__ == "__main__":
    if "--write" in sys.argv:
        README.write_text(expected_readme(), encoding="utf-8")
    else:
        print(expected_readme())
