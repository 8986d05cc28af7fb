"""The report's lists of what the numbers rest on: every assumption (clauses, event processes,
the budget process, population, dynamics) and the readings of the texts in force.

Moved out of sections.py, which had grown past 490 lines with the budget process's rows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fiscalsim.reports.labels import Names, confidence, in_language
from fiscalsim.reports.parameters import value_label


def _event_subject(item: dict[str, Any], names: Names) -> str:
    """An event process by the clauses it feeds, in the report's language, then its id:
    "GZ-1a 数字经济集聚区创建奖励（gz_municipal_cluster_target_rest）"."""
    process = str(item.get("process", ""))
    clauses = [f"{c} {names.clause_title(c)}" for c in item.get("clauses") or []]
    if not clauses:
        return process
    return (
        f"{'；'.join(clauses)}（{process}）"
        if names.lang == "zh"
        else (f"{'; '.join(clauses)} ({process})")
    )


PROCESS_PARTS = ("application", "review", "approval", "payment")


def _process_rows(
    summary: dict[str, Any], names: Names, texts: dict[str, str], clause_ids: set[str] | None
) -> list[dict[str, str]]:
    """The budget process's assumptions (filing months, review capacity, approval, payment
    delay, quotas): in summary.json, and missing from the report's list."""
    process = summary.get("budget_process")
    parameters = process.get("parameters") if isinstance(process, dict) else None
    if not isinstance(parameters, dict):
        return []
    rows = []
    defaults = str(parameters.get("defaults_file", ""))
    for part in PROCESS_PARTS:
        note = in_language(parameters, part, names.lang)
        subject = texts.get(f"process_{part}", part)
        rows.append(
            _process_row(texts, subject, note, str(parameters.get(f"{part}_from", defaults)))
        )
    for clause_id, quota in (parameters.get("quotas") or {}).items():
        if clause_ids is not None and clause_id not in clause_ids:
            continue
        note = in_language(quota, "source", names.lang)
        subject = texts["process_quota"].format(
            clause=f"{clause_id} {names.clause_title(clause_id)}", n=quota.get("per_year", "")
        )
        rows.append(_process_row(texts, subject, note, str(quota.get("from", defaults))))
    return rows


def _process_row(texts: dict[str, str], subject: str, note: str, source: str) -> dict[str, str]:
    assumed = note.startswith(("assumption", "假设"))
    return {
        "kind": texts["a_process"],
        "subject": subject,
        "note": note,
        "source": source,
        "confidence": "—" if not assumed else texts["assumed"],
    }


def assumption_rows(
    summary: dict[str, Any],
    names: Names,
    texts: dict[str, str],
    jurisdiction: str | None = None,
    clause_ids: set[str] | None = None,
) -> list[dict[str, str]]:
    """Every assumption summary.json lists, with its source and the confidence it states.

    For one jurisdiction's report: the clauses its budget pays, its own city's events and
    population.
    """
    found = summary.get("assumptions") or {}
    rows: list[dict[str, str]] = []
    registry = names.registry

    def related(place: object) -> bool:
        return related_place(registry, jurisdiction, place)

    for item in found.get("clauses", []):
        if clause_ids is not None and str(item.get("clause_id")) not in clause_ids:
            continue
        clause = names.clause(item.get("clause_id"))
        source = (
            f"{names.document_of(item.get('clause_id'))} {item.get('clause_id')}" if clause else ""
        )
        subject = f"{item.get('clause_id')} {names.clause_title(item.get('clause_id'))}"
        note = in_language(item, "note", names.lang)
        rows.append(
            {"kind": texts["a_clause"], "subject": subject, "note": note, "source": source,
             "confidence": confidence(note)}
        )  # fmt: skip
    for item in found.get("events", []):
        if "city" in item and not related(item["city"]):
            continue  # another city's events (summary.json before stop 25 names no city)
        places = item.get("places") or []  # a county's report: the events in its places
        if jurisdiction is not None and places and not any(related(p) for p in places):
            continue
        source = str(item.get("source", ""))
        rows.append(
            {"kind": texts["a_event"], "subject": _event_subject(item, names),
             "note": in_language(item, "note", names.lang), "source": source,
             "confidence": confidence(source)}
        )  # fmt: skip
    rows += _process_rows(summary, names, texts, clause_ids)
    for item in found.get("population", []):
        if not related(item.get("city")):
            continue
        source = str(item.get("source", ""))
        subject = f"{names.place(item.get('city'))} {item.get('class', '')}"
        rows.append(
            {"kind": texts["a_population"], "subject": subject, "note": "", "source": source,
             "confidence": confidence(source)}
        )  # fmt: skip
    chinese = (found.get("dynamics_zh") or {}) if names.lang == "zh" else {}
    for key, source in (found.get("dynamics") or {}).items():
        rows.append(
            {"kind": texts["a_dynamics"], "subject": texts.get(f"dynamics_{key}", str(key)), "note": "",
             "source": str(chinese.get(key) or source), "confidence": confidence(str(source))}
        )  # fmt: skip
    return rows


READING_SOURCE_ZH = {"policy file default": "政策文件默认", "override": "另行指定"}


def related_place(registry: Any, jurisdiction: str | None, place: object) -> bool:
    """Whether a place belongs in `jurisdiction`'s report: it covers the jurisdiction (its city,
    its province) or the jurisdiction covers it; everything in a whole report."""
    key = str(place)
    if jurisdiction is None or key not in registry:
        return True
    return bool(registry.covers(key, jurisdiction) or registry.covers(jurisdiction, key))


def reading_rows(
    summary: dict[str, Any],
    names: Names,
    texts: dict[str, str] | None = None,
    related: Callable[[object], bool] | None = None,
) -> list[dict[str, str]]:
    """The readings in force per document; with `related`, only the documents issued by a
    place it accepts (one jurisdiction's report)."""
    rows = []
    for document, readings in (summary.get("readings") or {}).items():
        issuer = names.issuer(document)
        if related is not None and issuer is not None and not related(issuer):
            continue
        for reading, detail in (readings or {}).items():
            detail = detail if isinstance(detail, dict) else {"value": detail}
            source = str(detail.get("source") or "")
            if names.lang == "zh":
                source = READING_SOURCE_ZH.get(source, source)
            why = in_language(detail, "why_default", names.lang)
            rows.append(
                {
                    "document": names.document(document),
                    "reading": (texts or {}).get(f"reading_{reading}", str(reading)),
                    "value": value_label(f"readings.{reading}", detail.get("value", ""), names),
                    "meaning": in_language(detail, "meaning", names.lang),
                    "source": " ".join(x for x in (source, why) if x),
                }
            )
    return rows
