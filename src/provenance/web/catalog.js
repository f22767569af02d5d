// The catalogue, entity and figures pages of the explorer; the helpers (el, svgEl, api, t, word, pick ...) are app.js's.
"use strict";

// --- the catalogue: full-text search with facets, and browsing by board
const FILTERS = ["kind", "grade", "board", "registrar", "status", "owner"];
const FACET_WORDS = { kind: "kind", grade: "grade", board: "board", status: "status" };
function facetLabel(name, value) { return name === "owner" ? t("entity") + value : word(FACET_WORDS[name], value); }
function catalogHash(params, changes) {
  const q = new URLSearchParams(params);
  q.delete("cursor");
  for (const [k, v] of Object.entries(changes)) { if (v === null || v === "") q.delete(k); else q.set(k, v); }
  return "#/catalog?" + q.toString();
}
function notServed(e) { return missingRoute(e) ? el("p", { class: "muted", id: "not-served" }, t("notServed")) : el("p", { class: "error", role: "alert" }, e.message); }

async function catalogPage(params) {
  setActive("catalog");
  const qInput = el("input", { name: "q", type: "search", id: "catalog-q", placeholder: t("searchPh"), value: params.get("q") || "", "aria-label": t("search") });
  const order = el("select", { name: "order", id: "catalog-order" }, ["relevance", "recent"].map((o) =>
    el("option", { value: o, selected: o === (params.get("order") || "relevance") ? "selected" : null }, t(o))));
  const form = el("form", { class: "catalog-search card", id: "catalog-search" }, qInput, el("label", { class: "inline" }, t("order"), order),
    el("button", { type: "submit" }, t("search")));
  form.addEventListener("submit", (ev) => { ev.preventDefault(); location.hash = catalogHash(params, { q: qInput.value.trim(), order: order.value }); });
  const active = FILTERS.filter((k) => params.get(k));
  const chips = active.length ? el("p", { class: "chips", id: "active-filters" }, t("filters") + ": ",
    active.map((k) => el("a", { class: "chip", href: catalogHash(params, { [k]: null }), "data-filter": k }, facetLabel(k, params.get(k)) + " ×")),
    el("a", { href: "#/catalog" + (params.get("q") ? "?q=" + encodeURIComponent(params.get("q")) : "") }, t("clear"))) : null;
  const boards = el("div", { id: "boards" });
  const facets = el("aside", { id: "facets" });
  const results = el("section", { id: "listings" }, el("p", { class: "muted" }, t("loading")));
  render(el("h1", {}, t("catalog")), form, chips, boards, el("div", { class: "catalog" }, facets, results));
  if (!params.get("q") && !active.length) {
    api("/catalog/boards").then((list) => boards.replaceChildren(el("h2", {}, t("byBoard")), el("div", { class: "board-grid" },
      list.map((b) => el("a", { class: "board" + (b.count ? "" : " empty"), href: catalogHash(params, { board: b.code }), "data-board": b.code, "data-count": b.count },
        el("b", {}, ZH() ? b.zh || word("board", b.code) : b.en || word("board", b.code)), el("span", { class: "count" }, b.count))))))
      .catch(() => boards.replaceChildren());
  }
  const q = new URLSearchParams();
  for (const k of ["q", "order", "cursor", ...FILTERS]) if (params.get(k)) q.set(k, params.get(k));
  q.set("limit", /^[0-9]{1,3}$/.test(params.get("limit") || "") ? params.get("limit") : "20");
  try {
    const page = await api("/catalog/search?" + q.toString());
    facets.replaceChildren(...Object.entries(page.facets || {}).filter(([, m]) => Object.keys(m).length).map(([name, counts]) =>
      el("div", { class: "facet-group", "data-facet-group": name }, el("h3", {}, t(name + "H") !== name + "H" ? t(name + "H") : t(name === "board" ? "boards" : name)),
        el("ul", { class: "plain" }, Object.entries(counts).sort((a, b) => b[1] - a[1]).map(([value, n]) => el("li", {},
          el("a", { class: "facet" + (params.get(name) === value ? " on" : ""), "data-facet": name, "data-value": value,
            href: catalogHash(params, { [name]: params.get(name) === value ? null : value }) }, facetLabel(name, value), " ", el("span", { class: "count" }, n))))))));
    const nav = el("p", { class: "pager" },
      params.get("cursor") ? el("a", { href: catalogHash(params, {}), id: "first-page" }, t("first")) : null, " ",
      page.next ? el("a", { href: catalogHash(params, {}) + "&cursor=" + encodeURIComponent(page.next), id: "next-page" }, t("next")) : null);
    results.replaceChildren(el("h2", { id: "listing-count", "data-total": page.total }, page.total + " " + t("listings")),
      page.items.length ? el("ol", { class: "listings plain" }, page.items.map(listingCard)) : el("p", { class: "muted" }, t("noListings")), nav);
  } catch (e) { results.replaceChildren(notServed(e)); facets.replaceChildren(); }
}
function listingCard(r) {
  const desc = pick(r.description);
  return el("li", { class: "listing card", "data-id": r.id },
    el("h3", {}, titleLink(r)),
    el("p", { class: "byline" }, publisherLink(r), " · ", word("kind", r.kind), " · ", gradeText(r.grade), " · ", r.registrar, " ", badge(r.status)),
    desc ? el("p", { class: "description" }, desc.length > 240 ? desc.slice(0, 240) + "…" : desc) : null,
    el("p", { class: "tags" }, boardList(r.themes), (r.keywords || []).slice(0, 8).map((k) => el("span", { class: "keyword" }, k))));
}

// --- an entity (a data merchant or other party) and its records
let exchangeCodes = null;
async function codeOf(id) {
  if (!exchangeCodes) exchangeCodes = api("/exchanges").then((l) => new Map(l.map((x) => [x.id, x.code]))).catch(() => new Map());
  return (await exchangeCodes).get(id) || String(id);
}
async function entityPage(id) {
  setActive("explore");
  if (!/^[0-9]+$/.test(id)) { showError(new Error("not an entity id: " + id)); return; }
  render(el("p", { class: "muted" }, t("loading")));
  try {
    const [ent, answer, records] = await Promise.all([api("/entities/" + id),
      api("/entities/" + id + "/profile").catch(() => null), api("/entities/" + id + "/records?limit=100").catch((e) => e)]);
    // {entity, role, profile, redacted}: an individual's profile stays with its onboarding node (redacted elsewhere)
    const profile = answer && "profile" in answer ? answer.profile : answer;
    const name = pick(profile && profile.name);
    const fields = [[t("entityKindH"), profile ? word("entityKind", profile.kind) : el("span", { class: "muted" }, t("noProfile"))],
      [t("role"), word("role", ent.role)], [t("onboardedBy"), await codeOf(ent.registrar)],
      [t("recognizedBy"), (ent.recognizedBy || []).join(", ") || "-"]];
    if (profile && profile.region) fields.push([t("region"), profile.region]);
    if (profile && profile.name && profile.name.zh && profile.name.en) fields.push([ZH() ? "English name" : "中文名称", ZH() ? profile.name.en : profile.name.zh]);
    const hashes = [["Entity id", ent.id], ["Identifier hash", el("span", { class: "mono" }, ent.identifier_hash)],
      ["Account", el("span", { class: "mono" }, ent.account)]];
    if (profile && profile.creditCode) hashes.unshift([t("creditCode"), el("span", { class: "mono" }, profile.creditCode)]);
    fields.push([t("details"), el("details", {}, el("summary", {}, t("details")), el("table", { class: "hashes" },
      el("tbody", {}, hashes.map(([k, v]) => el("tr", {}, el("th", {}, k), el("td", {}, v))))))]);
    let list = null;
    if (!(records instanceof Error)) list = Array.isArray(records) ? records : records.items || records.results || [];
    render(
      el("h1", { id: "entity-name" }, name || t("entity") + ent.id),
      el("div", { class: "card" }, el("table", { class: "fields" }, el("tbody", {}, fields.map(([k, v]) => el("tr", {}, el("th", {}, k), el("td", {}, v)))))),
      el("h2", {}, t("records") + (list ? " (" + list.length + ")" : "")),
      el("div", { id: "entity-records" }, list ? recordTable(list) : notServed(records)));
  } catch (e) { showError(e); }
}

// --- the federation's figures, drawn as inline SVG (no chart library: the node works offline)
const PALETTE = ["#1f5fbf", "#12805c", "#b9770e", "#8e44ad", "#c0392b", "#16a085", "#2c3e50", "#d35400"];
function barChart(name, counts, labeler) {
  const entries = Object.entries(counts || {}).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  if (!entries.length) return el("p", { class: "muted", "data-chart": name }, t("noData"));
  const LW = 170, BW = 250, RH = 24, max = Math.max(...entries.map((e) => e[1]), 1);
  const [w0, h0] = [LW + BW + 50, entries.length * RH + 8];
  const svg = svgEl("svg", { class: "chart", "data-chart": name, width: w0, height: h0, viewBox: `0 0 ${w0} ${h0}`, role: "img", "aria-label": name });
  entries.forEach(([key, n], i) => {
    const w = Math.max(n ? 2 : 0, Math.round(BW * n / max));
    svg.append(svgEl("g", { class: "bar", "data-key": key, "data-value": String(n), transform: `translate(0,${i * RH + 4})` },
      svgEl("text", { x: LW - 8, y: 15, "text-anchor": "end" }, fit(labeler(key), LW - 12, 12)),
      svgEl("rect", { x: LW, y: 2, width: w, height: RH - 8, fill: PALETTE[i % PALETTE.length] }),
      svgEl("text", { x: LW + w + 6, y: 15, class: "value" }, String(n)),
      svgEl("title", {}, labeler(key) + ": " + n)));
  });
  return svg;
}
function columnChart(name, counts) {
  const entries = Object.entries(counts || {}).sort((a, b) => a[0].localeCompare(b[0]));
  if (!entries.length) return el("p", { class: "muted", "data-chart": name }, t("noData"));
  const CW = 52, CH = 160, max = Math.max(...entries.map((e) => e[1]), 1);
  const [w0, h0] = [Math.max(300, entries.length * CW + 20), CH + 44];
  const svg = svgEl("svg", { class: "chart", "data-chart": name, width: w0, height: h0, viewBox: `0 0 ${w0} ${h0}`, role: "img", "aria-label": name });
  svg.append(svgEl("line", { x1: 10, y1: CH + 20, x2: entries.length * CW + 10, y2: CH + 20, stroke: "#9aa7b8" }));
  entries.forEach(([key, n], i) => {
    const h = Math.max(n ? 2 : 0, Math.round(CH * n / max));
    svg.append(svgEl("g", { class: "bar", "data-key": key, "data-value": String(n), transform: `translate(${10 + i * CW},0)` },
      svgEl("rect", { x: 8, y: CH + 20 - h, width: CW - 16, height: h, fill: PALETTE[0] }),
      svgEl("text", { x: CW / 2, y: CH + 14 - h, "text-anchor": "middle", class: "value" }, String(n)),
      svgEl("text", { x: CW / 2, y: CH + 36, "text-anchor": "middle" }, key),
      svgEl("title", {}, key + ": " + n)));
  });
  return svg;
}
async function figuresPage() {
  setActive("figures");
  render(el("p", { class: "muted" }, t("loading")));
  try {
    const [f, codes] = await Promise.all([api("/catalog/figures"), api("/exchanges").catch(() => [])]);
    const code = (k) => { const x = codes.find((e) => String(e.id) === k || e.code === k); return x ? x.code : k; };
    const L = f.listings || {}, E = f.entities || {};
    const chart = (title, node) => el("div", { class: "card figure" }, el("h3", {}, title), node);
    render(el("h1", {}, t("figures")),
      el("h2", {}, t("listingsFig")), el("div", { class: "figure-grid", id: "listing-figures" },
        chart(t("fByBoard"), barChart("listings.byBoard", L.byBoard, (k) => word("board", k))),
        chart(t("fByKind"), barChart("listings.byKind", L.byKind, (k) => word("kind", k))),
        chart(t("fByGrade"), barChart("listings.byGrade", L.byGrade, (k) => word("grade", k))),
        chart(t("fByExchange"), barChart("listings.byExchange", L.byExchange, code)),
        chart(t("fByMonth"), columnChart("listings.byMonth", L.byMonth))),
      el("h2", {}, t("entitiesFig")), el("div", { class: "figure-grid", id: "entity-figures" },
        chart(t("fByKind"), barChart("entities.byKind", E.byKind, (k) => word("entityKind", k))),
        chart(t("fByExchange"), barChart("entities.byExchange", E.byExchange, code)),
        chart(t("fByRole"), barChart("entities.byRole", E.byRole, (k) => word("role", k)))));
  } catch (e) { render(el("h1", {}, t("figures")), notServed(e)); }
}

