"""The report as a person sees it: rendered by headless Chromium, and the PDF's pages as images.

Needs Debian's `chromium` and `poppler-utils` (`make test` installs them where apt is available);
where they cannot be installed the tests skip and say so.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from matplotlib import image

from fiscalsim.paths import SCENARIOS_DIR
from fiscalsim.reports.labels import fmt_amount
from fiscalsim.reports.render import write_report
from fiscalsim.run import run_scenario
from fiscalsim.simulation.montecarlo import prepare
from tests.helpers import report_html

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
POPPLER = all(shutil.which(tool) for tool in ("pdftoppm", "pdftotext", "pdffonts"))
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium: run `make system-deps` (apt-get install chromium)"
)
needs_poppler = pytest.mark.skipif(
    not POPPLER, reason="no poppler-utils: run `make system-deps` (apt-get install poppler-utils)"
)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The Chinese report of a real (small) baseline run."""
    out = tmp_path_factory.mktemp("baseline")
    prepared = prepare(SCENARIOS_DIR / "baseline.yaml", replicates=3, batch_replicates=3)
    run_scenario(prepared, out, workers=1)
    return write_report(out, "zh")


def missing(text: str, *parts: str) -> list[str]:
    """The parts a report's text lacks (the tests list what they expect to read)."""
    return [part for part in parts if part not in text]


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    profile = tmp_path / "profile"
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def console_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def ink(path: Path) -> float:
    """Share of pixels that are not (near) white."""
    pixels = image.imread(str(path))[..., :3].astype(float)
    if pixels.max() > 1:
        pixels = pixels / 255.0
    return float((pixels.min(axis=2) < 0.9).mean())


@needs_chromium
def test_console_check_would_catch_an_error(tmp_path: Path) -> None:
    page = tmp_path / "error.html"
    page.write_text('<script>console.error("boom")</script>', encoding="utf-8")
    completed = chromium(tmp_path, "--dump-dom", page.as_uri())
    assert any("boom" in line for line in console_lines(completed.stderr))


@needs_chromium
def test_browser_shows_charts_and_tables_without_console_errors(
    report: tuple[Path, Path], tmp_path: Path
) -> None:
    html, _pdf = report
    shot = tmp_path / "shot.png"
    completed = chromium(tmp_path, f"--screenshot={shot}", "--window-size=1200,2000", html.as_uri())
    assert shot.exists(), completed.stderr[-2000:]
    assert console_lines(completed.stderr) == []
    share = ink(shot)
    assert 0.02 < share < 0.9, f"screenshot looks blank or solid: {share:.3f} of pixels inked"
    dom = chromium(tmp_path, "--dump-dom", html.as_uri())
    assert console_lines(dom.stderr) == []
    assert dom.stdout.count('<img src="data:image/png;base64,') >= 2
    assert dom.stdout.count("<table") >= 4
    assert "各级财政需预留的资金" in dom.stdout and "寻乌县" in dom.stdout


@needs_chromium
def test_charts_decode_to_images_in_the_browser(report: tuple[Path, Path], tmp_path: Path) -> None:
    """Every chart loads: naturalWidth > 0 is written into the DOM by a tiny inline check."""
    html, _pdf = report
    probe = tmp_path / "probe.html"
    text = html.read_text(encoding="utf-8")
    check = (
        "<script>window.addEventListener('load',()=>{const bad=[...document.images]"
        ".filter(i=>!i.naturalWidth).length;document.title='images:'+document.images.length"
        "+':broken:'+bad;});</script></body>"
    )
    probe.write_text(text.replace("</body>", check), encoding="utf-8")
    dom = chromium(tmp_path, "--dump-dom", "--virtual-time-budget=5000", probe.as_uri())
    assert "<title>images:" in dom.stdout, dom.stderr[-2000:]
    title = dom.stdout.split("<title>")[1].split("</title>")[0]
    count, broken = int(title.split(":")[1]), int(title.split(":")[3])
    assert count >= 2 and broken == 0


def test_chinese_budget_sections_name_no_pinyin_id(report: tuple[Path, Path]) -> None:
    from fiscalsim.jurisdictions import load_registry

    html = report[0].read_text(encoding="utf-8")
    body = html[html.index('id="headline"') : html.index('id="assumptions"')]
    body = re.sub(r'src="data:[^"]*"', "", body)
    ids = [j.id for j in load_registry().items]
    found = [i for i in ids if re.search(rf"\b{i}\b", re.sub(r"<[^>]+>", " ", body))]
    assert found == []


def test_a_county_report_books_only_its_own_share_of_each_clause(
    report: tuple[Path, Path],
) -> None:
    """Without a payer column the clause table comes from the ledger: it adds up to the headline."""
    import pandas as pd

    from fiscalsim.reports.sections import ledger_clause_frame

    folder = report[0].parent
    ledger = pd.read_parquet(folder / "ledger.parquet")
    own = ledger_clause_frame(ledger, "xunwu", 3)
    spending = pd.read_csv(folder / "spending.csv")
    for basis in ("obligation", "cash"):
        expected = spending[(spending["jurisdiction"] == "xunwu") & (spending["basis"] == basis)]
        total = own[own["basis"] == basis]["mean_wan"].sum()
        assert total == pytest.approx(expected["mean_wan"].sum(), abs=0.01 * len(expected))
    clauses = set(own["clause_id"])
    assert set(own["payer_level"]) == {"county"} and "XW-1" in clauses
    assert any(c.startswith("GZ-") for c in clauses)  # Xunwu's half of a Ganzhou clause
    html, _pdf = write_report(folder, "zh", "xunwu")
    text = html.read_text(encoding="utf-8")
    assert "寻府办字〔2022〕51号" in text and "山西省" not in text.split('id="assumptions"')[0]


@needs_poppler
def test_every_pdf_page_has_content_and_chinese_text_extracts(
    report: tuple[Path, Path], tmp_path: Path
) -> None:
    _html, pdf = report
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 4
    for page in pages:
        assert ink(page) > 0.002, f"{page.name} is blank"
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    for phrase in ("各级财政需预留的资金", "赣州市（市级）", "寻乌县", "赣市发〔2022〕5号", "万元"):
        assert phrase in text, phrase
    assert "\ufffd" not in text


@needs_poppler
def test_the_cjk_font_is_embedded(report: tuple[Path, Path]) -> None:
    _html, pdf = report
    fonts = subprocess.run(
        ["pdffonts", str(pdf)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    cjk = [line for line in fonts if "CJK" in line]
    assert cjk, fonts
    assert all(line.split()[-5] == "yes" for line in cjk)  # the `emb` column


def test_the_calibration_section_shows_every_published_figure(report: tuple[Path, Path]) -> None:
    """A real run's calibration.csv, row for row: before stop 25 the section read columns the
    table no longer had, and every target and synthesized value showed as "—"."""
    import pandas as pd

    html = report[0].read_text(encoding="utf-8")
    body = html[html.index('id="calibration"') : html.index('id="method"')]
    rows = re.findall(r"<tr><td>(.*?)</tr>", body)
    table = pd.read_csv(report[0].parent / "calibration.csv", encoding="utf-8-sig")
    assert len(rows) == len(table)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", "<td>" + row) for row in rows]
    assert {c[0] for c in cells} == {"拟合目标", "独立检验"}
    for c, (_, r) in zip(cells, table.iterrows(), strict=True):
        assert c[4] != "—" and c[5] != "—", c  # target and synthesized mean
        assert c[9] == ("是" if r["pass"] else "否")
    assert "规上企业营业收入（亿元）" in body and "宁都县" in body  # 10亿 and more: 亿元


def test_the_calibration_sheet_has_chinese_headers(report: tuple[Path, Path]) -> None:
    """The workbook's 校准 sheet had every header in English (block, target_id, ...)."""
    from openpyxl import load_workbook

    sheet = load_workbook(report[0].parent / "tables.xlsx", read_only=True)["校准"]
    header = next(sheet.iter_rows(max_row=1, values_only=True))
    english = [h for h in header if not re.search(r"[\u4e00-\u9fff]", str(h))]
    assert english == [], english
    values = {str(v) for row in sheet.iter_rows(min_row=2, values_only=True) for v in row}
    assert {"拟合目标", "规上企业数", "是"} <= values


def test_the_clause_sheet_says_its_cash_is_before_the_budget_process(
    report: tuple[Path, Path],
) -> None:
    """With the budget process on, the spending sheet's cash is what the process paid and the
    clause sheet's is what fell due; both were labelled 现金口径（兑付年度）."""
    from openpyxl import load_workbook

    book = load_workbook(report[0].parent / "tables.xlsx", read_only=True)

    def bases(title: str) -> set[str]:
        rows = book[title].iter_rows(values_only=True)
        column = next(rows).index("口径")
        return {str(row[column]) for row in rows}

    assert "现金口径（兑付年度）" in bases("各级财政支出")
    assert "现金口径（兑付年度应付，未计审核与拨款限额）" in bases("分条款支出")


def test_a_county_report_lists_only_its_own_citys_events(
    report: tuple[Path, Path], tmp_path: Path
) -> None:
    """Xunwu's report listed all 109 event processes, Shuozhou's and Shuangyashan's too, then
    (until stop 26) Ganzhou's processes of Rongjiang and of the other counties."""
    import shutil

    folder = shutil.copytree(report[0].parent, tmp_path / "run")  # the module's report stays
    html = report_html(folder, "zh", "xunwu")
    body = html[html.index('id="assumptions"') :]
    processes = set(re.findall(r"（((?:gz|sz|sys)_\w+)）<", body))
    assert processes and not [p for p in processes if p.endswith(("_rest", "_rongjiang"))]
    assert all(p.startswith("gz_") for p in processes), processes
    # an event process is named by the clauses it feeds (it was its id alone)
    assert "GZ-1a 市级数字经济集聚区创建补助（gz_municipal_cluster_target_xunwu）" in body


def test_the_chinese_report_shows_the_notes_in_chinese(report: tuple[Path, Path]) -> None:
    """The assumption, reading and not-costed sections were English in the Chinese report."""
    html = report[0].read_text(encoding="utf-8")
    body = re.sub(r"<[^>]+>", " ", html[html.index('id="assumptions"') : html.index('id="method"')])
    for english in ("the model pays the ceiling", "policy file default", "is written into the"):
        assert english not in body, english
    assert not missing(
        body, "政策文件默认", "就高不重复：同一企业、同一事项、同一年度只按最高一项奖励"
    )
    assert "合成企业群体按" in html  # the scenario's own description_zh under the title
    # and the code's own words: kinds of uncosted clauses, reading names, tolerances, and a
    # document issued without a number (the 文号 cell was blank for RJ and SYS clauses)
    for raw in (">unquantified<", ">non_cash<", ">stacking<", "mean within"):
        assert raw not in html, raw
    assert not missing(
        html, "无法量化", "就高不重复的范围", "均值误差不超过±10%", "赣州蓉江新区文件（无文号）"
    )


def test_clause_award_counts_add_up_over_the_budgets_that_pay(report: tuple[Path, Path]) -> None:
    """A clause's award count is every award of it, as the ledger counts them: GZ-6 is paid by
    about twenty county budgets, and the table showed the largest one's count (1.6 for 7.9)."""
    import pandas as pd

    html = report[0].read_text(encoding="utf-8")
    body = html[html.index('id="clauses"') : html.index("</table>", html.index('id="clauses"'))]
    shown = {
        m[0]: float(m[1].replace(",", ""))
        for m in re.findall(
            r'<tr><td class="name">([A-Z]+-\w+)</td><td>.*?</td><td class="name">.*?</td>'
            r'<td>.*?</td><td class="num">([\d,.]+)</td>',
            body,
        )
    }
    ledger = pd.read_parquet(report[0].parent / "ledger.parquet")
    replicates = ledger["replicate"].nunique()
    counts = ledger.groupby("clause_id", observed=True).size() / replicates
    assert len(shown) >= 10
    several = [c for c in shown if ledger[ledger["clause_id"] == c]["location"].nunique() > 1]
    assert several, "no clause paid in several places among the top clauses"
    for clause, count in shown.items():
        assert count == pytest.approx(counts[clause], rel=0.05, abs=0.06), clause


def test_a_county_report_gives_its_own_budgets_wait(
    report: tuple[Path, Path], tmp_path: Path
) -> None:
    """A county's report showed the wait of every budget together as if it were its own."""
    import json
    import shutil

    folder = shutil.copytree(report[0].parent, tmp_path / "run")
    waits = json.loads((folder / "summary.json").read_text(encoding="utf-8"))["budget_process"][
        "wait_months"
    ]
    own = next(b for b in waits["by_budget"] if b["jurisdiction"] == "xunwu")
    html = report_html(folder, "zh", "xunwu")
    line = re.search(
        r"从考核年度结束到兑付完毕：平均([\d.]+)个月，中位数([\d.]+)个月，95%分位([\d.]+)个月", html
    )
    assert line is not None
    assert [float(x) for x in line.groups()] == [
        round(own[k], 2) for k in ("mean_months", "p50_months", "p95_months")
    ]  # at most two decimals (7.449999999999999 was shown as it is)
    assert all(len(x.partition(".")[2]) <= 2 for x in line.groups())
    whole = report_html(folder, "zh")
    assert f"平均{waits['all']['mean_months']}个月" in whole


def test_a_capped_budget_shows_its_arrears_under_its_cash(tmp_path: Path) -> None:
    """With an appropriation, the headline's cash is what was paid within it: Rongjiang at 300
    a year read 300 every year and the report never showed what stayed unpaid."""
    import pandas as pd

    out = tmp_path / "capped"
    prepared = prepare(SCENARIOS_DIR / "baseline.yaml", replicates=3, batch_replicates=3)
    run_scenario(prepared, out, workers=1, appropriation={"rongjiang": 300.0, "xunwu": 0.0})
    spending = pd.read_csv(out / "spending.csv")
    arrears = spending[(spending["basis"] == "arrears") & (spending["jurisdiction"] == "rongjiang")]
    assert arrears["mean_wan"].max() > 0
    html = report_html(out, "zh", "rongjiang")
    row = re.search(r"赣州蓉江新区（县（区）级）：年末欠付</td>(.*?)</tr>", html, flags=re.S)
    assert row is not None
    shown = re.findall(r'<td class="num">([^<]*)<span', row.group(1))
    last = arrears.sort_values("year")["mean_wan"].iloc[-1]
    assert fmt_amount(last) in shown and "受拨款限额约束的预算" in html
    # the footer's command reproduces the run (it dropped the appropriation)
    assert re.search(
        r"fiscalsim run \S+ --replicates 3 --seed \d+ --process --appropriation rongjiang=300 "
        r"--appropriation xunwu=0<",
        html,
    )
    capped = re.search(r"赣州蓉江新区（县（区）级）</td>(.*?)</tr>", html, flags=re.S)
    assert capped is not None  # its paid total is not the total due: no range beside it
    assert not re.search(r'<span class="band">[^<]*</span></td>\s*$', capped.group(1))
    # a budget that may pay nothing (an appropriation of 0) showed as one without spending
    xunwu = report_html(out, "zh", "xunwu")
    assert "寻乌县（县（区）级）：年末欠付" in xunwu and "无支出：寻乌县" not in xunwu
    plain = report_html(out, "zh")
    assert "章贡区（县（区）级）：年末欠付" not in plain  # an uncapped budget has none


def test_the_workbook_has_the_budget_at_risk(report: tuple[Path, Path]) -> None:
    """What to appropriate per budget and year was in summary.json and the report only: now a
    CSV and a sheet, with Chinese headers, equal to summary.json's rows."""
    import json

    import pandas as pd
    from openpyxl import load_workbook

    folder = report[0].parent
    rows = json.loads((folder / "summary.json").read_text(encoding="utf-8"))["budget_process"][
        "budget_at_risk"
    ]["rows"]
    table = pd.read_csv(folder / "budget_at_risk.csv")
    assert len(table) == len(rows) and table["needed_p95_wan"].sum() == pytest.approx(
        sum(r["p95_wan"] for r in rows)
    )
    sheet = load_workbook(folder / "tables.xlsx", read_only=True)["预算风险（P90与P95）"]
    header = next(sheet.iter_rows(max_row=1, values_only=True))
    assert "95%概率不欠款所需预算（万元）" in header


def test_a_county_report_keeps_its_own_documents_and_city(
    report: tuple[Path, Path], tmp_path: Path
) -> None:
    """Xunwu's report listed Shuozhou's and Shuangyashan's uncosted clauses, readings and
    calibration rows; and `--jurisdiction 寻乌县` was refused though panels take the name."""
    from tests.helpers import run_cli

    folder = shutil.copytree(report[0].parent, tmp_path / "run")
    done = run_cli("report", str(folder), "--jurisdiction", "寻乌县")
    assert done.returncode == 0, done.stderr
    html = (folder / "report.xunwu.html").read_text(encoding="utf-8")
    from fiscalsim.reports.texts import TEXTS

    def part(text: str, start: str) -> str:
        at = text.index(start)
        return text[at : text.index("</table>", at)]

    heading = f"<h3>{TEXTS['zh']['not_costed']}</h3>"
    for body in (part(html, heading), part(html, 'id="readings"'), part(html, 'id="calibration"')):
        assert "朔州" not in body and "双鸭山" not in body, body[:80]
        assert '<td class="name">SZ-' not in body and '<td class="name">SYS-' not in body
    whole = part(report[0].read_text(encoding="utf-8"), heading)
    assert '<td class="name">SZ-' in whole  # the whole report lists every document's


def test_the_budget_process_assumptions_are_listed(report: tuple[Path, Path]) -> None:
    """Filing months, review capacity, approval, payment delay and quotas were in summary.json
    and missing from the report's list of assumptions."""
    html = report[0].read_text(encoding="utf-8")
    body = html[html.index('id="assumptions"') : html.index('id="method"')]
    assert not missing(
        body,
        "预算流程",
        "申报集中在4—7月",
        "每月审结约150件",
        "年度名额：SYS-3",
        "每年补助企业30户",
    )


def test_a_budgets_window_total_has_its_range(report: tuple[Path, Path]) -> None:
    """The 合计 column had means only; a finance bureau budgets the window with a range too.
    The band is the window total's P5–P95 over replicates, from summary.json."""
    import json

    folder = report[0].parent
    spreads = {
        b["jurisdiction"]: b
        for b in json.loads((folder / "summary.json").read_text(encoding="utf-8"))["uncertainty"][
            "budgets"
        ]
    }
    ganzhou = spreads["ganzhou"]
    html = report_html(folder, "zh")
    row = re.search(r"赣州市（市级）</td>(.*?)</tr>", html, flags=re.S)
    assert row is not None
    band = (
        f"{fmt_amount(ganzhou['cash_total_p05_wan'])}–{fmt_amount(ganzhou['cash_total_p95_wan'])}"
    )
    assert row.group(1).rstrip().endswith(f'<span class="band">{band}</span></td>')
