"""The drift is each firm's expected simple growth (dynamics.yaml `model_form`), in every size
band, for the baseline's Laplace shocks with their clip, age multipliers and common shocks."""

from __future__ import annotations

import numpy as np
import pytest

from fiscalsim.dynamics import growth as growths
from fiscalsim.jurisdictions import load_registry
from fiscalsim.paths import SCENARIOS_DIR
from fiscalsim.scenario import Growth
from fiscalsim.scenario_load import load_scenario

BANDS_WAN = [150, 600, 1500, 5000, 30_000, 300_000, 3_000_000]


@pytest.fixture(scope="module")
def spec() -> Growth:
    loaded = load_scenario(SCENARIOS_DIR / "baseline.yaml", load_registry())
    return loaded.scenario.dynamics.growth


@pytest.mark.parametrize("age", [1, 4, 12])
@pytest.mark.parametrize("size_wan", BANDS_WAN)
def test_mean_simple_growth_is_the_drift(spec: Growth, size_wan: float, age: int) -> None:
    n = 400_000
    rng = np.random.default_rng(size_wan + age)
    cities = ["ganzhou", "shuozhou", "shuangyashan"]
    years = range(2021, 2031)
    location = growths.drift_table(spec, years, cities)
    expected = growths.simple_drift(spec, years, cities)
    for city in range(len(cities)):
        for code in (1, 3, 5):
            common = spec.national_shock_sd * rng.standard_normal(n)
            common += spec.common_shock_sd * rng.standard_normal(n)
            step = growths.log_step(
                spec,
                np.full(n, location[city, code, 3]),
                np.full(n, float(size_wan)),
                np.full(n, age),
                growths.unit_shocks(spec, rng, n),
                common,
            )
            assert np.expm1(step).mean() == pytest.approx(expected[city, code, 3], abs=0.01)


def test_regional_offsets_apply_per_city_and_class(spec: Growth) -> None:
    table = growths.simple_drift(spec, range(2022, 2023), ["ganzhou", "shuangyashan"])
    assert table[0, 3, 0] - table[1, 3, 0] == pytest.approx(0.05)
    assert table[0, 5, 0] == table[1, 5, 0]


def test_log_mgf_matches_a_large_sample(spec: Growth) -> None:
    rng = np.random.default_rng(3)
    u = growths.unit_shocks(spec, rng, 2_000_000)
    for s in (0.1, 0.5, 1.1):
        assert growths.log_mgf(spec, s) == pytest.approx(np.log(np.exp(s * u).mean()), abs=0.004)
