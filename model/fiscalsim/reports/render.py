"""`fiscalsim report`: one self-contained HTML page and a PDF of the same HTML (WeasyPrint).

The HTML carries its CSS and its charts (PNG data URIs) and fetches nothing. The PDF is the same
HTML with one extra stylesheet naming the CJK font file, so Chinese text is embedded in the PDF.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from fiscalsim.errors import InputError
from fiscalsim.output import check_beside, mark_written
from fiscalsim.reports import analyses, assumptions, sections
from fiscalsim.reports.budget_risk import budget_risk_section
from fiscalsim.reports.butfor_section import butfor_section
from fiscalsim.reports.calibration_section import calibration_rows
from fiscalsim.reports.folder import REQUIRED, Folder, load_folder
from fiscalsim.reports.labels import Lang, Names, in_language
from fiscalsim.reports.texts import METHOD, TEXTS


def cjk_font_file() -> Path:
    """The Noto Sans CJK SC font installed with mplfonts (a dependency), used by charts and PDF."""
    import mplfonts

    return Path(mplfonts.__file__).parent / "fonts" / "NotoSansCJKsc-Regular.otf"


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("fiscalsim.reports", "templates"),
        autoescape=select_autoescape(["html", "j2", "css"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _report_date() -> str:
    """Today (UTC), or SOURCE_DATE_EPOCH's date for reproducible builds."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = dt.datetime.fromtimestamp(int(epoch), dt.UTC) if epoch else dt.datetime.now(dt.UTC)
    return moment.strftime("%Y-%m-%d")


def scenario_of(summary: dict[str, Any]) -> dict[str, Any]:
    """summary.json's scenario: a header object (run) or just the scenario's path (sweep, target)."""
    scenario = summary.get("scenario")
    if isinstance(scenario, dict):
        return scenario
    return {"path": str(scenario)} if scenario else {}


def _command(folder: Folder) -> str:
    summary = folder.summary
    if summary.get("command"):
        return str(summary["command"])
    if folder.kind == "run" and summary.get("scenario"):
        command = (
            f"fiscalsim run {scenario_of(summary).get('path', '')} "
            f"--replicates {summary.get('replicates', '')} --seed {summary.get('seed', '')}"
        )
        return command + "".join(_run_options(summary))
    return ""


def _run_options(summary: dict[str, Any]) -> list[str]:
    """The options that change a run's numbers, from what its summary.json records: the
    footer's command dropped them, so two runs with and without an appropriation read alike.
    A yearly appropriation set for all years is written as an option (the same value whether
    the budgets file or the command line gave it); one set year by year is the scenario's."""
    options = [" --readings all"] if summary.get("readings_band") else []
    process = summary.get("budget_process")
    if not isinstance(process, dict):  # said either way: the scenario's default is not recorded
        return [*options, " --no-process"]
    options.append(" --process")
    for name, by_year in sorted((process.get("appropriation_wan") or {}).items()):
        if isinstance(by_year, dict) and "all years" in by_year:
            options.append(f" --appropriation {name}={by_year['all years']:g}")
    return options


def footer(folder: Folder) -> dict[str, Any]:
    summary = folder.summary
    scenario = scenario_of(summary)
    hashes = [f"{scenario.get('name', '')}: {scenario['sha256']}"] if scenario.get("sha256") else []
    for item in summary.get("scenarios", []) or []:
        if item.get("sha256"):
            hashes.append(f"{item.get('name', '')}: {item['sha256']}")
    return {
        "version": summary.get("fiscalsim_version") or summary.get("version") or "",
        "seed": summary.get("seed", ""),
        "replicates": summary.get("replicates", ""),
        "hashes": hashes,
        "command": _command(folder),
        "date": _report_date(),
        "folder": folder.path.name,
    }


def _scenario_file_title(path_text: str, lang: Lang) -> str:
    """The title written in the scenario file (the folder may be read long after the run)."""
    import yaml

    from fiscalsim.paths import REPO_DIR

    for path in (Path(path_text), REPO_DIR / path_text):
        if path_text and path.is_file():
            try:
                raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            except (yaml.YAMLError, OSError, UnicodeDecodeError):
                return ""
            if isinstance(raw, dict):
                return str(
                    raw.get(f"title_{lang}") or raw.get("title") or raw.get("title_zh") or ""
                )
    return ""


def _title(folder: Folder, lang: Lang) -> str:
    summary = folder.summary
    scenario = scenario_of(summary)
    for key in (f"title_{lang}", "title"):
        if summary.get(key):
            return str(summary[key])
        if scenario.get(key):
            return str(scenario[key])
    listed = summary.get("scenarios") or []
    if folder.kind == "compare" and len(listed) > 1:
        titles = [str(s.get("title") or s.get("name")) for s in listed]
        return TEXTS[lang]["comparison_of"].format(
            alternatives="；".join(titles[1:]) if lang == "zh" else "; ".join(titles[1:]),
            base=titles[0],
        )
    from_file = _scenario_file_title(str(scenario.get("path") or ""), lang)
    return from_file or str(scenario.get("name") or folder.path.name)


def _field(folder: Folder, key: str) -> Any:
    """A field of the summary or of its scenario header (`description`, `author`, `sources`)."""
    return folder.summary.get(key) or scenario_of(folder.summary).get(key) or ""


def _check_jurisdiction(folder: Folder, names: Names, jurisdiction: str) -> None:
    """--jurisdiction must be known and have budget lines in the folder's main table."""
    if jurisdiction not in names.registry:
        raise InputError("--jurisdiction", None, f"unknown jurisdiction id {jurisdiction!r}")
    main = REQUIRED[folder.kind]
    if folder.kind == "target" and (folder.target or {}).get("jurisdiction") == jurisdiction:
        return  # the target's own budget: the whole report is about it
    table = folder.table(main.removesuffix(".csv"))
    if table is None or "jurisdiction" not in table.columns:
        own = (folder.target or {}).get("jurisdiction") if folder.kind == "target" else None
        hint = f"; its budget is {own}'s" if own else ""
        raise InputError(
            "--jurisdiction", jurisdiction, f"a {folder.kind} folder has no budget lines{hint}"
        )
    if not (table["jurisdiction"] == jurisdiction).any():
        raise InputError(folder.path / main, None, f"no budget lines for {jurisdiction!r}")


def _not_applied(summary: dict[str, Any], names: Names, texts: dict[str, str]) -> str:
    """The appropriations a compare, sweep, target or butfor did not apply (they were said on
    stderr only, and the report read as cash paid)."""
    ignored = summary.get("appropriations_not_applied") or {}
    if not ignored:
        return ""
    joiner = "、" if names.lang == "zh" else ", "
    items = ("；" if names.lang == "zh" else "; ").join(
        f"{scenario}{'：' if names.lang == 'zh' else ': '}{joiner.join(names.place(p) for p in places)}"
        for scenario, places in ignored.items()
    )
    return texts["not_applied"].format(items=items)


def _own_parts(
    ctx: dict[str, Any], folder: Folder, names: Names, texts: dict[str, str], jurisdiction: str
) -> None:
    """One jurisdiction's report keeps the uncosted clauses, readings and calibration rows of the
    documents and cities over or under it: Xunwu's listed Shuozhou's and Shuangyashan's."""

    def related(place: object) -> bool:
        return assumptions.related_place(names.registry, jurisdiction, place)

    ctx["not_costed"] = [
        row
        for row in ctx["not_costed"]
        if (clause := names.clause(row["clause_id"])) is None or related(clause.jurisdiction)
    ]
    ctx["readings"] = assumptions.reading_rows(folder.summary, names, texts, related)
    calibration = folder.table("calibration")
    if calibration is not None and "city" in calibration.columns:
        own = calibration[[related(city) for city in calibration["city"]]]
        ctx["calibration"] = calibration_rows(own, names, texts)


def context(folder: Folder, lang: Lang, jurisdiction: str | None) -> dict[str, Any]:
    """Everything the template shows, as rows of strings and chart data URIs."""
    names = Names(lang)
    if jurisdiction is not None:
        _check_jurisdiction(folder, names, jurisdiction)
    texts = TEXTS[lang]
    summary = folder.summary
    ctx: dict[str, Any] = {
        "lang": lang,
        "t": texts,
        "method": METHOD[lang],
        "kind": folder.kind,
        "kind_label": texts[f"kind_{folder.kind}"],
        "title": _title(folder, lang),
        "description": in_language(
            {k: _field(folder, k) for k in ("description", "description_zh")}, "description", lang
        ),
        "author": str(_field(folder, "author")),
        "sources": [str(s) for s in _field(folder, "sources") or []],
        "jurisdiction": names.place(jurisdiction) if jurisdiction else "",
        "replicates": summary.get("replicates", ""),
        "headline": None,
        "fans": [],
        "clauses": None,
        "budget_risk": None,
        "compare": None,
        "sweep": None,
        "target": None,
        "butfor": None,
        "assumptions": assumptions.assumption_rows(summary, names, texts),
        "not_costed": [
            {
                "clause_id": str(x.get("clause_id")),
                "title": names.clause_title(x.get("clause_id")),
                "kind": texts.get(f"kind_{x.get('kind')}", str(x.get("kind", ""))),
                "notes": in_language(x, "notes", lang),
            }
            for x in summary.get("not_costed", []) or []
        ],  # fmt: skip
        "readings": assumptions.reading_rows(summary, names, texts),
        "calibration": calibration_rows(folder.table("calibration"), names, texts),
        "footer": footer(folder),
    }
    ctx["not_applied"] = _not_applied(summary, names, texts)
    if jurisdiction is not None:
        _own_parts(ctx, folder, names, texts, jurisdiction)
    if folder.kind == "run":
        spending = sections.select_jurisdiction(folder.tables["spending"], jurisdiction)
        readings = folder.table("readings")
        if readings is not None:
            readings = sections.select_jurisdiction(readings, jurisdiction)
        spreads = {
            str(b.get("jurisdiction")): b
            for b in (summary.get("uncertainty") or {}).get("budgets", [])
        }
        ctx["headline"] = sections.headline(spending, names, texts, readings, spreads)
        ctx["fans"] = sections.fan_figures(spending, names, texts)
        by_clause = folder.table("spending_by_clause")
        ledger_path = folder.path / "ledger.parquet"
        if (
            jurisdiction is not None
            and (by_clause is None or "payer" not in by_clause.columns)
            and ledger_path.exists()
            and summary.get("replicates")
        ):
            import pandas as pd

            by_clause = sections.ledger_clause_frame(
                pd.read_parquet(ledger_path), jurisdiction, int(summary["replicates"])
            )
        if by_clause is not None:
            ctx["clauses"] = sections.clause_rows(by_clause, names, jurisdiction)
        ctx["budget_risk"] = budget_risk_section(summary, names, texts, jurisdiction)
        if jurisdiction is not None:
            paid = set(ctx["clauses"]["ids"]) if ctx["clauses"] else set()
            ctx["assumptions"] = assumptions.assumption_rows(
                summary, names, texts, jurisdiction, paid
            )
    elif folder.kind == "compare":
        ctx["compare"] = analyses.compare_section(folder, names, texts, jurisdiction)
    elif folder.kind == "sweep":
        ctx["sweep"] = analyses.sweep_section(folder, names, texts, jurisdiction)
    elif folder.kind == "butfor":
        ctx["butfor"] = butfor_section(folder, names, texts, jurisdiction)
    else:
        ctx["target"] = analyses.target_section(folder, names, texts)
    return ctx


def render_html(ctx: dict[str, Any]) -> str:
    return _environment().get_template("report.html.j2").render(**ctx)


def write_pdf(html: str, path: Path) -> None:
    try:
        from weasyprint import CSS, HTML
    except OSError as exc:  # WeasyPrint loads pango when imported
        raise InputError(
            path.name,
            None,
            f"PDF needs the pango library ({str(exc).splitlines()[0]}): "
            "run `make system-deps` or apt-get install libpango-1.0-0 libpangoft2-1.0-0",
        ) from None

    font = cjk_font_file().as_uri()
    font_css = CSS(
        string=(
            f'@font-face {{ font-family: "Noto Sans CJK SC"; src: url("{font}"); }}\n'
            'body { font-family: "Noto Sans CJK SC", sans-serif; }'
        )
    )
    HTML(string=html, base_url=str(path.parent)).write_pdf(path, stylesheets=[font_css])


def _write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def report_names(lang: Lang, jurisdiction: str | None) -> tuple[str, str]:
    """report.html / report.pdf for Chinese; report.en.*, report.xunwu.* beside them otherwise."""
    stem = "report" + (f".{jurisdiction}" if jurisdiction else "") + (".en" if lang == "en" else "")
    return f"{stem}.html", f"{stem}.pdf"


def write_report(
    directory: Path, lang: Lang = "zh", jurisdiction: str | None = None, force: bool = False
) -> tuple[Path, Path]:
    """Read the output folder and write the HTML and PDF reports into it (both or neither).

    A report file already there is replaced only if fiscalsim wrote it (the folder's marker
    lists it) or with `force`; the marker then lists the report, so a later run replaces it."""
    folder = load_folder(directory)
    html_name, pdf_name = report_names(lang, jurisdiction)
    check_beside(directory, (html_name, pdf_name), force=force)
    try:
        html = render_html(context(folder, lang, jurisdiction))
    except (KeyError, ValueError, TypeError, AttributeError, IndexError) as error:
        # The tables are checked as they are read (folder.py); what is left is summary.json
        # or a table edited into values no command writes: one line, not a traceback.
        problem = f"{type(error).__name__}: {error}"
        raise InputError(
            directory, None, f"summary.json or a table is not as fiscalsim writes it ({problem})"
        ) from None
    _write_beside(
        directory,
        {
            html_name: lambda path: _write_text(path, html),
            pdf_name: lambda path: write_pdf(html, path),
        },
    )
    mark_written(directory, (html_name, pdf_name))
    return directory / html_name, directory / pdf_name


def _write_beside(directory: Path, writers: dict[str, Callable[[Path], None]]) -> None:
    """Both files into a scratch folder inside DIR, then moved in: a failure leaves no half report.

    Only the report's own files are replaced; the folder's other files are never touched.
    """
    scratch = Path(tempfile.mkdtemp(prefix=".report-", dir=directory))
    try:
        for name, writer in writers.items():
            writer(scratch / name)
        for name in writers:
            os.replace(scratch / name, directory / name)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
