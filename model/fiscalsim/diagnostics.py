"""Checks of the simulated firms against the documented regularities of firm growth and survival.

Computed from a simulated firm-year panel (the `--panel-out` format), so the same checks can be
run on any panel, simulated or observed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def growth_pairs(panel: pd.DataFrame) -> pd.DataFrame:
    """Consecutive firm-years: start size, log growth, age, and next year's growth."""
    frame = panel[["firm_id", "year", "revenue_wan", "founded_year", "location", "industry_class"]]
    frame = frame.sort_values(["firm_id", "year"])
    following = frame.groupby("firm_id").shift(-1)
    pairs = frame.assign(next_year=following["year"], next_revenue=following["revenue_wan"]).dropna(
        subset=["next_year"]
    )
    pairs = pairs[pairs["next_year"] == pairs["year"] + 1].copy()
    pairs["growth"] = np.log(pairs["next_revenue"] / pairs["revenue_wan"])
    pairs["age"] = pairs["year"] - pairs["founded_year"]
    return pairs


def volatility_slope(pairs: pd.DataFrame, low_wan: float = 500, high_wan: float = 500_000) -> float:
    """OLS slope of ln sd(growth) on ln size over log-spaced size bins (Amaral et al. 1997)."""
    inside = pairs[(pairs["revenue_wan"] >= low_wan) & (pairs["revenue_wan"] < high_wan)]
    demeaned = inside["growth"] - inside.groupby(["year", "location", "industry_class"])[
        "growth"
    ].transform("mean")
    edges = np.geomspace(low_wan, high_wan, 9)
    bins = np.digitize(inside["revenue_wan"], edges)
    sizes, spreads = [], []
    for b in np.unique(bins):
        members = bins == b
        if members.sum() >= 50:
            sizes.append(np.log(inside["revenue_wan"][members]).mean())
            spreads.append(np.log(demeaned[members].std()))
    return float(np.polyfit(sizes, spreads, 1)[0])


def standardised_kurtosis(pairs: pd.DataFrame) -> float:
    """Kurtosis of growth standardised within size bins (Laplace 6, normal 3)."""
    demeaned = pairs["growth"] - pairs.groupby(["year", "location", "industry_class"])[
        "growth"
    ].transform("mean")
    bins = np.digitize(np.log(pairs["revenue_wan"]), np.arange(0, 20, 1.0))
    z = demeaned.groupby(bins).transform(lambda g: (g - g.mean()) / g.std())
    z = z.dropna()
    return float((z**4).mean())


def gibrat_slope(pairs: pd.DataFrame, above_wan: float = 2000) -> float:
    """Slope of mean log growth on ln size among firms above `above_wan`."""
    big = pairs[pairs["revenue_wan"] >= above_wan]
    return float(np.polyfit(np.log(big["revenue_wan"]), big["growth"], 1)[0])


def growth_autocorrelation(pairs: pd.DataFrame, bin_log_width: float = 0.25) -> float:
    """Autocorrelation of log growth net of what size, age and common shocks predict.

    Where the drift is the expected simple growth, the expected log growth falls with the
    spread, so small and young firms have a lower median: pooled raw growth then correlates
    through those firm differences, not through memory. As in the size-controlled tests of the
    literature (Chesher 1979; Bottazzi and Secchi), growth is first taken net of its year x place
    x class mean and of its size-band x age mean."""
    frame = pairs.copy()
    frame["residual"] = frame["growth"] - frame.groupby(["year", "location", "industry_class"])[
        "growth"
    ].transform("mean")
    frame["size_band"] = np.floor(np.log(frame["revenue_wan"]) / bin_log_width)
    frame["age_band"] = np.minimum(frame["age"], 6)
    frame["residual"] -= frame.groupby(["size_band", "age_band"])["residual"].transform("mean")
    ordered = frame.sort_values(["firm_id", "year"])
    later = ordered.groupby("firm_id")["residual"].shift(-1)
    both = pd.DataFrame({"now": ordered["residual"], "later": later}).dropna()
    return float(np.corrcoef(both["now"], both["later"])[0, 1])


def exit_hazard_by_age(panel: pd.DataFrame, last_year: int) -> pd.Series:
    """Share of firms of each age that are gone the next year (before the final year).

    The age is the one the model used: exits are drawn at the start of year y + 1, at age
    y + 1 - founded. Entrants' founding-year (age 0) exits happen before they join the panel."""
    frame = panel[panel["year"] < last_year][["firm_id", "year", "founded_year"]]
    seen = set(zip(panel["firm_id"], panel["year"], strict=True))
    gone = np.array(
        [(f, y + 1) not in seen for f, y in zip(frame["firm_id"], frame["year"], strict=True)]
    )
    age = np.minimum((frame["year"] + 1 - frame["founded_year"]).to_numpy(), 10)
    return pd.Series(gone).groupby(age).mean()


def hill_tail_index(revenue: np.ndarray, top_share: float = 0.10) -> float:
    """Hill estimator of the Pareto tail index from the top `top_share` of values."""
    ordered = np.sort(revenue)[::-1]
    k = max(int(len(ordered) * top_share), 10)
    return float(1.0 / np.mean(np.log(ordered[:k] / ordered[k])))
