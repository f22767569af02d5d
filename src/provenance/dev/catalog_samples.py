"""Realistic metadata documents and entity profiles, in Chinese and English, for the demo, the tests and the bench.

Everything is deterministic from a seed (an int or a ``random.Random``): the same seed gives the same document on
every machine, so a bench run and a test can name what they registered. The vocabulary is that of a data exchange
of the Yangtze River Delta: the boards of the action plan (provenance.core.catalog.BOARDS), enterprise names such
as 上海临港数据科技有限公司, GB/T 2260 region codes, unified social credit codes whose GB 11714 organisation code
and GB 32100 check characters are right, and ODRL policies that permit only what the given rights cover.
"""

from __future__ import annotations

import random
from typing import Any, Literal

from provenance.core.catalog import BOARDS, credit_code_check_char
from provenance.types import Rights

Lang = Literal["zh", "en", "both"]

# (GB/T 2260 code, district in Chinese, city prefix in Chinese, city in English, district in English)
REGIONS: tuple[tuple[str, str, str, str, str], ...] = (
    ("310115", "浦东新区", "上海", "Shanghai", "Pudong New Area"),
    ("310101", "黄浦区", "上海", "Shanghai", "Huangpu"),
    ("310104", "徐汇区", "上海", "Shanghai", "Xuhui"),
    ("310105", "长宁区", "上海", "Shanghai", "Changning"),
    ("310112", "闵行区", "上海", "Shanghai", "Minhang"),
    ("310114", "嘉定区", "上海", "Shanghai", "Jiading"),
    ("310118", "青浦区", "上海", "Shanghai", "Qingpu"),
    ("320505", "虎丘区", "苏州", "Suzhou", "Huqiu"),
    ("320506", "吴中区", "苏州", "Suzhou", "Wuzhong"),
    ("320106", "鼓楼区", "南京", "Nanjing", "Gulou"),
    ("320214", "新吴区", "无锡", "Wuxi", "Xinwu"),
    ("330106", "西湖区", "杭州", "Hangzhou", "Xihu"),
    ("330108", "滨江区", "杭州", "Hangzhou", "Binjiang"),
    ("330206", "北仑区", "宁波", "Ningbo", "Beilun"),
    ("340104", "蜀山区", "合肥", "Hefei", "Shushan"),
    ("110105", "朝阳区", "北京", "Beijing", "Chaoyang"),
    ("440305", "南山区", "深圳", "Shenzhen", "Nanshan"),
)

# Trade names (字号) and their romanised forms.
_TRADE_NAMES = (("临港", "Lingang"), ("浦江", "Pujiang"), ("申城", "Shencheng"), ("长江", "Changjiang"),
                ("东海", "Donghai"), ("洋山", "Yangshan"), ("外滩", "Waitan"), ("张江", "Zhangjiang"),
                ("虹桥", "Hongqiao"), ("金桥", "Jinqiao"), ("太湖", "Taihu"), ("钱塘", "Qiantang"),
                ("姑苏", "Gusu"), ("金陵", "Jinling"), ("甬江", "Yongjiang"), ("江淮", "Jianghuai"),
                ("华东", "Huadong"), ("启明", "Qiming"), ("星海", "Xinghai"), ("云图", "Yuntu"),
                ("数联", "Shulian"), ("智链", "Zhilian"), ("恒信", "Hengxin"), ("瀚海", "Hanhai"))
_INDUSTRIES = (("数据科技", "Data Technology"), ("信息技术", "Information Technology"),
               ("智能科技", "Intelligent Technology"),
               ("物流", "Logistics"), ("航运", "Shipping"), ("供应链管理", "Supply Chain Management"),
               ("金融信息服务", "Financial Information Services"), ("征信", "Credit Reference"),
               ("医疗科技", "Medical Technology"), ("能源科技", "Energy Technology"),
               ("通信技术", "Communication Technology"),
               ("智能制造", "Intelligent Manufacturing"), ("交通科技", "Transport Technology"))
_FORMS = (("有限公司", "Co., Ltd."), ("股份有限公司", "Corporation"), ("集团有限公司", "Group Co., Ltd."))
_PUBLIC_BODIES = (("大数据中心", "Big Data Center"),
                  ("交通运输委员会信息中心", "Transport Commission Information Center"),
                  ("港航事业发展中心", "Port and Shipping Development Center"),
                  ("卫生健康信息中心", "Health Information Center"),
                  ("公共数据开放平台", "Public Data Platform"), ("统计局数据管理中心", "Statistics Bureau Data Center"))
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
_SURNAMES_EN = ("Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun", "Ma", "Zhu",
                "Hu", "Guo", "He", "Lin", "Luo", "Gao")

# Per board: subjects (zh, en, keywords zh, keywords en).
_SUBJECTS: dict[str, tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...]] = {
    "international": (("跨境贸易结算", "cross-border trade settlement", ("跨境", "结算"),
                       ("cross-border", "settlement")),
                      ("进出口报关", "import and export declarations", ("报关", "进出口"),
                       ("customs", "import-export"))),
    "finance": (("中小企业融资", "SME financing", ("融资", "中小企业"), ("financing", "SME")),
                ("债券市场交易", "bond market trading", ("债券", "交易"), ("bonds", "trading"))),
    "shipping": (("港口集装箱吞吐量", "container throughput", ("集装箱", "港口"), ("container", "port")),
                 ("船舶靠泊动态", "vessel berthing", ("船舶", "靠泊"), ("vessel", "berthing")),
                 ("航运运价", "shipping freight rates", ("运价", "航运"), ("freight", "shipping"))),
    "trade-logistics": (("冷链物流温控", "cold chain temperature", ("冷链", "物流"), ("cold chain", "logistics")),
                        ("仓储库存周转", "warehouse inventory turnover", ("仓储", "库存"), ("warehouse", "inventory"))),
    "science-technology": (("专利技术转移", "patent technology transfer", ("专利", "技术转移"),
                            ("patent", "technology")),
                           ("科研仪器共享", "shared research instruments", ("科研", "仪器"),
                            ("research", "instruments"))),
    "manufacturing": (("工业设备运行", "industrial equipment operation", ("工业互联网", "设备"), ("IIoT", "equipment")),
                      ("汽车零部件质量", "auto parts quality", ("汽车", "质量"), ("automotive", "quality"))),
    "communications": (("基站覆盖质量", "cell site coverage", ("基站", "信号"), ("cell site", "coverage")),
                       ("宽带网络流量", "broadband traffic", ("宽带", "流量"), ("broadband", "traffic"))),
    "medical": (("医疗机构门诊量", "hospital outpatient volume", ("门诊", "医院"), ("outpatient", "hospital")),
                ("药品流通追溯", "drug distribution traceability", ("药品", "追溯"), ("drugs", "traceability"))),
    "transportation": (("城市道路拥堵", "urban road congestion", ("拥堵", "道路"), ("congestion", "traffic")),
                       ("公共交通客流", "public transit ridership", ("公交", "地铁"), ("transit", "ridership"))),
    "energy": (("电力负荷", "electricity load", ("电力", "负荷"), ("power", "load")),
               ("新能源汽车充电", "EV charging", ("充电桩", "新能源"), ("EV charging", "new energy"))),
    "credit": (("企业信用评价", "enterprise credit rating", ("信用", "评价"), ("credit", "rating")),
               ("供应链金融风控", "supply chain finance risk", ("风控", "供应链金融"),
                ("risk", "supply chain finance"))),
    "yangtze-delta": (("长三角一体化产业", "Yangtze Delta integrated industry", ("长三角", "产业"),
                       ("Yangtze Delta", "industry")),),
    "digital-assets": (("数据资产估值", "data asset valuation", ("数据资产", "估值"), ("data assets", "valuation")),),
}
_AREAS = (("长三角", "Yangtze Delta", "长三角地区"), ("上海市", "Shanghai", "上海市"),
          ("浦东新区", "Pudong", "上海市浦东新区"),
          ("江苏省", "Jiangsu", "江苏省"), ("浙江省", "Zhejiang", "浙江省"), ("安徽省", "Anhui", "安徽省"),
          ("全国", "China", "中华人民共和国"))
_SUFFIXES = {"product": (("指数", "index"), ("月度分析报告", "monthly analysis report"),
                         ("预测模型服务", "forecasting service"), ("画像标签", "profile tags")),
             "resource": (("原始数据", "raw data"), ("明细数据集", "detailed dataset"),
                          ("采集记录", "collected records")),
             "asset": (("数据资产包", "data asset package"), ("数据资产", "data asset"))}
_PERIODICITY = ("continuous", "daily", "weekly", "monthly", "quarterly", "annual", "irregular")
_PERIOD_EN = {"continuous": "continuously", "daily": "daily", "weekly": "weekly", "monthly": "monthly",
              "quarterly": "quarterly", "annual": "yearly", "irregular": "irregularly"}
_PERIOD_ZH = {"continuous": "实时", "daily": "每日", "weekly": "每周", "monthly": "每月", "quarterly": "每季度",
              "annual": "每年", "irregular": "不定期"}
_DEPARTMENTS = (("数据产品部", "Data Products"), ("数据运营中心", "Data Operations"), ("市场合作部", "Partnerships"))
_FILES = (("CSV", "text/csv"), ("Parquet", "application/vnd.apache.parquet"), ("JSON", "application/json"),
          ("XLSX", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
_RIGHT_ACTIONS = {Rights.HOLDING: ("use", "read", "reproduce", "display"),
                  Rights.PROCESSING: ("derive", "aggregate", "anonymize", "transform", "annotate"),
                  Rights.OPERATION: ("distribute", "sell", "transfer", "grantUse")}


def _rng(seed: random.Random | int | str) -> random.Random:
    return seed if isinstance(seed, random.Random) else random.Random(seed)


def _text(zh: str, en: str, lang: Lang) -> dict[str, str]:
    return {"zh": zh} if lang == "zh" else {"en": en} if lang == "en" else {"zh": zh, "en": en}


# ---------------------------------------------------------------------- identifiers

_ORG_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def organisation_code_check(first8: str) -> str:
    """The GB 11714-1997 check character of an organisation code (its 9th character); letters count 10 to 35."""
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(first8, _ORG_WEIGHTS, strict=True))
    c9 = 11 - total % 11
    return "X" if c9 == 10 else "0" if c9 == 11 else str(c9)


def credit_code(seed: random.Random | int | str, *, region: str = "310115", kind: str = "enterprise") -> str:
    """A unified social credit code (GB 32100-2015) of the form codes issued since 2015 take: registration
    authority and category (91 an enterprise at market regulation, 12 a public institution, 11 a state organ),
    the region, an organisation code ``MA`` + 6 characters + its GB 11714 check, and the GB 32100 check."""
    rng = _rng(seed)
    prefix = "91" if kind == "enterprise" else rng.choice(("11", "12"))
    body = "MA" + "".join(rng.choice(_ORG_CHARS) for _ in range(6))
    first17 = prefix + region + body + organisation_code_check(body)
    return first17 + credit_code_check_char(first17)


# ---------------------------------------------------------------------- entity profiles


def entity_profile(seed: random.Random | int | str, *, kind: str = "enterprise", lang: Lang = "both") -> dict[str, Any]:
    """A profile of an ``enterprise``, a ``public-body`` or an ``individual`` (no credit code)."""
    rng = _rng(seed)
    code, district, city, city_en, district_en = rng.choice(REGIONS)
    if kind == "individual":
        surname = rng.randrange(len(_SURNAMES))
        zh = _SURNAMES[surname] + "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2))))
        return {"name": _text(zh, f"{_SURNAMES_EN[surname]} (individual)", lang), "kind": kind, "region": code}
    if kind == "public-body":
        body_zh, body_en = rng.choice(_PUBLIC_BODIES)
        name = _text(f"{city}市{district}{body_zh}", f"{city_en} {district_en} {body_en}", lang)
    elif kind == "enterprise":
        trade, trade_en = rng.choice(_TRADE_NAMES)
        industry, industry_en = rng.choice(_INDUSTRIES)
        form, form_en = rng.choice(_FORMS)
        name = _text(f"{city}{trade}{industry}{form}", f"{city_en} {trade_en} {industry_en} {form_en}", lang)
    else:
        raise ValueError(f"unknown entity kind {kind!r}")
    return {"name": name, "kind": kind, "creditCode": credit_code(rng, region=code, kind=kind), "region": code}


# ---------------------------------------------------------------------- metadata documents


def policy(seed: random.Random | int | str, *, rights: Rights, uid: str) -> dict[str, Any]:
    """An ODRL 2.2 offer permitting one to three actions of each right held, and nothing beyond them."""
    rng = _rng(seed)
    held = [r for r in (Rights.HOLDING, Rights.PROCESSING, Rights.OPERATION) if r & rights]
    if not held:
        raise ValueError("a policy needs at least one right to permit anything")
    permission: list[dict[str, Any]] = []
    for right in held:
        for action in rng.sample(_RIGHT_ACTIONS[right], rng.randint(1, 2)):
            rule: dict[str, Any] = {"action": action}
            if rng.random() < 0.3:
                rule["constraint"] = [{"leftOperand": "dateTime", "operator": "lteq",
                                       "rightOperand": f"{rng.randint(2026, 2029)}-12-31"}]
            if right == Rights.OPERATION and rng.random() < 0.5:
                rule["duty"] = [{"action": "attribute"}]
            permission.append(rule)
    out: dict[str, Any] = {"@context": "http://www.w3.org/ns/odrl.jsonld", "@type": "Offer", "uid": uid,
                           "permission": permission}
    if not rights & Rights.OPERATION:
        out["prohibition"] = [{"action": "distribute"}]
    return out


def metadata_document(seed: random.Random | int | str, *, publisher: int, kind: str = "product",
                      rights: Rights = Rights.HOLDING, lang: Lang = "both",
                      board: str | None = None) -> dict[str, Any]:
    """A metadata document for a record of ``kind`` (resource, product, asset) owned by entity ``publisher``,
    whose policy permits only what ``rights`` cover; in Chinese, English or both."""
    rng = _rng(seed)
    first = board or rng.choice(BOARDS).code
    subject_zh, subject_en, kw_zh, kw_en = rng.choice(_SUBJECTS[first])
    area_zh, area_en, spatial = rng.choice(_AREAS)
    suffix_zh, suffix_en = rng.choice(_SUFFIXES.get(kind, _SUFFIXES["product"]))
    periodicity = rng.choice(_PERIODICITY)
    title = _text(f"{area_zh}{subject_zh}{suffix_zh}", f"{area_en} {subject_en} {suffix_en}", lang)
    start_year = rng.randint(2018, 2025)
    start = f"{start_year}-{rng.randint(1, 12):02d}-01"
    end = f"{rng.randint(start_year + 1, 2026)}-{rng.randint(1, 12):02d}-28"
    description = _text(
        f"{_PERIOD_ZH[periodicity]}更新的{area_zh}{subject_zh}{suffix_zh}，覆盖{start[:4]}年至{end[:4]}年，"
        f"数据来源经交易所合规评估，不含个人信息，可用于行业研究与经营决策。",
        f"The {area_en} {subject_en} {suffix_en}, updated {_PERIOD_EN[periodicity]}, covering {start[:4]} to "
        f"{end[:4]}; its sources passed the exchange's compliance assessment and it holds no personal "
        "information.", lang)
    themes = [first]
    if rng.random() < 0.4:
        themes.append(rng.choice([b.code for b in BOARDS if b.code != first]))
    pool = ([*kw_zh] if lang != "en" else []) + ([*kw_en] if lang != "zh" else []) + \
        ([area_zh] if lang != "en" else [area_en])
    pool = list(dict.fromkeys(pool))  # an area may also be a subject's keyword; keywords are unique
    keywords = rng.sample(pool, rng.randint(1, min(5, len(pool))))
    distributions: list[dict[str, Any]] = []
    for _ in range(rng.randint(1, 3)):
        delivery = rng.choice(("file", "file", "api", "privacy-computing"))
        if delivery == "file":
            fmt, media = rng.choice(_FILES)
            distributions.append({"title": _text(f"{fmt} 文件", f"{fmt} file", lang), "format": fmt,
                                  "mediaType": media, "byteSize": rng.randint(10_000, 5_000_000_000),
                                  "delivery": "file"})
        elif delivery == "api":
            distributions.append({"title": _text("数据接口", "Query API", lang), "format": "REST",
                                  "mediaType": "application/json", "delivery": "api"})
        else:
            distributions.append({"title": _text("隐私计算节点", "Privacy computing node", lang),
                                  "delivery": "privacy-computing"})
    dept_zh, dept_en = rng.choice(_DEPARTMENTS)
    uid = f"urn:provenance:policy:{rng.getrandbits(64):016x}"
    return {"title": title, "description": description, "publisher": publisher, "keywords": keywords,
            "themes": themes, "spatial": spatial, "temporal": {"start": start, "end": end},
            "accrualPeriodicity": periodicity, "distributions": distributions,
            "policy": policy(rng, rights=rights, uid=uid),
            "contactPoint": {"name": dept_zh if lang != "en" else dept_en,
                             "email": f"data{rng.randint(1, 999)}@example.cn",
                             "telephone": f"+86 21 {rng.randint(5000, 6999)} {rng.randint(1000, 9999)}"}}
