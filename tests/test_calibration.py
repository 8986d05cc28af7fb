"""The start population is held to what is published: segment totals, named firms, bounds
(data/calibration/firm_counts.yaml, large_firms.yaml), and the report says how well."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from fiscalsim.cli import app
from fiscalsim.errors import InputError
from fiscalsim.paths import SCENARIOS_DIR
from fiscalsim.population.calibration_report import calibration_table, start_statistics
from fiscalsim.population.fit import load_known
from fiscalsim.simulation.montecarlo import Prepared, prepare

REPLICATES = 500  # 100 start populations
SEGMENTS_WITH_TOTALS = [
    ("ganzhou", "01"),
    ("ganzhou", "02"),
    ("ganzhou", "03"),
    ("ganzhou", "04"),
    ("ganzhou", "05"),
    ("shuozhou", "01"),
]


@pytest.fixture(scope="module")
def prepared() -> Prepared:
    return prepare(SCENARIOS_DIR / "baseline.yaml", replicates=REPLICATES)


@pytest.fixture(scope="module")
def stats(prepared: Prepared) -> pd.DataFrame:
    model = prepared.model
    return start_statistics(
        model.scenario, list(model.plans), model.book.registry, list(range(REPLICATES))
    )


@pytest.fixture(scope="module")
def table(prepared: Prepared) -> pd.DataFrame:
    model = prepared.model
    return calibration_table(
        model.scenario, list(model.plans), model.book.registry, prepared.scenario_path
    )


def segment(prepared: Prepared, city: str, code: str):  # type: ignore[no-untyped-def]
    plans = prepared.model.plans
    return next(s for p in plans for s in p.segments if (s.city, s.industry_class) == (city, code))


def totals(stats: pd.DataFrame, city: str, code: str, metric: str) -> np.ndarray:
    rows = stats[(stats["city"] == city) & (stats["industry_class"] == code)]
    return rows.groupby("replicate")[metric].sum().to_numpy()


def test_every_published_total_is_used(prepared: Prepared) -> None:
    held = {
        (s.city, s.industry_class)
        for p in prepared.model.plans
        for s in p.segments
        if s.revenue_total_wan is not None
    }
    assert held == set(SEGMENTS_WITH_TOTALS)


@pytest.mark.parametrize(("city", "code"), SEGMENTS_WITH_TOTALS)
def test_start_total_mean_within_3pct_and_band_within_10pct(
    prepared: Prepared, stats: pd.DataFrame, city: str, code: str
) -> None:
    seg = segment(prepared, city, code)
    metric = "above_scale_revenue_wan" if seg.total_from_wan else "revenue_wan"
    values = totals(stats, city, code, metric)
    target = seg.revenue_total_wan
    assert values.mean() == pytest.approx(target, rel=0.03)
    p5, p95 = np.percentile(values, [5, 95])
    assert target * 0.90 <= p5 and p95 <= target * 1.10
    # no replicate exceeds its published total by more than the tolerance
    assert values.max() <= target * (1 + seg.total_tolerance) * (1 + 1e-9)


def test_no_synthetic_firm_exceeds_its_segment_bound(
    prepared: Prepared, stats: pd.DataFrame
) -> None:
    for plan in prepared.model.plans:
        for seg in plan.segments:
            rows = stats[
                (stats["city"] == seg.city) & (stats["industry_class"] == seg.industry_class)
            ]
            assert rows["max_firm_wan"].max() <= seg.size.max_wan


def test_named_firms_are_placed_at_their_published_size(prepared: Prepared) -> None:
    seg = segment(prepared, "ganzhou", "01")
    assert seg.known_names == ["同兴达科技"]
    assert seg.known_revenue_wan == [1_000_000]
    assert len(segment(prepared, "ganzhou", "05").known_names) == 4


def test_report_has_fitted_and_validation_blocks(table: pd.DataFrame) -> None:
    assert list(table["block"].unique()) == ["fitted", "validation"]
    assert not table[table["block"] == "validation"]["used_in_fit"].any()
    fitted = table.set_index("target_id")
    for fact in ("gz_electronics_above_scale_revenue", "gz_above_scale_industry_revenue"):
        assert fitted.loc[fact, "pass"], fact
    assert table["source"].notna().all() and table["tolerance"].notna().all()


def test_calibrate_command_writes_only_the_report(tmp_path: Path) -> None:
    out = tmp_path / "cal"
    result = CliRunner().invoke(
        app,
        ["calibrate", str(SCENARIOS_DIR / "baseline.yaml"), "--out", str(out), "--replicates", "5"],
    )
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert written == ["calibration.csv"]  # and fiscalsim's marker of what it wrote


def test_bad_named_firm_is_one_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "large_firms.yaml"
    bad.write_text(
        "schema_version: 1\nknown_firms:\n- {name: x, city: ganzhou, class: '01', revenue_wan: -5,\n"
        "   kind: estimate, confidence: M, derivation: test}\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match="revenue_wan"):
        load_known(bad)
