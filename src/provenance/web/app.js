// The node's explorer, catalogue and verify page: plain JavaScript, no build step, no library, talks only to
// this node's API. Merchants write the titles shown here, so data only ever enters the page as text (el(), svgEl(),
// textContent), never as HTML.
"use strict";

const API = "/api/v1";
const view = document.getElementById("view");
const HASH = /^0x[0-9a-fA-F]{64}$/;

function token() { return sessionStorage.getItem("provenance-token") || ""; }

function api(path, options = {}) { return ask(API + path, options); }
async function ask(url, options = {}) {
  // A read the page's first script already asked for (index.html) is taken from there, once.
  const early = Object.keys(options).length === 0 && window.provenanceEarly ? window.provenanceEarly(url, token()) : undefined;
  let res = early && await early;
  if (!res) {
    const headers = Object.assign({ "Accept": "application/json" }, options.headers || {});
    if (token()) headers["Authorization"] = "Bearer " + token();
    const answer = await fetch(url, Object.assign({}, options, { headers }));
    res = { ok: answer.ok, status: answer.status, text: await answer.text() };
  }
  const text = res.text;
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch (e) { body = { detail: text }; }
  if (!res.ok) {
    const err = new Error((body && (body.detail || body.title)) || ("HTTP " + res.status));
    err.status = res.status; err.problem = body;
    throw err;
  }
  return body;
}
// The footer needs /federation when a page opens, and other pages may: ask once a second at most.
let federationAsked = null;
function federationInfo() {
  if (!federationAsked || Date.now() - federationAsked.at > 1000) {
    const promise = api("/federation");
    federationAsked = { at: Date.now(), promise };
    promise.catch(() => { federationAsked = null; });
  }
  return federationAsked.promise;
}
// A route this node does not serve (an older node, or one without the catalogue): the node's problem handler
// answers "no such endpoint", a bare FastAPI app "Not Found".
function missingRoute(e) {
  const detail = (e && e.problem && e.problem.detail) || "";
  return e && (e.status === 404 || e.status === 405) && (detail === "Not Found" || detail.startsWith("no such endpoint"));
}

// --- the users' words, English and Chinese (DOMAIN.md)
let lang = localStorage.getItem("provenance-lang") || ((navigator.language || "").toLowerCase().startsWith("zh") ? "zh" : "en");
const ZH = () => lang === "zh";
const WORDS = {
  kind: { resource: ["Resource", "数据资源"], product: ["Product", "数据产品"], asset: ["Asset", "数据资产"] },
  grade: { general: ["general", "一般数据"], important: ["important", "重要数据"], core: ["core", "核心数据"] },
  rights: { holding: ["holding", "数据资源持有权"], processing: ["processing and use", "数据加工使用权"], operation: ["operation", "数据产品经营权"] },
  source: { public: ["public", "公共数据"], enterprise: ["enterprise", "企业数据"], personal: ["personal", "个人数据"] },
  status: { active: ["active", "有效"], suspended: ["suspended", "已暂停"], revoked: ["revoked", "已撤销"], superseded: ["superseded", "已被替代"] },
  board: { international: ["International", "国际板"], finance: ["Finance", "金融"], shipping: ["Shipping", "航运"],
    "trade-logistics": ["Trade and logistics", "贸易物流"], "science-technology": ["Science and technology", "科技"],
    manufacturing: ["Manufacturing", "制造"], communications: ["Communications", "通信"], medical: ["Medical", "医疗"],
    transportation: ["Transportation", "交通"], energy: ["Energy", "能源"], credit: ["Credit", "征信"],
    "yangtze-delta": ["Yangtze River Delta", "长三角板"], "digital-assets": ["Digital assets", "数字资产板"] },
  role: { supplier: ["supplier", "数据供给方"], demander: ["demander", "数据需求方"], "service-provider": ["service provider", "第三方专业服务机构"] },
  entityKind: { enterprise: ["enterprise", "企业"], "public-body": ["public body", "公共机构"], individual: ["individual", "个人"] },
  metadata: { supplied: ["supplied", "已提供"], "not-supplied": ["not supplied", "未提供"], redacted: ["member view only", "仅会员可见"] },
  delivery: { file: ["file", "文件"], api: ["API", "接口"], "privacy-computing": ["privacy computing", "隐私计算"] },
  periodicity: { continuous: ["continuously", "实时"], daily: ["daily", "每日"], weekly: ["weekly", "每周"], monthly: ["monthly", "每月"],
    quarterly: ["quarterly", "每季度"], annual: ["yearly", "每年"], irregular: ["irregularly", "不定期"] },
};
const T = {
  explore: ["Explorer", "浏览"], catalog: ["Catalogue", "数据目录"], figures: ["Figures", "统计"], exchanges: ["Exchanges", "交易所"],
  flows: ["Cross-border", "跨境流动"], verify: ["Verify a certificate", "验证证书"], docs: ["API docs", "API 文档"],
  noMeta: ["metadata not supplied", "未提供元数据"], entity: ["entity #", "主体 #"], memberView: ["(member view)", "（仅会员可见）"],
  hiddenTitle: ["title visible to members", "标题仅会员可见"], title: ["Title", "名称"], publisher: ["Publisher", "发布主体"],
  owner: ["Owner", "所有者"], kindH: ["Kind", "类别"], gradeH: ["Grade", "分级"], statusH: ["Status", "状态"], registrar: ["Registrar", "登记机构"],
  block: ["Block", "区块"], boards: ["Boards", "板块"], keywords: ["Keywords", "关键词"], description: ["Description", "描述"],
  rightsH: ["Rights", "权利"], sourceH: ["Source", "来源"], supersedes: ["Supersedes", "替代"], details: ["Identifiers and hashes", "标识与哈希"],
  search: ["Search", "搜索"], searchPh: ["titles, descriptions, keywords, publishers…", "名称、描述、关键词、发布主体…"],
  order: ["Order", "排序"], relevance: ["relevance", "相关度"], recent: ["most recent", "最新"], next: ["Next page →", "下一页 →"],
  first: ["← First page", "← 第一页"], listings: ["listing(s)", "条挂牌"], noListings: ["No listing matches.", "没有匹配的挂牌。"],
  byBoard: ["Browse by board", "按板块浏览"], filters: ["Filters", "筛选"], clear: ["clear all", "全部清除"], any: ["any", "全部"],
  notServed: ["This node does not serve the catalogue (yet).", "此节点尚未提供数据目录。"], records: ["Records", "登记记录"],
  noRecords: ["No registrations match.", "没有匹配的登记。"], loading: ["Loading…", "加载中…"], role: ["Role", "角色"],
  entityKindH: ["Kind", "主体类型"], onboardedBy: ["Onboarded by", "接入交易所"], recognizedBy: ["Recognised by", "互认交易所"],
  region: ["Region", "地区"], creditCode: ["Unified social credit code", "统一社会信用代码"], noProfile: ["no profile published", "未发布主体信息"],
  listingsFig: ["Listings", "挂牌"], entitiesFig: ["Entities", "主体"], fByBoard: ["by board", "按板块"], fByKind: ["by kind", "按类别"],
  fByGrade: ["by grade", "按分级"], fByExchange: ["by exchange", "按交易所"], fByMonth: ["over time (by month)", "按月"],
  fByRole: ["by role", "按角色"], noData: ["no data yet", "暂无数据"], publishedBy: ["Published by", "发布主体："],
  distributions: ["Distributions", "分发方式"], policy: ["Permitted (ODRL)", "许可（ODRL）"], temporal: ["Period", "时间范围"],
  contentHash: ["Content hash", "内容哈希"], ownerEntity: ["Owner entity", "所有者主体"], recordId: ["Record id", "登记编号"],
  opensRecord: ["0x… (opens the record)", "0x…（打开该记录）"], thisRecord: ["this record", "本记录"],
  inactiveLegend: ["suspended or revoked", "已暂停或已撤销"], affectedLegend: ["affected (derives from an inactive record)", "受影响（源自非有效记录）"],
  flowLegend: ["data flows left to right; click a record to open it", "数据自左向右流动；点击记录可打开"],
  spatial: ["Place", "地域"], periodicity: ["Updated", "更新频率"], contact: ["Contact", "联系人"], metadataH: ["Metadata", "元数据"],
};
function t(k) { const v = T[k]; return v ? v[ZH() ? 1 : 0] : k; }
function word(group, v) { const w = (WORDS[group] || {})[v]; return w ? w[ZH() ? 1 : 0] : String(v); }
function pick(map) {
  if (!map || typeof map !== "object") return null;
  return map[lang] || map[ZH() ? "en" : "zh"] || Object.values(map).find((v) => typeof v === "string" && v) || null;
}

// --- tiny DOM helpers (text always goes in as text, never as HTML)
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}
function svgEl(tag, attrs = {}, ...children) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}
function short(id) { return id ? id.slice(0, 10) + "…" + id.slice(-4) : "-"; }
function badge(status) { return el("span", { class: "badge status-" + status, "data-status": status }, word("status", status)); }
function gradeText(g) { return el("span", { class: "grade-" + g }, word("grade", g)); }
// A record by its title where this page has learnt it (nameNodes), by its short id otherwise.
function recordLink(id) {
  const name = titleOf.get(id);
  return name ? el("a", { href: "#/record/" + id, class: "record-title", title: id }, name) : el("a", { href: "#/record/" + id, class: "mono" }, short(id));
}
// The page's content; a part left out (null) is skipped rather than shown as the text "null".
function render(...nodes) { view.replaceChildren(...nodes.filter((n) => n !== null && n !== undefined && n !== false)); }
// Resolves once the browser has had a frame to paint what is in the page now (or after 50 ms, where it paints none:
// a tab in the background), so that a page's title and fields show before the slower parts are drawn beside them.
function painted() {
  return new Promise((resolve) => {
    const done = () => { clearTimeout(timer); resolve(); };
    const timer = setTimeout(done, 50);
    requestAnimationFrame(() => setTimeout(done, 0));
  });
}
function showError(e) { render(el("p", { class: "error", role: "alert" }, e.message)); }
function setActive(name) {
  for (const a of document.querySelectorAll("nav a[data-nav]")) a.classList.toggle("active", a.dataset.nav === name);
}
// A record's or listing's title in the page language, or why there is none.
function titleText(r) {
  if (r.title === undefined) return short(r.id);  // a node that does not name its records (or one not fetched)
  const title = pick(r.title);
  if (title) return title;
  return r.metadata === "redacted" || (r.redacted && r.metadata !== "not-supplied") ? t("hiddenTitle") : t("noMeta");
}
function publisherId(r) { return r.publisher && r.publisher.id != null ? r.publisher.id : r.owner; }
function publisherText(r) { return pick(r.publisher && r.publisher.name) || (publisherId(r) != null ? t("entity") + publisherId(r) : t("memberView")); }
function publisherLink(r) {
  const id = publisherId(r);
  const name = publisherText(r);
  return id != null ? el("a", { href: "#/entity/" + id, class: "publisher" }, name) : el("span", { class: "publisher muted" }, name);
}
function titleLink(r) { return el("a", { href: "#/record/" + r.id, class: "record-title" + (pick(r.title) ? "" : " muted"), title: r.id }, titleText(r)); }
function boardList(codes) { return (codes || []).map((c) => el("a", { class: "tag", href: "#/catalog?board=" + encodeURIComponent(c) }, word("board", c))); }

// --- explorer: search and recent registrations
async function explore(params) {
  setActive("explore");
  const form = el("form", { class: "search card", id: "search" },
    el("label", {}, t("contentHash"), el("input", { name: "content_hash", placeholder: "0x…", value: params.get("content_hash") || "" })),
    el("label", {}, t("ownerEntity"), el("input", { name: "owner", type: "number", min: "1", value: params.get("owner") || "" })),
    el("label", {}, t("registrar"), el("input", { name: "registrar", placeholder: "SDE", value: params.get("registrar") || "" })),
    select("kind", ["", "resource", "product", "asset"], params.get("kind")),
    select("grade", ["", "general", "important", "core"], params.get("grade")),
    select("status", ["", "active", "suspended", "revoked", "superseded"], params.get("status")),
    el("label", {}, t("recordId"), el("input", { name: "id", placeholder: t("opensRecord") })),
    el("button", { type: "submit" }, t("search")));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const data = new FormData(form);
    const id = (data.get("id") || "").trim();
    if (id) { location.hash = "#/record/" + id; return; }
    const q = new URLSearchParams();
    for (const [k, v] of data.entries()) if (v && k !== "id") q.set(k, v.trim());
    location.hash = "#/?" + q.toString();
  });
  const results = el("div", { id: "results" }, el("p", { class: "muted" }, t("loading")));
  render(el("h1", {}, ZH() ? "登记记录" : "Registrations"), form, results);
  try {
    const q = new URLSearchParams();
    for (const k of ["content_hash", "owner", "registrar", "kind", "grade", "status"]) if (params.get(k)) q.set(k, params.get(k));
    let title = ZH() ? "搜索结果" : "Search results";
    if ([...q.keys()].length === 0) {
      // The newest 50 in one request, which index.html asks for before this script has loaded.
      q.set("latest", "true");
      title = ZH() ? "最新登记" : "Latest registrations";
    }
    q.set("limit", "50");
    const page = await api("/registrations?" + q.toString());
    const rows = page.results.slice().reverse();
    await nameNodes(rows);
    results.replaceChildren(el("h2", {}, title + " (" + rows.length + ")"), recordTable(rows));
  } catch (e) {
    results.replaceChildren(el("p", { class: "error", role: "alert" }, e.message));
  }
}
function select(name, options, current) {
  const group = { kind: "kind", grade: "grade", status: "status" }[name];
  return el("label", {}, t(name + "H") === name + "H" ? name[0].toUpperCase() + name.slice(1) : t(name + "H"),
    el("select", { name }, options.map((o) => el("option", { value: o, selected: o === current ? "selected" : null }, o ? word(group, o) : t("any")))));
}
function recordTable(rows) {
  if (!rows.length) return el("p", { class: "muted" }, t("noRecords"));
  return el("table", { class: "records" },
    el("thead", {}, el("tr", {}, ["title", "publisher", "kindH", "gradeH", "statusH", "registrar", "block"].map((h) => el("th", {}, t(h))))),
    el("tbody", {}, rows.map((r) => el("tr", { "data-id": r.id },
      el("td", {}, titleLink(r)), el("td", {}, publisherLink(r)), el("td", {}, word("kind", r.kind)), el("td", {}, gradeText(r.grade)),
      el("td", {}, badge(r.status)), el("td", {}, r.registrar), el("td", {}, r.block)))));
}

// --- a record and its lineage graph
async function recordPage(id) {
  setActive("explore");
  if (!HASH.test(id)) { showError(new Error("not a record id: " + id + " (expected 0x and 64 hex digits)")); return; }
  render(el("p", { class: "muted" }, t("loading")));
  try {
    // The document and the lineage are asked for beside the record, not after it (a record without a document
    // answers 404, a redacted one 403, and the page shows what the record says). The record's own fields are
    // drawn as soon as it is here; the document's fields and the lineage, which can be large, fill their places
    // when they come.
    const lineage = Promise.all([api("/registrations/" + id + "/ancestors?max_depth=16&max_nodes=300"),
      api("/registrations/" + id + "/descendants?max_depth=16&max_nodes=300")]);
    lineage.catch(() => {});  // shown in the lineage section below
    const kept = api("/registrations/" + id + "/metadata").catch(() => null);
    const property = api("/registrations/" + id + "/property").catch(() => null);  // its sections: property.js
    const rec = await api("/registrations/" + id);
    if (rec.supersedes) await nameNodes([{ id: rec.supersedes }]);
    const fields = [[t("title"), el("span", { id: "record-title" }, titleText(rec))], [t("publisher"), publisherLink(rec)]];
    fields.push([t("statusH"), badge(rec.status)], [t("kindH"), word("kind", rec.kind)], [t("gradeH"), gradeText(rec.grade)],
      [t("registrar"), rec.registrar], [t("block"), rec.block]);
    const hashes = [["Record id", el("span", { class: "mono" }, rec.id)],
      ["Log leaf", rec.leaf_index + (rec.batched ? " (batched)" : " (stored on-chain)")]];
    if (rec.redacted) fields.push(["Details", el("span", { class: "muted" }, "an " + rec.grade + "-grade record: owner, hashes and rights need a member credential")]);
    else {
      fields.push([t("sourceH"), word("source", rec.source)], [t("rightsH"), rec.rights.map((r) => word("rights", r)).join(", ")],
        [t("supersedes"), rec.supersedes ? recordLink(rec.supersedes) : "-"]);
      hashes.push(["Owner entity", rec.owner], ["Content hash", el("span", { class: "mono" }, rec.content_hash)],
        ["Metadata hash", el("span", { class: "mono" }, rec.metadata_hash)]);
    }
    hashes.push([t("metadataH"), rec.metadata ? word("metadata", rec.metadata) : "-", rec.metadata === "supplied" ? el("span", {}, " · ",
      el("a", { href: API + "/registrations/" + rec.id + "/metadata", target: "_blank" }, "JSON"), " · ",
      el("a", { href: API + "/registrations/" + rec.id + "/dcat", target: "_blank" }, "DCAT")) : null]);
    fields.push([t("details"), el("details", { id: "hashes" }, el("summary", {}, t("details")),
      el("table", { class: "hashes" }, el("tbody", {}, hashes.map(([k, ...v]) => el("tr", {}, el("th", {}, k), el("td", {}, v))))))]);
    const rows = fields.map(([k, v]) => el("tr", {}, el("th", {}, k), el("td", {}, v)));
    const heading = el("h2", {}, ZH() ? "数据血缘" : "Lineage");
    const pending = el("p", { class: "muted", id: "lineage-loading" }, t("loading"));
    render(
      el("h1", {}, el("span", { class: "kind-tag" }, word("kind", rec.kind)), " ", el("span", { class: pick(rec.title) ? "" : "muted" }, titleText(rec))),
      el("p", { class: "byline" }, t("publishedBy"), " ", publisherLink(rec)),
      el("div", { class: "card" }, el("table", { class: "fields" }, el("tbody", {}, rows))),
      heading,
      el("p", { class: "legend" }, el("span", {}, el("i", { style: "border-color:#1f5fbf" }), t("thisRecord")),
        el("span", {}, el("i", { style: "border-color:#c0392b;background:#fbe7e5" }), t("inactiveLegend")),
        el("span", {}, el("i", { style: "border-color:#b9770e;background:#fff4df" }), t("affectedLegend")),
        el("span", { class: "muted" }, t("flowLegend"))),
      pending);
    await painted();  // the record's title and fields first; its property, document fields and lineage follow
    showProperty(property, rows[0].closest(".card"));
    const meta = rec.metadata === "supplied" ? await kept : null;
    if (meta) rows[1].after(...documentFields(meta).map(([k, v]) => el("tr", {}, el("th", {}, k), el("td", {}, v))));  // after the publisher
    try {
      const [up, down] = await lineage;
      await nameNodes([...up.nodes, ...down.nodes]);
      const inactive = up.inactive_ancestors || [];
      if (inactive.length) heading.before(el("p", { class: "error", id: "affected" }, (ZH() ? "受影响：" + inactive.length + " 个上游记录不在有效状态（" : "Affected: " + inactive.length + " ancestor(s) are not active (") + inactive.map((a) => titleOf.get(a) || short(a)).join(", ") + (ZH() ? "）" : ")")));
      pending.replaceWith(lineageGraph(rec.id, up, down));
    } catch (e) { pending.replaceWith(el("p", { class: "error", role: "alert" }, e.message)); }
  } catch (e) { showError(e); }
}
// A metadata document's fields as the record page shows them, in order.
function documentFields(meta) {
  const fields = [];
  if (pick(meta.description)) fields.push([t("description"), pick(meta.description)]);
  if ((meta.keywords || []).length) fields.push([t("keywords"), meta.keywords.join(", ")]);
  if ((meta.themes || []).length) fields.push([t("boards"), boardList(meta.themes)]);
  if (meta.temporal) fields.push([t("temporal"), (meta.temporal.start || "…") + " – " + (meta.temporal.end || "…")]);
  if (meta.spatial) fields.push([t("spatial"), meta.spatial]);
  if (meta.accrualPeriodicity) fields.push([t("periodicity"), word("periodicity", meta.accrualPeriodicity)]);
  if ((meta.distributions || []).length) fields.push([t("distributions"), el("ul", { class: "plain" }, meta.distributions.map((d) =>
    el("li", {}, (pick(d.title) || d.format || "") + " · " + (d.format || "") + " · " + word("delivery", d.delivery) + (d.byteSize ? " · " + d.byteSize.toLocaleString() + " B" : ""))))]);
  const actions = ((meta.policy && meta.policy.permission) || []).map((p) => p.action);
  if (actions.length) fields.push([t("policy"), actions.join(", ")]);
  if (meta.contactPoint) fields.push([t("contact"), [meta.contactPoint.name, meta.contactPoint.email].filter(Boolean).join(" · ")]);
  return fields;
}

// Lists and lineage nodes carry names where the node serves them; the others get them from their record documents.
const titleOf = new Map();
async function nameNodes(list) {
  const missing = [...new Set(list.filter((n) => n.title === undefined).map((n) => n.id))].slice(0, 60);
  const docs = await Promise.all(missing.map((id) => api("/registrations/" + id).catch(() => null)));
  const byId = new Map(docs.filter(Boolean).map((d) => [d.id, d]));
  for (const n of list) {
    const d = byId.get(n.id);
    if (d) for (const k of ["title", "publisher", "metadata"]) if (n[k] === undefined) n[k] = d[k];
    if (pick(n.title)) titleOf.set(n.id, pick(n.title));
  }
}
// Cut a label to its box: a CJK glyph is about as wide as the font size, a Latin one a little over half of it.
function fit(text, px, size = 11) {
  let w = 0, out = "";
  for (const ch of String(text)) {
    w += /[\u2e80-\uffff]/.test(ch) ? size : size * 0.57;
    if (w > px) return out + "…";
    out += ch;
  }
  return out;
}

function lineageGraph(rootId, up, down) {
  const nodes = new Map();
  for (const n of up.nodes) nodes.set(n.id, Object.assign({}, n, { layer: -n.depth }));
  for (const n of down.nodes) if (!nodes.has(n.id)) nodes.set(n.id, Object.assign({}, n, { layer: n.depth }));
  const edges = [];
  const seen = new Set();
  for (const [c, p] of up.edges.concat(down.edges)) {
    const key = c + ">" + p;
    if (!seen.has(key) && nodes.has(c) && nodes.has(p)) { seen.add(key); edges.push([c, p]); }
  }
  const parents = new Map();
  for (const [c, p] of edges) { if (!parents.has(c)) parents.set(c, []); parents.get(c).push(p); }
  const affectedMemo = new Map();
  function affected(id, stack = new Set()) {
    if (affectedMemo.has(id)) return affectedMemo.get(id);
    if (stack.has(id)) return false;
    stack.add(id);
    const res = (parents.get(id) || []).some((p) => nodes.get(p).status !== "active" || affected(p, stack));
    affectedMemo.set(id, res);
    return res;
  }
  const layers = new Map();
  for (const n of nodes.values()) { if (!layers.has(n.layer)) layers.set(n.layer, []); layers.get(n.layer).push(n); }
  const order = [...layers.keys()].sort((a, b) => a - b);
  const W = 210, H = 70, GX = 60, GY = 18, PAD = 16;
  const pos = new Map();
  let maxRows = 0;
  order.forEach((layer, col) => {
    const list = layers.get(layer).sort((a, b) => a.id.localeCompare(b.id));
    maxRows = Math.max(maxRows, list.length);
    list.forEach((n, row) => pos.set(n.id, { x: PAD + col * (W + GX), y: PAD + row * (H + GY) }));
  });
  const width = PAD * 2 + order.length * W + (order.length - 1) * GX;
  const height = PAD * 2 + maxRows * H + (maxRows - 1) * GY;
  const svg = svgEl("svg", { class: "graph", id: "lineage-graph", viewBox: `0 0 ${width} ${height}`, style: `max-height:${Math.max(140, height)}px`, role: "img", "aria-label": "lineage graph" });
  svg.append(svgEl("defs", {}, svgEl("marker", { id: "arrow", viewBox: "0 0 10 10", refX: "10", refY: "5", markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse" }, svgEl("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#9aa7b8" }))));
  for (const [c, p] of edges) {
    const a = pos.get(p), b = pos.get(c);
    const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2, mx = (x1 + x2) / 2;
    svg.append(svgEl("path", { class: "edge", d: `M ${x1} ${y1} C ${mx} ${y1}, ${mx} ${y2}, ${x2} ${y2}`, "data-from": p, "data-to": c }));
  }
  for (const n of nodes.values()) {
    const { x, y } = pos.get(n.id);
    const cls = ["node"];
    if (n.id === rootId) cls.push("root");
    if (n.status !== "active") cls.push("inactive");
    else if (affected(n.id)) cls.push("affected");
    const g = svgEl("g", { class: cls.join(" "), transform: `translate(${x},${y})`, "data-id": n.id, "data-status": n.status, tabindex: "0" },
      svgEl("rect", { width: W, height: H }),
      svgEl("text", { x: 8, y: 17, class: "title" }, fit(titleText(n), W - 16)),
      svgEl("text", { x: 8, y: 32, class: "publisher" }, fit(publisherText(n), W - 16)),
      svgEl("text", { x: 8, y: 47 }, fit(word("kind", n.kind) + " · " + word("grade", n.grade) + " · " + n.registrar, W - 16)),
      svgEl("text", { x: 8, y: 62 }, word("status", n.status) + (n.redacted ? " · redacted" : "")));
    g.append(svgEl("title", {}, titleText(n) + " — " + n.id + " (" + n.status + ")"));
    g.addEventListener("click", () => { location.hash = "#/record/" + n.id; });
    svg.append(g);
  }
  return svg;
}

// --- exchanges and their checkpoints
async function exchangesPage() {
  setActive("exchanges");
  render(el("p", { class: "muted" }, "Loading…"));
  try {
    const list = await api("/exchanges");
    const logs = await Promise.all(list.map((x) => api("/exchanges/" + x.id + "/checkpoints?limit=5")));
    render(el("h1", {}, "Member exchanges"),
      ...list.map((x, i) => {
        const log = logs[i];
        return el("div", { class: "card exchange", "data-code": x.code },
          el("h2", {}, x.code + " · " + x.name + " ", badge(x.status)),
          el("p", {}, "Log size ", el("b", {}, log.size), ", root ", el("span", { class: "mono" }, log.root), ", ", log.anchors + " anchored checkpoint(s)"),
          log.anchored.length ? el("table", {},
            el("thead", {}, el("tr", {}, ["Tree size", "Root", "Block", "Consistent", "Cosigned by"].map((h) => el("th", {}, h)))),
            el("tbody", {}, log.anchored.slice().reverse().map((a) => el("tr", {}, el("td", {}, a.treeSize), el("td", { class: "mono" }, short(a.root)),
              el("td", {}, a.block), el("td", {}, a.consistent ? "yes" : "NO"), el("td", {}, (a.cosignedBy || []).join(", ") || "-")))))
            : el("p", { class: "muted" }, "No checkpoint anchored yet."));
      }));
  } catch (e) { showError(e); }
}

// --- verify a certificate
function verifyPage() {
  setActive("verify");
  const text = el("textarea", { id: "certificate", placeholder: "Paste a certificate (JSON) here, or drop its file above", spellcheck: "false" });
  const drop = el("div", { class: "drop", id: "drop" }, "Drop a certificate file here");
  const out = el("div", { id: "report" });
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", async (e) => {
    e.preventDefault(); drop.classList.remove("over");
    const file = e.dataTransfer.files[0];
    if (file) { text.value = await file.text(); run(); }
  });
  async function run() {
    out.replaceChildren(el("p", { class: "muted" }, "Verifying…"));
    let doc;
    try { doc = JSON.parse(text.value); } catch (e) { out.replaceChildren(el("p", { class: "error", role: "alert" }, "Not JSON: " + e.message)); return; }
    try {
      const report = await api("/certificates/verify", { method: "POST", headers: { "Content-Type": "application/json" }, body: text.value });  // the text as given: a repeated key must reach the node, which refuses it (JSON.parse keeps the last)
      out.replaceChildren(
        el("div", { class: "verdict " + (report.valid ? "ok" : "bad"), id: "verdict", "data-valid": String(report.valid) },
          report.valid ? "Valid certificate (" + report.mode + ")" : "NOT valid: " + report.checks.filter((c) => !c.ok).map((c) => c.name).join(", ")),
        report.credentialHash ? el("p", {}, "Credential hash ", el("span", { class: "mono" }, report.credentialHash)) : null,
        el("ul", { id: "checks" }, report.checks.map((c) => el("li", { class: "check " + (c.ok ? "ok" : "bad"), "data-check": c.name, "data-ok": String(c.ok) },
          el("span", { class: "mark" }, c.ok ? "✓" : "✗"), el("b", {}, c.name), " — ", c.detail))));
    } catch (e) { out.replaceChildren(el("p", { class: "error", role: "alert" }, e.message)); }
  }
  render(el("h1", {}, "Verify a mutual-recognition certificate"),
    el("p", { class: "muted" }, "Every check runs on this node against the chain: format, chain binding, issuer signature and key, the record and its log inclusion, the anchored checkpoint, the lineage, recognitions, expiry."),
    drop, text, el("p", {}, el("button", { id: "verify-button", onclick: run }, "Verify")), out);
}

// --- cross-border flows: the supervisors' queue, applications, deliveries, spot checks
function appLink(id) { return el("a", { href: "#/flows/application/" + id }, "#" + id); }
const HIDDEN = "(member credential)";
function appRow(a) {
  return el("tr", { "data-application": a.id, "data-redacted": String(!!a.redacted) },
    el("td", {}, appLink(a.id)), el("td", {}, recordLink(a.recordId)), el("td", {}, gradeText(["general", "important", "core"][a.grade])),
    el("td", {}, a.redacted ? HIDDEN : a.exporter + " → " + a.receiver), el("td", {}, a.redacted ? "-" : a.destination),
    el("td", {}, a.redacted ? "-" : a.category),
    el("td", {}, badge(a.status), a.status === "approved" && !a.open ? el("span", { class: "muted" }, a.expired ? " expired" : " volume used") : null),
    el("td", {}, a.deliveries + " / " + a.delivered.toLocaleString() + " B" + (a.volumeLimit ? " of " + a.volumeLimit.toLocaleString() : "")));
}
function appTable(rows, id) {
  return el("table", { id },
    el("thead", {}, el("tr", {}, ["Application", "Record", "Grade", "Exporter → receiver", "To", "Category", "Status", "Delivered"].map((h) => el("th", {}, h)))),
    el("tbody", {}, rows.map(appRow)));
}
function time(t) { return t ? new Date(t * 1000).toISOString().replace("T", " ").slice(0, 16) + " UTC" : "none"; }

async function flowsPage() {
  setActive("flows");
  render(el("p", { class: "muted" }, "Loading…"));
  try {
    const [queue, apps, checks, catalogue, supervisors] = await Promise.all([
      api("/flows/queue"), api("/flows/applications?limit=50"), api("/flows/spot-checks"), api("/flows/catalogue"), api("/supervisors")]);
    await nameNodes([...queue, ...apps].map((a) => ({ id: a.recordId })));
    render(el("h1", {}, "Cross-border flows"),
      el("p", { class: "muted" }, "Supervisors: ", supervisors.map((s) => s.code + " (" + s.name + ")").join(", ") || "none yet",
        ". Core data is never approved; important data needs a security assessment and a supervisor; general data on the low-risk catalogue is approved at once."),
      el("h2", {}, "Supervisors' queue"),
      queue.length ? appTable(queue, "queue") : el("p", { class: "muted", id: "queue" }, "Nothing waits for a decision."),
      el("h2", {}, "Applications"), appTable(apps, "applications"),
      el("h2", {}, "Spot checks"),
      el("table", { id: "spot-checks" },
        el("thead", {}, el("tr", {}, ["Check", "Exporter", "State", "Population", "Sample", "Seed block", "Result"].map((h) => el("th", {}, h)))),
        el("tbody", {}, checks.map((c) => el("tr", { "data-check": c.id },
          el("td", {}, el("a", { href: "#/flows/check/" + c.id }, "#" + c.id)), el("td", {}, c.exporter), el("td", {}, c.state),
          el("td", {}, c.population), el("td", {}, c.sample.join(", ") || "-"), el("td", {}, c.seedBlock),
          el("td", {}, c.state === "concluded" ? c.passed + " passed, " + c.failed + " failed" : "-"))))),
      el("h2", {}, "Low-risk catalogue"),
      el("table", { id: "catalogue" },
        el("thead", {}, el("tr", {}, ["Category", "Destination", "Validity", "Volume"].map((h) => el("th", {}, h)))),
        el("tbody", {}, catalogue.map((e) => el("tr", {}, el("td", {}, e.category), el("td", {}, e.destination),
          el("td", {}, Math.round(e.maxValidity / 86400) + " days"), el("td", {}, e.maxVolume ? e.maxVolume.toLocaleString() + " B" : "no limit"))))));
  } catch (e) { showError(e); }
}

async function applicationPage(id) {
  setActive("flows");
  try {
    const [a, deliveries] = await Promise.all([api("/flows/applications/" + id), api("/flows/deliveries?application=" + id + "&limit=1000")]);
    await nameNodes([{ id: a.recordId }]);
    const hidden = (v) => a.redacted ? el("span", { class: "muted" }, "hidden: important data needs a member credential") : v;
    const rows = [["Record", recordLink(a.recordId)], ["Grade", gradeText(["general", "important", "core"][a.grade])],
      ["Exporter → receiver", hidden(() => "entity " + a.exporter + " → entity " + a.receiver)], ["Destination", hidden(() => a.destination)],
      ["Category", hidden(() => a.category)], ["Purpose", hidden(() => a.purpose)],
      ["Assessment", hidden(() => a.assessmentRef === "0x" + "0".repeat(64) ? "none" : el("span", { class: "mono" }, short(a.assessmentRef)))],
      ["Status", el("span", { id: "app-status" }, badge(a.status))],
      ["Decided by", a.status === "pending" ? "-" : a.decidedBy ? "supervisor " + a.decidedBy + (a.signed ? " (signed approval, relayed)" : "") : "the low-risk catalogue"],
      ["Expires", time(a.expiresAt)], ["Volume", a.volumeLimit ? a.delivered.toLocaleString() + " of " + a.volumeLimit.toLocaleString() + " B" : a.delivered.toLocaleString() + " B (no limit)"],
      ["Deliveries now", a.open ? "allowed" : "refused"], ["Reason", hidden(() => a.reason || "-")]];
    render(el("h1", {}, "Application #" + a.id),
      el("table", { class: "card", id: "application" }, el("tbody", {}, rows.map(([k, v]) => el("tr", {}, el("th", {}, k),
        el("td", {}, typeof v === "function" ? v() : v))))),
      el("h2", {}, "Deliveries (" + deliveries.length + ")"),
      el("table", { id: "deliveries" },
        el("thead", {}, el("tr", {}, ["Delivery", "Manifest hash", "Size", "Time", "Block"].map((h) => el("th", {}, h)))),
        el("tbody", {}, deliveries.map((d) => el("tr", {}, el("td", {}, "#" + d.id), el("td", { class: "mono" }, short(d.manifestHash)),
          el("td", {}, d.size.toLocaleString()), el("td", {}, time(d.timestamp)), el("td", {}, d.block))))));
  } catch (e) { showError(e); }
}

async function checkPage(id) {
  setActive("flows");
  try {
    const c = await api("/flows/spot-checks/" + id);
    let verdict = null;
    if (c.reportKept) {
      const report = await api("/flows/spot-checks/" + id + "/report");
      const v = await api("/flows/reports/verify", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(report) });
      verdict = el("div", { class: "verdict " + (v.valid ? "ok" : "bad"), id: "report-verdict", "data-valid": String(v.valid) },
        v.valid ? "Report verified against the chain: the draw, the sample, the recorded hashes and the anchored hash" : "Report does NOT hold: " + v.problems.join("; "));
      c.outcomes = report.outcomes;
    }
    render(el("h1", {}, "Spot check #" + c.id),
      el("p", {}, "Supervisor " + c.supervisor + " checks exporter " + c.exporter + ": " + c.sampleSize + " of its " + c.population +
        " deliveries, drawn from the hash of block " + c.seedBlock + " (mined after the announcement in block " + c.announcedBlock + "). State: ", el("b", { id: "check-state" }, c.state)),
      c.seed ? el("p", {}, "Seed ", el("span", { class: "mono" }, c.seed)) : null,
      verdict,
      el("table", { id: "sample" },
        el("thead", {}, el("tr", {}, ["Delivery", "Application", "Recorded manifest", "Size", "Outcome"].map((h) => el("th", {}, h)))),
        el("tbody", {}, c.deliveries.map((d) => {
          const o = (c.outcomes || []).find((x) => x.delivery === d.id);
          return el("tr", { "data-delivery": d.id }, el("td", {}, "#" + d.id), el("td", {}, appLink(d.application)),
            el("td", { class: "mono" }, short(d.manifestHash)), el("td", {}, d.size.toLocaleString()),
            el("td", { class: o ? (o.ok ? "ok" : "bad") : "" }, o ? (o.ok ? "✓ matches" : "✗ " + o.reason) : "not judged yet"));
        }))));
  } catch (e) { showError(e); }
}

// --- routing and the page language
async function route() {
  const hash = location.hash || "#/";
  const [path, query] = hash.slice(1).split("?");
  const params = new URLSearchParams(query || "");
  if (path.startsWith("/record/")) return recordPage(decodeURIComponent(path.slice(8)));
  if (path.startsWith("/entity/")) return entityPage(decodeURIComponent(path.slice(8)));
  if (path === "/catalog") return catalogPage(params);
  if (path === "/figures") return figuresPage();
  if (path === "/exchanges") return exchangesPage();
  if (path === "/verify") return verifyPage();
  if (path === "/flows") return flowsPage();
  if (path.startsWith("/flows/application/")) return applicationPage(decodeURIComponent(path.slice(19)));
  if (path.startsWith("/flows/check/")) return checkPage(decodeURIComponent(path.slice(13)));
  return explore(params);
}
function applyLanguage() {
  document.documentElement.lang = ZH() ? "zh-CN" : "en";
  for (const a of document.querySelectorAll("[data-i18n]")) a.textContent = t(a.dataset.i18n);
  const button = document.getElementById("lang");
  button.textContent = ZH() ? "English" : "中文";
  button.dataset.lang = lang;
}
document.getElementById("lang").addEventListener("click", () => {
  lang = ZH() ? "en" : "zh";
  localStorage.setItem("provenance-lang", lang);
  applyLanguage();
  route();
});
document.getElementById("token-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const value = document.getElementById("token").value.trim();
  if (value) sessionStorage.setItem("provenance-token", value); else sessionStorage.removeItem("provenance-token");
  route();
});
window.addEventListener("hashchange", route);
federationInfo().then((f) => {
  const who = f.exchange !== null ? "exchange " + f.exchange : "supervisor " + f.supervisor;
  document.getElementById("footer").textContent = "Node of " + who + " · chain " + f.chain.chain_id +
    " · registry " + f.contracts.registry + " · index at block " + f.index.checkpoint;
}).catch(() => {});
// catalog.js (the catalogue, entity and figures pages) loads after this file; both run before DOMContentLoaded.
// What index.html asked for early serves the first view only: later views ask afresh.
document.addEventListener("DOMContentLoaded", () => { applyLanguage(); route().finally(() => { window.provenanceEarly = undefined; }); });
