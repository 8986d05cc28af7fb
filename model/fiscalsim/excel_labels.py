"""What the workbook's sheets, headers and codes are called in Chinese (excel.py writes them).

A finance bureau reads the workbook, not the CSVs: every table's columns and codes have their
Chinese names here, in one place.
"""

from __future__ import annotations

from collections.abc import Callable

from fiscalsim.population.calibration_report import tolerance_zh
from fiscalsim.responses_schema import RESPONSE_PARAMETERS_ZH, RESPONSES_ZH
from fiscalsim.rules.readings import READING_NAMES_ZH, READING_VALUES_ZH

SHEETS_ZH = {
    "spending": "各级财政支出",
    "spending_by_clause": "分条款支出",
    "cumulative": "文件期内累计（责任口径）",
    "population": "企业群体",
    "first_crossings": "首次跨档",
    "calibration": "校准",
    "readings": "不同解读",
    "readings_totals": "不同解读（各年合计）",
    "ledger": "奖励明细",
    "ledger_replicate_0": "奖励明细（第0次模拟）",
    "dropped": "未支付的候选奖励",
    "differences": "情景差异",
    "differences_by_clause": "分条款情景差异",
    "sweep": "参数扫描",
    "curve": "目标求解曲线",
    "cashflow": "分月现金流",
    "budget_at_risk": "预算风险（P90与P95）",
    "rejected": "未获批准的申请",
    "readings_influence": "各解读的影响",
    "butfor": "政策效果（有无奖励对照）",
    "elasticities": "行为反应参数",
    "sensitivity": "行为反应参数敏感性",
    "target": "目标求解结果",
    "about": "说明",
}

# Columns holding a jurisdiction id: the id stays (codes join tables), its name goes beside it.
JURISDICTION_COLUMNS = {
    "jurisdiction": "地区",
    "payer": "支付地区",
    "document_jurisdiction": "发文地区",
    "city": "城市",
    "location": "企业所在地",
    "province_payer": "省级支付主体",
    "city_payer": "市级支付主体",
    "county_payer": "县（区）级支付主体",
}

HEADERS_ZH = {
    "payer_level": "预算级次",
    "year": "年度",
    "basis": "口径",
    "scenario": "情景",
    "param": "参数",
    "value": "取值",
    "param2": "参数2",
    "value2": "取值2",
    "clause_id": "条款编号",
    "document": "文件",
    "document_number": "文号",
    "performance_years": "考核年度范围",
    "performance_year": "考核年度",
    "payment_year": "兑付年度",
    "industry_class": "行业类别",
    "threshold_wan": "营业收入门槛（万元）",
    "replicate": "模拟序号",
    "firm_id": "企业编号",
    "amount_wan": "奖励金额（万元）",
    "province_wan": "省级承担（万元）",
    "city_wan": "市级承担（万元）",
    "county_wan": "县（区）级承担（万元）",
    "share_of_expenditure_mean": "占一般公共预算支出比例（均值）",
    "expenditure_basis": "支出基数来源",
    "readings_low_wan": "各种解读下最低均值（万元）",
    "readings_high_wan": "各种解读下最高均值（万元）",
    "readings": "解读组合",
    "target_firms": "目标企业数",
    "target_above_scale_share": "目标规上占比",
    "synthesized_firms_mean": "合成企业数均值",
    "synthesized_above_scale_mean": "合成规上企业数均值",
    "model_share_above_scale": "模型规上占比",
    "model_share_large": "模型大型企业占比",
    "log_mean": "对数均值",
    "log_sd": "对数标准差",
    "tail_alpha": "尾部指数",
    "source": "来源",
    "cost_wan": "成本（万元）",
    "reason": "原因",
    "row": "行",
    "month": "月份",
    # calibration.csv: each published figure against the synthesized start population
    "block": "用途",
    "target_id": "目标编号",
    "places": "所含县（区）",
    "metric": "指标",
    "kind": "检验方式",
    "used_in_fit": "用于拟合",
    "target": "目标值",
    "synthesized_mean": "模拟均值",
    "synthesized_p5": "模拟P5",
    "synthesized_p95": "模拟P95",
    "error_share": "相对误差",
    "tolerance": "容许范围",
    "pass": "是否通过",
    "confidence": "置信度",
    "note": "说明",
    # the calculator's ledger and dropped rows; target's curve
    "recipient": "受奖主体",
    "matter": "事项代码（就高不重复）",
    "matter_title": "事项（就高不重复）",
    "paid_instead": "改付条款",
    "cost_at_quantile_wan": "所求分位数成本（万元）",
    # budget_at_risk.csv: the appropriation that keeps arrears at zero
    "appropriation_wan": "已安排预算（万元）",
    "need_mean_wan": "当年需兑付（含结转欠款，均值，万元）",
    "needed_p90_wan": "90%概率不欠款所需预算（万元）",
    "needed_p95_wan": "95%概率不欠款所需预算（万元）",
    "probability_no_arrears": "年末不欠款的概率",
    # rejected.csv: applications the budget process turned down
    "filed_year": "申报年度",
    "filed_month": "申报月份",
    "filing_order": "申报时点（年×12+月，用于排序）",
    "decided_year": "审核决定年度",
    "decided_month": "审核决定月份",
    # the readings band's influence: per budget, cash over all years
    "most_influential_reading": "影响最大的解读",
    # butfor's responses
    "response": "行为反应",
    "parameter": "参数",
    "unit": "单位（英文）",
    "unit_zh": "单位",
    "assumption": "是否为假设",
    "source_zh": "来源（中文）",
    # target.json, as a sheet
    "answer": "求得取值",
    "base_value": "现行取值",
    "quantile": "所求分位数",
    "ceiling_wan": "预算上限（万元）",
    "converged": "是否收敛",
    "evaluations": "试算次数",
    "bracket": "搜索区间",
    "clause_title": "条款名称",
    "unit_level": "层级",
    "param_label": "参数含义",
    "param2_label": "参数2含义",
    "scenario_title": "情景名称",
    # the 说明 sheet
    "item": "项目",
    "content": "内容",
}

# Summary columns are <metric>_<stat>: the two halves are translated separately.
METRICS_ZH = {
    "": "",
    "awards": "奖励笔数",
    "firms": "企业数",
    "revenue_wan": "营业收入",
    "above_scale_firms": "规上企业数",
    "first_crossings": "首次跨档企业数",
    "diff": "与基准之差",
    # butfor
    "spending": "支出",
    "windfall": "无效支出",
    "windfall_share": "无效支出占比",
    "induced_crossings": "诱发达标数",
    "induced_firms": "诱发企业数（期末存续）",
    "induced_revenue": "诱发营业收入",
    "cost_per_induced_crossing": "每个诱发达标的成本",
    "cost_per_induced_firm": "每家诱发企业的成本",
}
STATS_ZH = {
    "mean": "均值",
    "p05": "P5",
    "p25": "P25",
    "p50": "中位数",
    "p75": "P75",
    "p95": "P95",
}
VALUES_ZH = {
    "basis": {
        "obligation": "责任口径（考核年度）",
        "cash": "现金口径（兑付年度）",
        "arrears": "欠款（年末已批准未兑付）",
    },
    "year": {"total": "合计", "window": "测算期合计"},
    "block": {"fitted": "拟合目标", "validation": "独立检验"},
    "metric": {
        "firms": "企业数",
        "above_scale_firms": "规上企业数",
        "large_firms": "大型企业数",
        "revenue_wan": "营业收入（万元）",
        "above_scale_revenue_wan": "规上企业营业收入（万元）",
        "max_firm_wan": "单家企业最高营业收入（万元）",
    },
    "kind": {
        "count": "计数",
        "total": "总量",
        "target": "目标",
        "upper_bound": "上限（每家）",
        "upper_limit": "上限（P95）",
    },
    "used_in_fit": {"True": "是", "False": "否"},
    "pass": {"True": "是", "False": "否"},
    "reason": {
        "stacked": "就高不重复",
        "quota": "超出名额",
        "already_paid": "已兑付过",
        "not approved": "审核未通过",
    },
    "recipient": {
        "firm": "企业",
        "fund": "基金",
        "cluster_operator": "集群运营机构",
        "project_owner": "项目单位",
        "event_organiser": "活动主办方",
        "person": "个人",
        "training_base": "培训基地",
        "local_government": "地方政府",
        "core_team": "核心团队",
    },
    # 《数字经济及其核心产业统计分类（2021）》 (国家统计局), the classes the documents name
    # (data/documents/clauses.md, "Firm classes")
    "industry_class": {
        "01": "01 数字产品制造业",
        "02": "02 数字产品服务业",
        "03": "03 数字技术应用业",
        "04": "04 数字要素驱动业",
        "05": "05 数字化效率提升业",
        "all": "全部",
    },
    "confidence": {"H": "高（H）", "M": "中（M）", "L": "低（L）"},
    "response": RESPONSES_ZH,
    "param": {key: f"{name}（{key}）" for key, name in RESPONSE_PARAMETERS_ZH.items()},
    "assumption": {"yes": "是", "no": "否", "True": "是", "False": "否"},
    "converged": {"True": "是", "False": "否"},
    "payer_level": {"province": "省级", "city": "市级", "county": "县（区）级", "all": "全部"},
    # a budget with no appropriation is not capped (the cell was blank)
    "appropriation_wan": {"nan": "不限（未设拨款限额）", "None": "不限（未设拨款限额）"},
}


# The readings band's columns: each reading and its choices by their Chinese names, the id
# beside them (the id is what --reading and readings.csv use).
READING_VALUES = {
    key: {value: f"{name}（{value}）" for value, name in choices.items()}
    for key, choices in READING_VALUES_ZH.items()
}
READING_VALUES["most_influential_reading"] = {
    **{key: f"{name}（{key}）" for key, name in READING_NAMES_ZH.items()},
    "": "无（各解读结果相同）",
    "nan": "无（各解读结果相同）",
}

# Values that read differently in one sheet: the clause tables' cash is what falls due by
# payment year (obligation and lag), before the budget process's reviews and appropriations,
# which only the spending sheet's cash takes in; so is the cash of compare, sweep, target and
# butfor, which never apply a scenario's appropriations (they said so on the terminal only, and
# their sheets read like run's capped cash).
CASH_BEFORE_PROCESS = "现金口径（兑付年度应付，未计审核与拨款限额）"
SHEET_VALUES_ZH = {
    sheet: {"basis": {**VALUES_ZH["basis"], "cash": CASH_BEFORE_PROCESS}}
    for sheet in (
        "spending_by_clause",
        "differences",
        "differences_by_clause",
        "sweep",
        "curve",
        "butfor",
        "sensitivity",
        "target",
        "readings",  # the readings band runs without the budget process too
        "readings_totals",
    )
}


# Columns that mean something else in one sheet: an award's `jurisdiction` is the government
# that issued its document (a Xunwu firm's GZ-2c award reads 赣州市, though Xunwu pays half),
# and the document totals' `jurisdiction` is the budget that pays.
SHEET_COLUMNS = {
    **{
        sheet: {"jurisdiction": "document_jurisdiction"}
        for sheet in ("ledger", "ledger_replicate_0", "dropped")
    },
    "cumulative": {"jurisdiction": "payer"},
}

# The workbook's first sheet, 说明: what the workbook holds, per command (summary.json's kind).
KIND_ZH = {
    "run": "情景测算：各级财政每年需安排的奖补资金",
    "compare": "情景比较：同一批模拟企业在不同政策下的支出及其差异",
    "sweep": "参数扫描：同一批模拟企业在参数各取值下的支出",
    "target": "目标求解：使支出不超过预算上限的参数取值",
    "butfor": "政策效果：奖补资金中有多少支付给了没有政策也会发生的达标",
    "awards": "奖励计算：按政策条款逐户计算企业面板的奖励",
}
ABOUT_TEXTS_ZH = {
    "units": "金额单位为万元。",
    "statistics": "“均值”为各次蒙特卡洛模拟结果的平均；P5、P25、中位数、P75、P95为各次模拟之间的分位数，"
    "反映企业增长、进入退出与事件发生的随机性，不含政策文本的不同解读（以 --readings all 运行时另列）。",
    "bases": "责任口径按考核年度计；现金口径按兑付年度计。",
    "arrears": "欠款为年末已批准、已到期而未兑付的累计金额。",
    "cash_before_process": "本工作簿的现金口径为兑付年度应付金额，未计审核与拨款限额（情景设定的拨款限额在此不适用）。",
    "few_replicates": "模拟次数为{replicates}次，少于1000次：区间（P5–P95）的抽样误差较大，仅供试算；编制预算请用1000次模拟。",
    "awards": "按所给企业面板逐户、逐条款计算，不含随机模拟；每笔奖励的依据见 explanations.jsonl。",
    "sum_rows": "年度为“合计”或“测算期合计”的行、地区、预算级次或行业类别为“全部”的行，以及企业群体表中城市的行，"
    "是各年或各项的合计：其均值是各项均值之和，其分位数（P5、中位数、P95等）与比例是合计本身在各次模拟间的分位数与比例，"
    "不是各项分位数之和。筛选后求和时，请勿把这些行与分项重复相加。",
}

# Values translated by a rule rather than a table.
VALUE_RULES: dict[str, Callable[[str], str]] = {"tolerance": tolerance_zh}

# 企业群体: whether a row is one county-level unit or a city's sum of them
UNIT_LEVELS_ZH = {"county": "县（区）", "city": "市（各县区合计）", "province": "省（合计）"}
