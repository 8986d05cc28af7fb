"""Jiangxi in the registry (行政区划 as of 2023) and the province-scale what-if built on it."""

from __future__ import annotations

from collections import Counter

from fiscalsim.jurisdictions import load_registry
from fiscalsim.paths import REPO_DIR
from fiscalsim.simulation.montecarlo import prepare

# Ids that existed before Jiangxi was added: relied on outside the repository, never renamed.
EARLIER_IDS = [
    "jiangxi", "shanxi", "heilongjiang", "ganzhou", "shuozhou", "shuangyashan", "zhanggong",
    "nankang", "ganxian", "xinfeng", "dayu", "shangyou", "chongyi", "anyuan", "dingnan",
    "quannan", "ningdu", "yudu", "xingguo", "huichang", "xunwu", "shicheng", "ruijin", "longnan",
    "ganzhou_etdz", "rongjiang", "shuocheng", "pinglu", "shanyin", "yingxian", "youyu", "huairen",
    "shuozhou_etdz", "jianshan", "lingdong", "sifangtai", "baoshan", "jixian", "youyi",
    "baoqing", "raohe",
]  # fmt: skip


def test_jiangxi_has_its_11_cities_and_100_county_level_units() -> None:
    registry = load_registry()
    assert [j.id for j in registry.items[: len(EARLIER_IDS)]] == EARLIER_IDS
    cities = [j for j in registry.items if j.parent == "jiangxi"]
    assert len(cities) == 11 and all(c.kind == "prefecture_city" for c in cities)
    units = [j for c in cities for j in registry.children(c.id) if j.code is not None]
    assert Counter(j.kind for j in units) == {"district": 27, "county_level_city": 12, "county": 61}
    codes = [j.code for j in [*cities, *units]]
    assert len(set(codes)) == len(codes)
    for unit in units:  # a county-level code begins with its city's first four digits
        parent_code = registry[str(unit.parent)].code
        assert unit.code and parent_code and unit.code[:4] == parent_code[:4]


def test_province_scale_simulates_every_county_level_unit() -> None:
    prepared = prepare(REPO_DIR / "scenarios" / "province_scale.yaml", replicates=1)
    registry = prepared.model.book.registry
    places = {c for plan in prepared.model.plans for s in plan.segments for c in s.county_weights}
    jiangxi_units = {
        j.id
        for j in registry.items
        if j.level == "county" and registry.ancestor_at(j.id, "province") == "jiangxi"
    }
    assert places == jiangxi_units  # the 100 units and Ganzhou's two functional zones
    assert len(prepared.model.plans) == 11
    ganzhou_terms = next(c for c in prepared.model.book.rules if c.id == "GZ-2c")
    assert ganzhou_terms.policy.jurisdiction == "jiangxi"
