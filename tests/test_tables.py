"""Tables people open: CSVs with a BOM and amounts to 0.01 万元, a workbook with typed numbers."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from fiscalsim.excel import about_sheet, header_zh, target_sheet, with_titles, write_tables_xlsx
from fiscalsim.output import csv_writer
from fiscalsim.paths import SCENARIOS_DIR
from fiscalsim.run import run_scenario
from fiscalsim.simulation.montecarlo import prepare
from tests.helpers import run_cli

BOM = b"\xef\xbb\xbf"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run")
    prepared = prepare(SCENARIOS_DIR / "baseline.yaml", replicates=3, batch_replicates=3)
    run_scenario(prepared, out, out / "panel.csv", workers=1)
    return out


def test_every_csv_of_a_run_starts_with_a_bom_and_reads_back(run_dir: Path) -> None:
    csvs = sorted(run_dir.glob("*.csv"))
    assert {"spending.csv", "spending_by_clause.csv", "calibration.csv", "panel.csv"} <= {
        p.name for p in csvs
    }
    for path in csvs:
        raw = path.read_bytes()
        assert raw.startswith(BOM), path.name
        assert b"\r\n" not in raw
        frame = pd.read_csv(path)
        assert not frame.columns[0].startswith("\ufeff"), path.name
        assert len(frame) > 0
    cumulative = pd.read_csv(run_dir / "cumulative.csv", encoding="utf-8-sig")
    assert "赣市发〔2022〕5号" in set(cumulative["document_number"])


def test_amounts_are_rounded_to_a_hundredth_of_a_wan(run_dir: Path) -> None:
    spending = pd.read_csv(run_dir / "spending.csv")
    amounts = spending[["mean_wan", "p05_wan", "p25_wan", "p50_wan", "p75_wan", "p95_wan"]]
    assert (amounts.to_numpy() * 100 - (amounts.to_numpy() * 100).round()).max() < 1e-6
    as_text = pd.read_csv(run_dir / "spending_by_clause.csv", dtype=str)
    for column in [c for c in as_text.columns if c.endswith("_wan")]:
        decimals = as_text[column].str.partition(".")[2].str.len()
        assert decimals.max() <= 2, column
    shares = pd.read_csv(run_dir / "spending.csv")["share_of_expenditure_mean"].dropna()
    assert all(float(f"{x:.6g}") == x for x in shares)  # 6 significant digits
    ledger = pd.read_parquet(run_dir / "ledger.parquet")
    assert ledger["amount_wan"].dtype == "float64"


def test_the_panel_keeps_full_precision_for_the_calculator(run_dir: Path) -> None:
    panel = pd.read_csv(run_dir / "panel.csv")
    revenue = panel["revenue_wan"].to_numpy()
    assert (abs(revenue * 100 - (revenue * 100).round()) > 1e-6).any()


def test_csv_writer_is_byte_stable(tmp_path: Path) -> None:
    frame = pd.DataFrame({"jurisdiction": ["xunwu"], "mean_wan": [1 / 3], "share": [2 / 3]})
    csv_writer(frame)(tmp_path / "a.csv")
    csv_writer(frame.copy())(tmp_path / "b.csv")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert (
        tmp_path / "a.csv"
    ).read_bytes() == BOM + b"jurisdiction,mean_wan,share\nxunwu,0.33,0.666667\n"


def test_workbook_has_every_table_with_chinese_headers_and_typed_numbers(run_dir: Path) -> None:
    book = openpyxl.load_workbook(run_dir / "tables.xlsx")
    assert book.sheetnames == [
        "说明",
        "各级财政支出",
        "分条款支出",
        "文件期内累计（责任口径）",
        "企业群体",
        "首次跨档",
        "校准",
        "奖励明细（第0次模拟）",
        "分月现金流",  # the baseline runs the budget process
        "预算风险（P90与P95）",
    ]
    assert [c.value for c in book["分月现金流"][1]][:5] == [
        "地区代码",
        "地区",
        "预算级次",
        "年度",
        "月份",
    ]
    sheet = book["各级财政支出"]
    headers = [c.value for c in sheet[1]]
    assert headers[:4] == ["地区代码", "地区", "预算级次", "年度"]
    assert "均值（万元）" in headers and "P25（万元）" in headers
    assert sheet.freeze_panes == "A2"
    spending = pd.read_csv(run_dir / "spending.csv")
    assert sheet.max_row == len(spending) + 1
    mean = headers.index("均值（万元）") + 1
    row = 2 + int(spending["mean_wan"].to_numpy().argmax())
    cell = sheet.cell(row=row, column=mean)
    assert isinstance(cell.value, float) and cell.number_format == "#,##0.00"
    assert math.isclose(cell.value, spending["mean_wan"].max())
    assert isinstance(sheet.cell(row=2, column=4).value, int)
    names = {c.value for c in sheet["B"][1:]}
    assert {"寻乌县", "山西省", "赣州市"} <= names
    levels = {c.value for c in sheet["C"][1:]}
    assert levels <= {"省级", "市级", "县（区）级"}
    for title in book.sheetnames:
        assert book[title].max_row > 1, title
    # an award's jurisdiction is its document's government, not the budget that pays
    assert [c.value for c in book["奖励明细（第0次模拟）"][1]][3:6] == [
        "条款名称",
        "发文地区代码",
        "发文地区",
    ]
    assert [c.value for c in book["文件期内累计（责任口径）"][1]][3:5] == [
        "支付地区代码",
        "支付地区",
    ]
    risk = book["预算风险（P90与P95）"]
    risk_headers = [c.value for c in risk[1]]
    column = risk_headers.index("已安排预算（万元）")
    assert {row[column].value for row in risk.iter_rows(min_row=2)} == {"不限（未设拨款限额）"}
    chance = risk.cell(row=2, column=risk_headers.index("年末不欠款的概率") + 1)
    assert chance.number_format == "0.0%"


def _sheet_rows(path: Path, title: str) -> list[tuple[object, ...]]:
    return list(openpyxl.load_workbook(path)[title].iter_rows(values_only=True))


def test_comparison_and_butfor_sheets_read_in_chinese(tmp_path: Path) -> None:
    """The review of the workbooks (stop 27): butfor's sheets were English throughout, and
    compare's cash read like run's capped cash though no appropriation is applied there."""
    butfor = pd.DataFrame(
        {
            "jurisdiction": ["all"],
            "payer_level": ["all"],
            "year": ["total"],
            "basis": ["cash"],
            "spending_mean_wan": [100.0],
            "windfall_share_mean": [0.9],
            "induced_crossings_p95": [2.0],
            "cost_per_induced_firm_mean_wan": [50.0],
        }
    )
    elasticities = pd.DataFrame(
        {"response": ["entry"], "parameter": ["semi_elasticity"], "assumption": ["yes"]}
    )
    sensitivity = pd.DataFrame({"param": ["bunching.share"], "value": [0.2]})
    rejected = pd.DataFrame(
        {
            "clause_id": ["XW-4"],
            "filed_year": [2023],
            "filing_order": [24279],
            "reason": ["not approved"],
        }
    )
    differences = pd.DataFrame({"scenario": ["a"], "basis": ["cash"], "diff_mean_wan": [1.0]})
    path = tmp_path / "b.xlsx"
    write_tables_xlsx(
        path,
        {
            "butfor": butfor,
            "elasticities": elasticities,
            "sensitivity": sensitivity,
            "rejected": rejected,
            "differences": differences,
        },
    )
    assert openpyxl.load_workbook(path).sheetnames[:3] == [
        "政策效果（有无奖励对照）",
        "行为反应参数",
        "行为反应参数敏感性",
    ]
    header, row = _sheet_rows(path, "政策效果（有无奖励对照）")
    assert header == (
        "地区代码",
        "地区",
        "预算级次",
        "年度",
        "口径",
        "支出均值（万元）",
        "无效支出占比均值",
        "诱发达标数P95",
        "每家诱发企业的成本均值（万元）",
    )
    assert row[1:5] == ("全部", "全部", "合计", "现金口径（兑付年度应付，未计审核与拨款限额）")
    assert _sheet_rows(path, "行为反应参数")[1] == ("新设企业", "semi_elasticity", "是")
    assert _sheet_rows(path, "行为反应参数敏感性")[1][0] == "集中确认·概率（bunching.share）"
    header, row = _sheet_rows(path, "未获批准的申请")
    assert header[1:3] == ("申报年度", "申报时点（年×12+月，用于排序）")
    assert row[-1] == "审核未通过"
    assert _sheet_rows(path, "情景差异")[1][1] == "现金口径（兑付年度应付，未计审核与拨款限额）"


def test_write_tables_xlsx_for_any_table(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "scenario": ["base", "raise"],
            "jurisdiction": ["xunwu", "xunwu"],
            "year": [2024, "total"],
            "diff_mean_wan": [0.0, 12.3456],
        }
    )
    write_tables_xlsx(tmp_path / "t.xlsx", {"differences": frame, "自定义/表": frame})
    book = openpyxl.load_workbook(tmp_path / "t.xlsx")
    assert book.sheetnames == ["情景差异", "自定义_表"]
    sheet = book["情景差异"]
    assert [c.value for c in sheet[1]] == [
        "情景",
        "地区代码",
        "地区",
        "年度",
        "与基准之差均值（万元）",
    ]
    assert sheet["D3"].value == "合计" and sheet["E3"].value == 12.35
    assert header_zh("revenue_wan_p95") == "营业收入P95（万元）"


def test_workbook_cells_keep_their_kind(tmp_path: Path) -> None:
    """Numbers as numbers, truth values as such, text as text, and nothing where a value is
    missing, whatever the column's type (the cells are converted column by column)."""
    frame = pd.DataFrame(
        {
            "count": np.array([3, -1], dtype=np.int64),
            "share": [0.25, np.nan],
            "flag": [True, False],
            "maybe": pd.array([7, None], dtype="Int64"),
            "label": pd.array(["甲", None], dtype="string"),
            "code": pd.Categorical(["a", "b"]),
            "mixed": [1.5, "x"],
        }
    )
    write_tables_xlsx(tmp_path / "k.xlsx", {"k": frame})
    rows = list(openpyxl.load_workbook(tmp_path / "k.xlsx")["k"].iter_rows(values_only=True))
    assert rows[1] == (3, 0.25, True, 7, "甲", "a", 1.5)
    assert rows[2] == (-1, None, False, None, None, "b", "x")
    assert [type(v) for v in rows[1][:3]] == [int, float, bool]


def test_awards_writes_a_workbook_too(tmp_path: Path) -> None:
    completed = run_cli("awards", "--panel", "data/demo_panel.csv", "--out", str(tmp_path))
    assert completed.returncode == 0, completed.stderr
    assert (tmp_path / "ledger.csv").read_bytes().startswith(BOM)
    book = openpyxl.load_workbook(tmp_path / "tables.xlsx")
    assert book.sheetnames[:2] == ["说明", "奖励明细"]
    # each clause's title beside its id (the CSV keeps the id only)
    header, *rows = _sheet_rows(tmp_path / "tables.xlsx", "奖励明细")
    assert header[1:3] == ("条款编号", "条款名称")
    assert ("GZ-2c", "数字技术应用业企业营业收入首次达到门槛奖励") in {r[1:3] for r in rows}
    assert "clause_title" not in pd.read_csv(tmp_path / "ledger.csv").columns


def test_scenarios_and_classes_by_name_in_the_workbook(run_dir: Path, tmp_path: Path) -> None:
    header, row = _sheet_rows(run_dir / "tables.xlsx", "分条款支出")[:2]
    assert header[:2] == ("条款编号", "条款名称") and row[1]
    header, *rows = _sheet_rows(run_dir / "tables.xlsx", "企业群体")
    assert header[:3] == ("地区代码", "地区", "层级")
    assert {"01 数字产品制造业", "03 数字技术应用业", "全部"} <= {r[4] for r in rows}
    levels = {r[0]: r[2] for r in rows}
    assert levels["xunwu"] == "县（区）" and levels["ganzhou"] == "市（各县区合计）"
    frame = pd.DataFrame({"scenario": ["baseline", "alt"], "clause_id": ["GZ-2c", "XX-1"]})
    titled = with_titles(frame, {"GZ-2c": "门槛奖励"}, {"baseline": "基准情景"})
    assert list(titled.columns) == ["scenario", "scenario_title", "clause_id", "clause_title"]
    assert titled["scenario_title"].tolist() == ["基准情景", ""]
    assert titled["clause_title"].tolist() == ["门槛奖励", ""]
    assert list(frame.columns) == ["scenario", "clause_id"]  # the CSV's table is untouched
    # a matter of a user's own policy file, with no Chinese name, shows its id, not a blank
    frame = pd.DataFrame({"matter": ["rd_subsidy", "my_own_matter"]})
    titled = with_titles(frame, matters={"rd_subsidy": "研发投入补助"})
    assert titled["matter_title"].tolist() == ["研发投入补助", "my_own_matter"]


def test_each_workbook_says_what_it_holds(run_dir: Path, tmp_path: Path) -> None:
    """The first sheet (说明) names the scenario, replicates and seed and explains the statistics;
    with few replicates it says the bands are only a trial (a workbook said none of this)."""
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    rows = dict(_sheet_rows(run_dir / "tables.xlsx", "说明")[1:])
    assert rows["模拟次数"] == summary["replicates"] and rows["随机数种子"] == summary["seed"]
    assert summary["scenario"]["title"] in rows["情景"]
    assert "P95" in rows["统计量"] and "欠款" in rows["口径"]
    assert "重复相加" in rows["合计行"] and "不是各项分位数之和" in rows["合计行"]
    assert ("提示" in rows) == (summary["replicates"] < 1000)
    assert rows["考核年度"].startswith("2022—2030")
    # a comparison's workbook has no arrears, and says its cash is before the budget process
    compare = about_sheet({"kind": "compare", "replicates": 1000, "seed": 1, "command": "c"})
    texts = dict(zip(compare["item"], compare["content"], strict=True))
    assert "欠款" not in texts["口径"] and "未计审核与拨款限额" in texts["现金口径"]
    assert "提示" not in texts and texts["命令"] == "c"
    answer = {"param": "p", "value": 14, "jurisdiction": "ganzhou", "payer_level": "city"}
    answer |= {"basis": "cash", "year": "window", "quantile": 0.9, "ceiling_wan": 3300.0}
    write_tables_xlsx(tmp_path / "t.xlsx", {"target": target_sheet({**answer, "message": "x"})})
    header, row = _sheet_rows(tmp_path / "t.xlsx", "目标求解结果")
    assert header[:2] == ("参数", "求得取值") and row[:2] == ("p", 14)
    assert "测算期合计" in row and "预算上限（万元）" in header and "市级" in row


def test_swept_parameters_and_calibration_read_in_chinese(run_dir: Path) -> None:
    from fiscalsim.reports.parameters import named_parameters

    path = "policies.ganzhou_2022.rules.GZ-2c.amount.tiers[0].threshold_wan"
    frame = pd.DataFrame(
        {"param": [path], "value": [500], "param2": ["readings.first_reach"], "value2": ["ever"]}
    )
    named = named_parameters(frame)
    # a scenario's own policy files name its clauses (the benchmark's BM-1 is not shipped)
    from fiscalsim.jurisdictions import load_registry
    from fiscalsim.scenario_load import load_scenario

    loaded = load_scenario(SCENARIOS_DIR / "benchmark.yaml", load_registry())
    path_bm = "policies.benchmark_ladder.rules.BM-1.amount.tiers[0].threshold_wan"
    own = named_parameters(pd.DataFrame({"param": [path_bm], "value": [500]}), loaded.policies)
    title = loaded.policies[0].rules[0].title_zh
    assert own["param_label"][0].startswith(f"BM-1「{title}」")
    assert list(named.columns) == [
        "param",
        "param_label",
        "value",
        "param2",
        "param2_label",
        "value2",
    ]
    assert (
        named["param_label"][0].startswith("GZ-2c「") and "门槛（万元）" in named["param_label"][0]
    )
    assert named["value2"][0] == "历史首次（ever）" and named["value"][0] == 500
    header, *rows = _sheet_rows(run_dir / "tables.xlsx", "校准")
    tolerance, confidence = header.index("容许范围"), header.index("置信度")
    assert {r[tolerance] for r in rows} >= {"均值误差不超过±10%", "P95不高于目标值"}
    assert {r[confidence] for r in rows} <= {"高（H）", "中（M）", "低（L）"}
