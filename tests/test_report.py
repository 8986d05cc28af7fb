"""`fiscalsim report`: HTML and PDF for run, compare, sweep and target folders, zh and en.

Content is checked as text (sections, names, escaping); how it looks is checked in
test_report_render.py (Chromium screenshot, PDF pages as images).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fiscalsim.reports.folder import load_folder
from fiscalsim.reports.labels import fmt_amount
from fiscalsim.reports.render import write_report
from tests.helpers import report_html, run_cli
from tests.report_fixtures import FIXTURES, SCRIPT_TITLE


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("folders")
    return {kind: make(root / kind) for kind, make in FIXTURES.items()}


def visible_text(html: str) -> str:
    body = re.sub(r"<style.*?</style>", "", html, flags=re.S)
    body = re.sub(r'src="data:[^"]*"', "", body)
    return re.sub(r"<[^>]+>", " ", body)


@pytest.mark.parametrize("kind", list(FIXTURES))
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_report_writes_html_and_pdf_for_every_kind(
    fixtures: dict[str, Path], kind: str, lang: str
) -> None:
    html_path, pdf_path = write_report(fixtures[kind], lang)  # type: ignore[arg-type]
    assert html_path.name == ("report.html" if lang == "zh" else "report.en.html")
    assert pdf_path.read_bytes().startswith(b"%PDF")
    html = html_path.read_text(encoding="utf-8")
    assert "data:image/png;base64," in html  # every kind has at least one chart
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # nothing fetched
    assert 'id="reproducibility"' in html and "fiscalsim 0.1.0" in html
    section = {"run": "headline", "compare": "compare", "sweep": "sweep", "target": "target"}
    assert f'id="{section[kind]}"' in html


def test_scenario_strings_are_escaped(fixtures: dict[str, Path]) -> None:
    html_path, _ = write_report(fixtures["run"], "zh")
    html = html_path.read_text(encoding="utf-8")
    assert SCRIPT_TITLE not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; 测试情景" in html
    assert "<script" not in html.lower()
    assert "&lt;b&gt;不加粗&lt;/b&gt;" in html and "&lt;i&gt;assumed&lt;/i&gt;" in html


def test_run_report_names_budgets_in_chinese_and_rounds_amounts(fixtures: dict[str, Path]) -> None:
    html = report_html(fixtures["run"], "zh")
    text = visible_text(html)
    for name in ("山西省（省级）", "赣州市（市级）", "寻乌县（县（区）级）"):
        assert name in text
    for pinyin in ("shanxi", "ganzhou ", "xunwu"):
        assert not re.search(rf"\b{pinyin.strip()}\b(?![_./])", text), pinyin
    # headline: Xunwu cash 2024 is 110 万元, P5–P95 66–154; readings band 88–121
    assert "110" in text and "66.0–154" in text and "88.0–121" in text
    # window total 330 万元; across the four reading combinations 264 (×0.8) to 363 (×1.1)
    assert "330" in text and "264–363" in text
    assert "数字技术应用业企业营业收入首次达到门槛奖励" in text and "赣市发〔2022〕5号" in text
    assert "单位：万元" in text
    assert "6,000" in text and "亿元" not in text.split("一、")[1].split("二、")[0]


def test_english_report_uses_english_names(fixtures: dict[str, Path]) -> None:
    text = visible_text(report_html(fixtures["run"], "en"))
    assert "Xunwu County (county)" in text and "Shanxi Province (provincial)" in text
    assert "What each paying budget must set aside" in text


def test_jurisdiction_report_shows_only_its_budget_lines(fixtures: dict[str, Path]) -> None:
    html_path, pdf_path = write_report(fixtures["run"], "zh", "xunwu")
    assert (html_path.name, pdf_path.name) == ("report.xunwu.html", "report.xunwu.pdf")
    text = visible_text(html_path.read_text(encoding="utf-8"))
    assert "寻乌县（县（区）级）" in text and "山西省（省级）" not in text
    assert "本级预算报告：寻乌县" in text
    assert "SZ-1" not in text and "XW-1" in text  # clauses Xunwu pays, by the payer column


def test_compare_sweep_and_target_sections(fixtures: dict[str, Path]) -> None:
    compare = visible_text(report_html(fixtures["compare"], "zh"))
    assert "门槛下调" in compare and "延期一年" in compare
    assert "与基准之差 +99.0" in compare  # Xunwu: 330 万元 over the window, +30%
    # each scenario's own band under its mean, and where a reform comes from
    assert "寻乌县（县（区）级） 330 198–462 429 257–601" in re.sub(r"\s+", " ", compare)
    assert "赣市发〔2022〕5号 延期测算" in compare and "作者：测试作者" in compare
    assert "门槛下调；延期一年（对比基准情景）" in compare
    # bands of differences carry their signs as the differences do (was "-130–-9.5")
    html = report_html(fixtures["compare"], "zh")
    bands = re.findall(r'<span class="band">([^<]*)</span>', html)
    assert bands and not [b for b in bands if "-" in b]
    from fiscalsim.reports.labels import fmt_signed_band

    assert fmt_signed_band(-130, -9.5) == "−130 – −9.5"
    assert fmt_signed_band(-21, 238) == "−21.0 – +238"
    sweep = visible_text(report_html(fixtures["sweep"], "zh"))
    assert "threshold_wan" in sweep and "1500" in sweep
    # the table shows the budgets that move most, not every one that moves (it said 只列随参数变化的预算)
    assert re.search(r"表中只列变化最大的\d+个预算，图中\d+个；全部预算见 sweep.csv", sweep)
    target = visible_text(report_html(fixtures["target"], "zh"))
    assert "取值为1000" in target and "2,500 万元" in target and "赣州市（市级）" in target
    # the answer says its unit, the current value, which cost it is, and every simulation
    assert "取值为1000 万元（现行取值1000 万元），此时P90分位数成本为2,500 万元" in target
    assert "模拟次数：网格9次，二分6次" in target


def test_a_changed_parameter_is_named_in_chinese_beside_its_path(fixtures: dict[str, Path]) -> None:
    """A Chinese reader sees what the swept or targeted path means; the path stays for reruns."""
    meaning = "GZ-2c「数字技术应用业企业营业收入首次达到门槛奖励」：第1档·门槛（万元）"
    path = "policies.ganzhou_2022.rules.GZ-2c.amount.tiers[0].threshold_wan"
    for kind in ("sweep", "target"):
        text = visible_text(report_html(fixtures[kind], "zh"))
        assert f"{meaning}（{path}）" in text, kind
    compare = visible_text(report_html(fixtures["compare"], "zh"))
    assert (
        "赣州市 赣市发〔2022〕5号：适用年度·末年（policies.ganzhou_2022.years.last） = 2025"
        in compare
    )
    english = visible_text(report_html(fixtures["sweep"], "en"))
    assert path in english and "门槛（万元）" not in english
    from fiscalsim.reports.labels import Names
    from fiscalsim.reports.parameters import parameter

    names = Names("zh")
    assert parameter("policies.ganzhou_2022.years.last", names) == (
        "赣州市 赣市发〔2022〕5号：适用年度·末年（policies.ganzhou_2022.years.last）"
    )
    assert parameter("dynamics.entry.per_year.shuangyashan.05", names).startswith(
        "企业动态·新进入企业·每年·双鸭山市·05类（"
    )
    assert parameter("not.a.known.path", names) == "not.a.known.path"


def test_folder_kind_is_found_from_the_files(fixtures: dict[str, Path]) -> None:
    for kind, path in fixtures.items():
        assert load_folder(path).kind == kind


def test_large_tables_switch_to_yi_yuan() -> None:
    from fiscalsim.reports.labels import amount_unit

    assert amount_unit([99_999.0], "zh") == (1.0, "万元")
    assert amount_unit([150_000.0, 3.0], "zh") == (10_000.0, "亿元")
    assert amount_unit([150_000.0], "en") == (10_000.0, "100m yuan")


def test_amounts_are_rounded_sensibly() -> None:
    assert fmt_amount(6173.0759) == "6,173"
    assert fmt_amount(86.04) == "86.0"
    assert fmt_amount(0.456) == "0.46"
    assert fmt_amount(123456.0, 10_000.0) == "12.3"


def test_bad_folder_and_bad_jurisdiction_are_one_line_and_exit_2(
    fixtures: dict[str, Path], tmp_path: Path
) -> None:
    completed = run_cli("report", str(tmp_path))
    assert completed.returncode == 2 and completed.stderr.count("\n") == 1
    assert "not an output folder" in completed.stderr
    completed = run_cli("report", str(fixtures["run"]), "--jurisdiction", "atlantis")
    assert completed.returncode == 2 and "atlantis" in completed.stderr
    assert not (fixtures["run"] / "report.atlantis.html").exists()


def test_a_failed_pdf_leaves_no_half_report(
    fixtures: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import fiscalsim.reports.render as render

    def broken(html: str, path: Path) -> None:
        raise RuntimeError("no PDF today")

    for name in ("report.html", "report.pdf"):
        (fixtures["sweep"] / name).unlink(missing_ok=True)
    before = sorted(p.name for p in fixtures["sweep"].iterdir())
    monkeypatch.setattr(render, "write_pdf", broken)
    with pytest.raises(RuntimeError):
        write_report(fixtures["sweep"], "zh")
    assert sorted(p.name for p in fixtures["sweep"].iterdir()) == before


def test_report_command_writes_english_files(fixtures: dict[str, Path]) -> None:
    completed = run_cli("report", str(fixtures["target"]), "--lang", "en")
    assert completed.returncode == 0, completed.stderr
    text = (fixtures["target"] / "report.en.html").read_text(encoding="utf-8")
    assert "Keeping the P90 quantile of cost" in text
    assert (fixtures["target"] / "report.en.pdf").read_bytes().startswith(b"%PDF")
    completed = run_cli("report", str(fixtures["target"]), "--lang", "fr")
    assert completed.returncode == 2


def test_a_zero_mean_difference_with_a_band_is_labelled(tmp_path: Path) -> None:
    """Shicheng's mean difference was 0 with a band of −20 to +30.5: the label was dropped and
    the band read as the scenario's own range."""
    import pandas as pd

    folder = tmp_path / "compare"
    FIXTURES["compare"](folder)
    path = folder / "differences.csv"
    frame = pd.read_csv(path, encoding="utf-8-sig")
    xunwu = (frame["scenario"] == "lower") & (frame["jurisdiction"] == "xunwu")
    frame.loc[xunwu, ["diff_mean_wan", "diff_p05_wan", "diff_p95_wan"]] = [0.0, -2.0, 3.0]
    frame.to_csv(path, index=False, encoding="utf-8-sig")
    html = report_html(folder, "zh")
    assert re.search(r'<span class="band">与基准之差 0</span><span class="band">−\d', html)


def test_a_target_report_for_its_own_budget(tmp_path: Path) -> None:
    """`report TARGET_DIR --jurisdiction ganzhou` refused a target for Ganzhou's own budget."""
    folder = tmp_path / "target"
    FIXTURES["target"](folder)
    html_path, _ = write_report(folder, "zh", "ganzhou")
    assert "赣州市（市级）" in visible_text(html_path.read_text(encoding="utf-8"))


def test_the_readings_band_is_labelled_not_only_coloured(fixtures: dict[str, Path]) -> None:
    """In the 合计 column the readings band was the only second line, told from P5–P95 by its
    colour alone: in black-and-white print it read as the Monte Carlo band."""
    html = report_html(fixtures["run"], "zh")
    bands = re.findall(r'<span class="rband">([^<]*)</span>', html)
    assert bands and all(b.startswith("各解读 ") for b in bands)


def test_a_sweep_over_a_reading_is_reported(fixtures: dict[str, Path], tmp_path: Path) -> None:
    """The grid's chart ticks took every value for a number: a reading's sweep (ever,
    since_policy) no longer reported at all."""
    import shutil

    import pandas as pd

    folder = shutil.copytree(fixtures["sweep"], tmp_path / "reading")
    frame = pd.read_csv(folder / "sweep.csv")
    frame = frame[frame["value"].isin([300, 500])].copy()
    frame["param"] = "readings.first_reach"
    frame["value"] = frame["value"].map({300: "ever", 500: "since_policy"})
    frame.to_csv(folder / "sweep.csv", index=False)
    text = visible_text(report_html(folder, "zh"))
    assert "历史首次（ever）" in text and "政策施行以来首次（since_policy）" in text
    assert "解读：“首次达到”（readings.first_reach）" in text
