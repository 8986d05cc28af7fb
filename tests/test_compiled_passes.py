"""The compiled one-pass helpers give, to the last bit, what the NumPy code they replaced gave.

Each case below states the NumPy formula the helper replaced and checks the helper against it on
random data with the awkward cases in it: repeated firms, unknown (NaN) values, values exactly on a
threshold, empty inputs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from fiscalsim.dynamics.events import CityBlock, rows_where
from fiscalsim.dynamics.sampling import _group_tables, accept
from fiscalsim.engine.conditions import rows_in_places
from fiscalsim.engine.factview import FactTable, LazyColumns, rows_at_least
from fiscalsim.engine.state import (
    EngineState,
    RuleHistory,
    beyond_reached,
    raise_reached,
    tiers_of,
    unseen_rows,
)
from fiscalsim.population.calibration_report import _group_sums
from fiscalsim.simulation.collect import add_crossings, add_population
from fiscalsim.simulation.firms import gather
from fiscalsim.simulation.streams import keyed_uniforms, named_uniforms, stream_state

THRESHOLDS = np.array([1000.0, 5000.0, 10000.0, 50000.0])


def _values(rng: np.random.Generator, n: int) -> np.ndarray:
    values = np.exp(rng.normal(7.5, 1.5, n))
    values[rng.random(n) < 0.05] = np.nan
    on = rng.random(n) < 0.05
    values[on] = rng.choice(THRESHOLDS, int(on.sum()))  # exactly on a threshold
    return values


def _levels(values: np.ndarray) -> np.ndarray:
    found = np.searchsorted(THRESHOLDS, values, side="right")
    return np.where(np.isnan(values), 0, found)


@pytest.mark.parametrize("seed", range(5))
def test_ladder_passes_equal_searchsorted(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 2000
    firm = rng.permutation(n * 2)[:n].astype(np.int64)  # each row a different firm
    values = _values(rng, n)
    reached = rng.integers(0, 5, n * 2).astype(np.uint8)
    rows = np.sort(rng.choice(n, n // 2, replace=False)).astype(np.int64)

    expected_beyond = _levels(values[rows]) > reached[firm[rows]]
    got = beyond_reached(reached, firm, values[rows], rows, THRESHOLDS)
    assert np.array_equal(got, expected_beyond)

    expected = reached.copy()
    at = firm[rows]
    expected[at] = np.maximum(expected[at], _levels(values[rows]).astype(np.uint8))
    raise_reached(reached, firm, values[rows], rows, THRESHOLDS)
    assert np.array_equal(reached, expected)


def _old_add(
    history: RuleHistory, firms: np.ndarray, amounts: np.ndarray, year: int
) -> tuple[np.ndarray, ...]:
    """RuleHistory.add as it was: np.unique over the whole record and the new awards."""
    all_years = np.concatenate([history.first_year, np.full(firms.size, year, dtype=np.int32)])
    all_firms = np.concatenate([history.firms, firms])
    all_counts = np.concatenate([history.counts, np.ones(firms.size, dtype=np.int32)])
    all_paid = np.concatenate([history.paid_wan, amounts])
    unique, inverse = np.unique(all_firms, return_inverse=True)
    first = np.full(unique.size, np.iinfo(np.int32).max, dtype=np.int32)
    np.minimum.at(first, inverse, all_years)
    counts = np.bincount(inverse, weights=all_counts, minlength=unique.size).astype(np.int32)
    paid = np.bincount(inverse, weights=all_paid, minlength=unique.size)
    return unique, counts, paid, first


@pytest.mark.parametrize("seed", range(5))
def test_rule_history_merge_equals_the_unique_and_bincount_it_replaced(seed: int) -> None:
    rng = np.random.default_rng(seed)
    history = RuleHistory()
    for year in range(2022, 2031):
        n = int(rng.integers(0, 300))
        firms = rng.integers(0, 500, n).astype(np.int64)  # repeats within a year, too
        amounts = rng.random(n) * 100 + rng.random(n) * 1e-9
        expected = _old_add(history, firms, amounts, year)
        history.add(firms, amounts, year)
        got = (history.firms, history.counts, history.paid_wan, history.first_year)
        for a, b in zip(got, expected, strict=True):
            assert a.dtype == b.dtype
            assert np.array_equal(a, b)


@pytest.mark.parametrize("seed", range(3))
def test_crossings_equal_the_numpy_formula(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, n_rep, n_places = 5000, 4, 7
    revenue = _values(rng, n)
    before = revenue * np.exp(rng.normal(-0.3, 0.5, n))
    before[rng.random(n) < 0.05] = np.nan
    group = np.sort(rng.integers(0, n_rep, n)).astype(np.int32)
    places = np.sort(rng.choice(3 * n_places, n_places, replace=False))  # registry indices
    column = rng.integers(0, n_places, n)  # each row's place on the array's axis
    location = places[column].astype(np.int32)
    place_column = np.full(3 * n_places, -1, dtype=np.int64)
    place_column[places] = np.arange(n_places)
    slot_of = np.arange(n_rep, dtype=np.int64)

    expected = np.zeros((n_rep, 3, n_places, THRESHOLDS.size))
    rising = np.flatnonzero((revenue >= THRESHOLDS[0]) & (before < revenue))
    crossed = (before[rising, None] < THRESHOLDS) & (revenue[rising, None] >= THRESHOLDS)
    hit, tier = np.nonzero(crossed)
    year = np.ones(hit.size, dtype=np.int64)
    np.add.at(expected, (group[rising[hit]], year, column[rising[hit]], tier), 1.0)

    got = np.zeros_like(expected)
    reaching = rows_at_least(revenue, float(THRESHOLDS[0]))  # the rows the pass is given
    add_crossings(
        got, 1, slot_of, reaching, group, place_column, location, revenue, before, THRESHOLDS
    )
    assert np.array_equal(got, expected)
    assert got.sum() > 0


def test_population_sums_go_to_the_places_column() -> None:
    """collect.add_population: firms, revenue and above-scale firms per (replicate, year, place,
    class), the place being the column place_column gives a unit on the array's axis."""
    rng = np.random.default_rng(4)
    n, n_rep, n_places = 4000, 3, 5
    places = np.sort(rng.choice(40, n_places, replace=False))
    column = rng.integers(0, n_places, n)
    place_column = np.full(40, -1, dtype=np.int64)
    place_column[places] = np.arange(n_places)
    replicate = np.sort(rng.integers(0, n_rep, n)).astype(np.int32)
    klass = rng.integers(1, 6, n).astype(np.int8)
    revenue = np.exp(rng.normal(7, 1.5, n))
    got = np.zeros((n_rep, 2, n_places, 6, 3))
    location = places[column].astype(np.int32)
    add_population(
        got, 1, np.arange(n_rep), replicate, place_column, location, klass, revenue, 2000.0
    )
    expected = np.zeros_like(got)
    at = (replicate, np.ones(n, dtype=np.int64), column, klass)
    np.add.at(expected, (*at, 0), 1.0)
    np.add.at(expected, (*at, 1), revenue)
    np.add.at(expected, (*at, 2), (revenue >= 2000.0).astype(float))
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert got[:, 0].sum() == 0 and got[..., 0].sum() == n


@pytest.mark.parametrize("seed", range(3))
def test_group_sums_equal_bincounts(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, groups = 20_000, 37
    inverse = rng.integers(0, groups, n).astype(np.int64)
    revenue = np.exp(rng.normal(7.0, 1.8, n))
    above_wan, large_wan = 2000.0, 40000.0
    above = revenue >= above_wan
    weights = [
        np.ones(n),
        above.astype(np.float64),
        (revenue >= large_wan).astype(np.float64),
        revenue,
        np.where(above, revenue, 0.0),
    ]
    got = _group_sums(inverse, groups, revenue, above_wan, large_wan)
    for k, w in enumerate(weights):
        assert np.array_equal(got[:, k], np.bincount(inverse, weights=w, minlength=groups))
    largest = np.full(groups, -np.inf)
    np.maximum.at(largest, inverse, revenue)
    assert np.array_equal(got[:, 5], largest)


@pytest.mark.parametrize("weighted", [True, False])
def test_event_group_tables_equal_bincount_and_cumsum(weighted: bool) -> None:
    rng = np.random.default_rng(11)
    n, groups = 10_000, 9
    group = np.sort(rng.integers(0, groups - 1, n)).astype(np.int64)  # the last group is empty
    weights = np.exp(rng.normal(6, 2, n))
    weights[rng.random(n) < 0.1] = 0.0
    rows = np.sort(rng.choice(n, n // 3, replace=False))  # candidates: some rows of the block
    sizes, positive, running = _group_tables(
        rows, group, weights if weighted else np.zeros(0), groups
    )
    assert np.array_equal(sizes, np.bincount(group[rows], minlength=groups))
    if weighted:
        chosen = weights[rows]
        assert np.array_equal(positive, np.bincount(group[rows][chosen > 0], minlength=groups))
        assert np.array_equal(running, np.cumsum(chosen, dtype=np.float64))
    else:
        assert running.size == 0


def test_named_uniforms_equal_the_numpy_generator() -> None:
    """streams.named_uniforms (one compiled pass) against keyed_uniforms (the NumPy form), for
    counters of any shape, and the remembered stream states against fresh ones."""
    counters = np.arange(0, 3 * 2**40, 2**38 + 12345, dtype=np.int64).reshape(3, -1)
    state = stream_state(7, "ganzhou", 2024, "entry", "03")
    expected = keyed_uniforms(
        np.full(counters.shape, state, dtype=np.uint64), counters.astype(np.uint64)
    )
    got = named_uniforms(7, ("ganzhou", 2024, "entry", "03"), counters)
    assert got.shape == counters.shape
    assert np.array_equal(got, expected)
    assert stream_state(7, "ganzhou", 2024) == stream_state.__wrapped__(7, "ganzhou", 2024)


@pytest.mark.parametrize("seed", range(5))
def test_first_year_passes_equal_the_numpy_code(seed: int) -> None:
    """state.unseen_rows: flatnonzero(last_year[firm] < 0); state.tiers_of: searchsorted of the
    values with NaN set to 0, as uint8."""
    rng = np.random.default_rng(seed)
    n = 3000
    last_year = np.where(rng.random(2 * n) < 0.3, -1, 2024).astype(np.int32)
    firm = rng.choice(2 * n, n, replace=False).astype(np.int64)
    assert np.array_equal(unseen_rows(last_year, firm), np.flatnonzero(last_year[firm] < 0))
    assert unseen_rows(last_year, firm[:0]).size == 0
    marked = last_year.copy()  # with a year to mark: the same rows, and every firm marked
    assert np.array_equal(unseen_rows(marked, firm, 2031), np.flatnonzero(last_year[firm] < 0))
    assert np.all(marked[firm] == 2031)
    untouched = np.setdiff1d(np.arange(2 * n), firm)
    assert np.array_equal(marked[untouched], last_year[untouched])
    values = _values(rng, n)
    at_least = rows_at_least(values, 1000.0)  # factview.rows_at_least, NaN never at least
    assert np.array_equal(at_least, np.flatnonzero(values >= 1000.0))
    expected = np.searchsorted(THRESHOLDS, np.nan_to_num(values, nan=0.0), side="right")
    got = tiers_of(values, THRESHOLDS)
    assert got.dtype == np.uint8
    assert np.array_equal(got, expected.astype(np.uint8))
    from_zero = np.r_[0.0, THRESHOLDS]  # a rung at 0: NaN counts as 0, so it reaches that rung
    expected = np.searchsorted(from_zero, np.nan_to_num(values, nan=0.0), side="right")
    assert np.array_equal(tiers_of(values, from_zero), expected.astype(np.uint8))


@pytest.mark.parametrize("seed", range(5))
def test_row_gather_equals_fancy_indexing(seed: int) -> None:
    """firms.gather: values[index], dtype kept (floats moved as their bit patterns)."""
    rng = np.random.default_rng(seed)
    n = 2300
    index = rng.integers(0, n, 2000)
    for values in (rng.normal(size=n), rng.integers(0, 3, n).astype(np.int16), np.arange(n)):
        taken = gather(values, index)
        assert taken.dtype == values.dtype
        assert np.array_equal(taken, values[index])


def _table_of(
    dense: LazyColumns, n: int = 5, sparse: dict[str, tuple[np.ndarray, np.ndarray]] | None = None
) -> FactTable:
    """A year's table of n firms in one place over these columns."""
    return FactTable(
        year=2024,
        firm=np.arange(n),
        location=np.zeros(n, dtype=np.int32),
        industry_class=np.ones(n, dtype=np.int8),
        group=np.zeros(n, dtype=np.int32),
        dense=dense,
        sparse=sparse or {},
    )


def test_lazy_columns_make_each_column_once_and_only_when_read() -> None:
    made: list[str] = []

    def maker(name: str, size: int) -> Callable[[], np.ndarray]:
        def make() -> np.ndarray:
            made.append(name)
            return np.arange(size, dtype=np.float64)

        return make

    columns = LazyColumns(3, {"a": maker("a", 3), "b": maker("b", 3), "bad": maker("bad", 2)})
    dense = columns.only(("a", "bad"))
    assert "b" in columns and "b" not in dense and made == []
    assert np.array_equal(dense["a"], [0.0, 1.0, 2.0])
    assert columns["a"] is dense["a"] and made == ["a"]  # made once, shared
    with pytest.raises(ValueError, match="column bad has shape"):
        dense["bad"]
    with pytest.raises(ValueError, match="dense columns have 3 rows, expected 4"):
        _table_of(columns, 4)


def test_lazy_columns_read_at_rows_without_making_the_column() -> None:
    """A column with a maker at rows, first read at some rows through FactTable.raw, is computed
    there only; the second read makes it whole, and reads come from it; `only` keeps the makers
    at rows and shares what was read."""
    made: list[str] = []
    base = np.array([3.0, 1.0, 4.0, 1.0, 5.0])

    def whole() -> np.ndarray:
        made.append("x")
        return base * 2

    columns = LazyColumns(5, {"x": whole}, at_rows={"x": lambda at: base[at] * 2})
    table = _table_of(columns.only(("x",)))
    rows = np.array([4, 0])
    assert np.array_equal(table.raw("x", rows), [10.0, 6.0]) and made == []
    assert np.array_equal(table.raw("x", rows[:1]), [10.0]) and made == ["x"]
    columns._at_rows["x"] = lambda at: np.full(at.size, np.nan)  # no longer consulted
    assert np.array_equal(columns.take("x", rows), [10.0, 6.0])
    assert np.array_equal(table.column("x"), base * 2) and made == ["x"]
    found = table.rows_at_least("x", 6.0)  # kept with the columns: another table of them finds it
    other = _table_of(columns.only(("x",)), sparse={"x_event": (np.array([1]), np.array([7.0]))})
    assert np.array_equal(found, [0, 2, 4]) and other.rows_at_least("x", 6.0) is found
    assert np.array_equal(other.rows_at_least("x_event", 6.0), [1])  # a sparse one per table


@pytest.mark.parametrize("seed", range(3))
def test_rows_in_places_equal_the_numpy_code(seed: int) -> None:
    """conditions.rows_in_places: the rows of the places and classes a rule covers."""
    rng = np.random.default_rng(seed)
    location = rng.integers(0, 30, 3000).astype(np.int32)
    industry_class = rng.integers(1, 6, 3000).astype(np.int8)
    location_ok, class_ok = rng.random(30) < 0.5, rng.random(8) < 0.6
    for rows in (np.sort(rng.choice(3000, 800, replace=False)), np.arange(3000), np.zeros(0)):
        rows = rows.astype(np.int64)
        expected = rows[location_ok[location[rows]] & class_ok[industry_class[rows]]]
        got = rows_in_places(rows, location, industry_class, location_ok, class_ok)
        assert np.array_equal(got, expected)


@pytest.mark.parametrize("ascending", [True, False])
def test_rows_of_picked_firms_equal_isin(ascending: bool) -> None:
    """CityBlock.rows_of: the rows whose key is among the picked firms, found by a search of
    the block's keys when they ascend, as np.isin finds them (keys absent from the block and
    keys beyond its last key included)."""
    rng = np.random.default_rng(3)
    key = np.unique(rng.integers(0, 10**6, 4000))
    if not ascending:
        key = rng.permutation(key)
    block = CityBlock({}, key, np.zeros(key.size, dtype=np.int32), np.zeros(1, dtype=np.int32))
    assert block.keys_ascending is ascending
    for picked in (
        np.unique(np.r_[rng.choice(key, 50), rng.integers(0, 2 * 10**6, 50), 2 * 10**6]),
        np.zeros(0, dtype=np.int64),
    ):
        assert np.array_equal(block.rows_of(picked), np.isin(key, picked))


@pytest.mark.parametrize("seed", range(5))
def test_event_passes_equal_the_numpy_code(seed: int) -> None:
    """events.rows_where: flatnonzero(ok[code]); sampling.accept: the first pick of each value
    not accepted before (np.unique's first indices and a search) and np.union1d."""
    rng = np.random.default_rng(seed)
    ok = rng.random(40) < 0.4
    code = rng.integers(0, 40, 5000)
    assert np.array_equal(rows_where(ok, code), np.flatnonzero(ok[code]))
    accepted = np.unique(rng.integers(0, 60, 25))
    for pick in (rng.integers(0, 60, 30), rng.integers(0, 60, 1), np.zeros(0, dtype=np.int64)):
        fresh = np.zeros(pick.size, dtype=bool)
        fresh[np.unique(pick, return_index=True)[1]] = True
        if accepted.size:
            at = np.minimum(np.searchsorted(accepted, pick), accepted.size - 1)
            fresh &= accepted[at] != pick
        got_fresh, got_accepted = accept(pick.astype(np.int64), accepted)
        assert np.array_equal(got_fresh, fresh)
        assert np.array_equal(got_accepted, np.union1d(accepted, pick[fresh]))
    assert np.array_equal(accept(np.array([3, 3, 1]), np.zeros(0, dtype=np.int64))[0], [1, 0, 1])


@pytest.mark.parametrize("spread", [1, 50, 10**6, 10**12])
def test_groups_equal_numpy_unique(spread: int) -> None:
    """calibration_report._groups: what np.unique gives (codes, first rows, each row's group),
    by the table over the codes' range and, for a wide range, by np.unique itself."""
    from fiscalsim.population.calibration_report import _groups

    rng = np.random.default_rng(spread)
    code = 7 * spread + rng.integers(0, spread, 5000).astype(np.int64)
    expected = np.unique(code, return_index=True, return_inverse=True)
    for got, want in zip(_groups(code), expected, strict=True):
        assert np.array_equal(got, want.reshape(-1))
    assert all(part.size == 0 for part in _groups(code[:0]))


@pytest.mark.parametrize("scenario", ["baseline.yaml", "benchmark.yaml"])
def test_the_rows_the_yearly_pass_finds_change_no_award(
    scenario: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The yearly pass gives the engine the rows at or above the lowest rung of a revenue
    ladder and the rows of last year's entrants (world.World._found_in), so the engine does
    not look for them (nor for the largest firm index but among the new firms), and counts the
    year's first crossings as it writes the survivors. Each
    year the rows given are those the engine would find; the ledger, the crossings and the
    population are those booked and counted from the year's facts without the pass's help;
    and with the rows given the engine does not look."""
    from pathlib import Path

    from fiscalsim.dynamics.tallies import Crossings
    from fiscalsim.engine import evaluate
    from fiscalsim.simulation import world
    from fiscalsim.simulation.collect import Collector
    from fiscalsim.simulation.montecarlo import prepare, run_batch

    path = Path(__file__).resolve().parent.parent / "scenarios" / scenario
    model = prepare(path, replicates=3).model
    looked: list[int] = []
    checked: list[int] = []
    NONE = np.zeros(0)

    def counted(*args: object) -> np.ndarray:
        looked.append(1)
        return unseen_rows(*args)  # type: ignore[arg-type]

    def checking(book: object, table: FactTable, state: EngineState, *rest: object) -> object:
        if table.new_rows is not None:  # a firm beyond the state's memory is unseen too
            fits = table.firm < state.last_year.size
            seen = np.zeros(table.n, dtype=bool)
            seen[fits] = state.last_year[table.firm[fits]] >= 0
            assert np.array_equal(table.new_rows, np.flatnonzero(~seen))
            for (name, value), rows in table.dense.at_least.items():  # type: ignore[attr-defined]
                assert np.array_equal(rows, rows_at_least(table.column(name), value))
            checked.append(1)
        awards = evaluate.evaluate_year(book, table, state, *rest)  # type: ignore[arg-type]
        assert state.last_year.size > table.firm.max()  # the memory fits every firm of the table
        return awards

    monkeypatch.setattr(evaluate, "unseen_rows", counted)
    monkeypatch.setattr(world, "evaluate_year", checking)
    given = run_batch(model, [0, 1, 2], None)
    assert len(checked) >= 9
    looked_with_rows_given = len(looked)
    monkeypatch.setattr(world.World, "_found_in", lambda self, rows, facts: None)
    monkeypatch.setattr(  # no thresholds: the pass counts no crossings, the year's facts do
        Collector,
        "crossing_counts",
        lambda self, year: Crossings(self.crossings, 0, self.slot_of, self.place_column, NONE),
    )
    found = run_batch(model, [0, 1, 2], None)
    assert len(looked) > 2 * looked_with_rows_given  # only the start year looks, when given
    for name, values in found["ledgers"][0].items():
        assert values.size and np.array_equal(given["ledgers"][0][name], values), name
    assert np.array_equal(given["crossings"], found["crossings"]) and found["crossings"].sum()
    assert np.array_equal(given["population"], found["population"])


def test_a_table_that_names_its_new_firms_grows_the_engines_memory_for_them() -> None:
    """With FactTable.new_rows the engine sizes its memory from the new firms only (the others
    fit already): a new firm far beyond the memory grows it, and is remembered."""
    from fiscalsim.calculator import load_book
    from fiscalsim.engine import evaluate_year
    from fiscalsim.paths import POLICIES_DIR

    book = load_book([POLICIES_DIR])
    xunwu = book.registry.index["xunwu"]

    def table(year: int, firm: list[int], new_rows: list[int] | None) -> FactTable:
        n = len(firm)
        return FactTable(
            year=year,
            firm=np.array(firm, dtype=np.int64),
            location=np.full(n, xunwu, dtype=np.int32),
            industry_class=np.full(n, 3, dtype=np.int8),
            group=np.zeros(n, dtype=np.int32),
            dense={"revenue_wan": np.full(n, 1200.0), "prior_max_revenue_wan": np.full(n, 900.0)},
            new_rows=None if new_rows is None else np.array(new_rows, dtype=np.int64),
        )

    state = EngineState(book.n_ladders, book.needs_ladder_paid)
    evaluate_year(book, table(2022, [0, 1], None), state)
    assert state.last_year.size < 5000
    awards = evaluate_year(book, table(2023, [0, 1, 5000], [2]), state)
    assert state.last_year.size > 5000 and state.last_year[5000] == 2023
    assert 2 in awards.row.tolist()  # the new firm's first 1000万 is paid, as the others' was
