"""Random damage to valid policy and scenario files never ends in a traceback (hypothesis).

Each example deletes, renames, retypes or duplicates one key or value of a shipped file and runs
`fiscalsim validate` on it in-process: the result must be "ok" (exit 0) or exactly one line
`fiscalsim: error: ...` (exit 2). Any other exception fails the test with the file that caused it.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from fiscalsim import cli
from fiscalsim.paths import DATA_DIR, POLICIES_DIR, SCENARIOS_DIR

Path_ = tuple[Any, ...]

VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["", "x", "二〇二二", "2022", "01", "-1", "0-4", "xunwu", "赣州市"]),
    st.lists(st.integers(min_value=-5, max_value=5), max_size=3),
    st.dictionaries(st.sampled_from(["a", "kind", "city"]), st.integers(0, 3), max_size=2),
)


def _absolute(text: str) -> str:
    """A scenario's relative paths made absolute, so the copy in a temporary folder still runs."""
    text = text.replace("policies: [policies]", f"policies: [{POLICIES_DIR}]")
    text = text.replace("../data/", f"{DATA_DIR}/")
    return text.replace("events/", f"{SCENARIOS_DIR}/events/")


POLICY = yaml.safe_load((POLICIES_DIR / "ganzhou.yaml").read_text(encoding="utf-8"))
SCENARIO = yaml.safe_load(_absolute((SCENARIOS_DIR / "baseline.yaml").read_text(encoding="utf-8")))


def node_paths(node: Any, prefix: Path_ = ()) -> list[Path_]:
    """Every key or item position in a nested document."""
    found: list[Path_] = []
    if isinstance(node, dict):
        for key, value in node.items():
            found.append((*prefix, key))
            found.extend(node_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.append((*prefix, index))
            found.extend(node_paths(value, (*prefix, index)))
    return found


def mutate(document: Any, path: Path_, how: str, value: Any) -> Any:
    """A copy of `document` with the node at `path` deleted, renamed, retyped or duplicated."""
    copy = yaml.safe_load(yaml.safe_dump(document, allow_unicode=True))
    parent = copy
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if how == "delete":
        del parent[last]
    elif how == "retype":
        parent[last] = value
    elif how == "rename" and isinstance(parent, dict):
        parent[f"{last}x"] = parent.pop(last)
    elif how == "duplicate" and isinstance(parent, list):
        parent.insert(int(last), parent[int(last)])
    else:
        parent[last] = [parent[last]]
    return copy


def validate_in_process(
    text: str, name: str, beside: tuple[str, str] | None = None
) -> tuple[int, str]:
    """`fiscalsim validate` on `text` saved as `name` (or on the scenario `beside` holds, its
    data file replaced by that one): exit code and stderr."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_text(text, encoding="utf-8")
        if beside is not None:
            scenario, replaced = beside
            path = Path(folder) / "scenario.yaml"
            path.write_text(scenario.replace(replaced, str(Path(folder) / name)), encoding="utf-8")
        err = io.StringIO()
        code = 0
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            try:
                cli.main(["validate", str(path)])
            except SystemExit as exit_:
                code = int(exit_.code or 0)
    return code, err.getvalue()


def check(
    document: Any, data: st.DataObject, name: str, beside: tuple[str, str] | None = None
) -> None:
    """Damage `document`, saved as `name`, and validate it; with `beside` (a scenario's text
    and the path in it to replace), the damaged file is a data file and the scenario is validated
    with that path pointing at it."""
    paths = node_paths(document)
    path = data.draw(st.sampled_from(paths), label="path")
    how = data.draw(st.sampled_from(["delete", "retype", "rename", "duplicate", "wrap"]))
    value = data.draw(VALUES, label="value") if how == "retype" else None
    text = yaml.safe_dump(mutate(document, path, how, value), allow_unicode=True, sort_keys=False)
    if data.draw(st.booleans(), label="duplicate a line"):
        lines = text.splitlines(keepends=True)
        at = data.draw(st.integers(0, len(lines) - 1), label="line")
        text = "".join(lines[: at + 1] + [lines[at]] + lines[at + 1 :])
    code, err = validate_in_process(text, name, beside)
    lines = err.strip().splitlines()
    if code == 0:
        return
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("fiscalsim: error: "), err


# No shrinking: a failing example is reported as drawn (shrinking a scenario takes minutes).
PHASES = [Phase.explicit, Phase.reuse, Phase.generate]


@settings(
    max_examples=80, deadline=None, phases=PHASES, suppress_health_check=[HealthCheck.too_slow]
)
@given(st.data())
def test_damaged_policy_file_is_ok_or_one_line(data: st.DataObject) -> None:
    check(POLICY, data, "ganzhou.yaml")


@settings(
    max_examples=20, deadline=None, phases=PHASES, suppress_health_check=[HealthCheck.too_slow]
)
@given(st.data())
def test_damaged_scenario_is_ok_or_one_line(data: st.DataObject) -> None:
    check(SCENARIO, data, "baseline.yaml")


# The calibration files a scenario reads as it is prepared, damaged the same way: never a
# traceback. Damage that validates passes here; what must not validate (a misspelt list or place
# in large_firms.yaml or calibration_checks.yaml, once read as none) is in test_hardening.py.
SCENARIO_TEXT = _absolute((SCENARIOS_DIR / "baseline.yaml").read_text(encoding="utf-8"))
DATA_FILES = [
    DATA_DIR / "calibration" / name
    for name in (
        "firm_counts.yaml",
        "county_weights.yaml",
        "large_firms.yaml",
        "calibration_checks.yaml",
    )
] + [SCENARIOS_DIR / "events" / "ganzhou.yaml"]


@pytest.mark.parametrize("data_file", DATA_FILES, ids=lambda p: p.name)
def test_damaged_calibration_file_is_ok_or_one_line(data_file: Path) -> None:
    assert str(data_file) in SCENARIO_TEXT, data_file
    document = yaml.safe_load(data_file.read_text(encoding="utf-8"))

    @settings(max_examples=8, deadline=None, phases=PHASES, suppress_health_check=list(HealthCheck))
    @given(st.data())
    def damaged(data: st.DataObject) -> None:
        check(document, data, data_file.name, (SCENARIO_TEXT, str(data_file)))

    damaged()
