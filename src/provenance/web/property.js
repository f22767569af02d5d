// The record page's property sections (数据产权): holder and owner history, term and expiry, the pledge with the
// valuation in force beside its amount, assessments, and the dispute banner. The helpers (el, t, word, time,
// recordLink ...) are app.js's; data enters the page as text only.
"use strict";

Object.assign(T, {
  propertyH: ["Property register", "数据产权登记"], underDispute: ["Under dispute", "争议中"],
  disputeFiled: ["a dispute filed by entity #", "争议提出方：主体 #"], ruledH: ["Ruling", "仲裁裁决"],
  notRuled: ["awaiting the arbitrator's ruling", "等待仲裁机构裁决"], rulingPending: ["ruled, to be carried out", "已裁决，待执行"],
  holder: ["Holder", "权利人"], originalOwner: ["First registered by", "首次登记权利人"], expiryH: ["Term and expiry", "登记期限"],
  noExpiry: ["no expiry (the kind has no term)", "长期有效（该类别未设期限）"], expiresOn: ["expires ", "到期："],
  expiredOn: ["expired ", "已到期："], expiredBanner: ["Expired: to be renewed", "已到期：需续展"],
  listedH: ["Listed for trading", "挂牌交易"], yes: ["yes", "是"], no: ["no", "否"],
  transfersH: ["Transfers", "转让次数"], changesH: ["Changes", "变更次数"], pledgeH: ["Pledge", "质押"],
  pledgedTo: ["pledged to entity #", "质权人：主体 #"], secured: ["Secured amount", "担保金额"], dueH: ["Due", "到期日"],
  valuationH: ["Valuation in force", "有效评估价值"], noValuation: ["no valuation in force", "无有效评估价值"],
  pledgeHidden: ["pledged (details: members and the pledgee)", "已质押（详情仅会员及质权人可见）"],
  notPledged: ["not pledged", "未质押"], assessmentsH: ["Assessments", "评估"], noAssessments: ["no assessment", "暂无评估"],
  assessorH: ["Assessor", "评估机构"], resultH: ["Result", "结论"], validH: ["Valid until", "有效期至"],
  withdrawn: ["withdrawn", "已撤回"], inForce: ["in force", "有效"], lapsed: ["lapsed", "已失效"],
  ownersH: ["Owner history", "权利人变更记录"], fromH: ["From", "原权利人"], toH: ["To", "新权利人"], causeH: ["By", "方式"],
  changeHistoryH: ["Change history", "变更记录"], cancelledH: ["Cancelled", "已注销"], propertyRedacted:
    ["holder, pledge, assessments and dispute need a member credential", "权利人、质押、评估及争议详情仅会员可见"],
  passedW: ["passed", "通过"], failedW: ["failed", "未通过"], openEnded: ["open-ended", "长期"],
});
Object.assign(WORDS.role, { "financial-institution": ["financial institution", "金融机构"],
  "assessment-institution": ["assessment institution", "评估机构"], "arbitration-institution": ["arbitration institution", "仲裁机构"] });
Object.assign(WORDS, {
  assessment: { quality: ["Quality", "质量评估"], compliance: ["Compliance", "合规评估"], valuation: ["Valuation", "价值评估"] },
  method: { cost: ["cost method", "成本法"], income: ["income method", "收益法"], market: ["market method", "市场法"] },
  cause: { transfer: ["transfer", "转让"], enforcement: ["pledge enforced", "质权实现"], ruling: ["arbitration ruling", "仲裁裁决"] },
  outcome: { dismissed: ["dismissed", "驳回"], ownership: ["ownership to entity #", "权属归于主体 #"], cancelled: ["registration cancelled", "注销登记"] },
  pledgeEnd: { released: ["released", "已解除"], enforced: ["enforced", "已实现"], cancelled: ["ended by cancellation", "因注销终止"], ruling: ["ended by a ruling", "因裁决终止"] },
  cancelReason: { "owner-request": ["at the owner's request", "权利人申请"], "data-destroyed": ["data destroyed", "数据灭失"],
    "rights-expired": ["rights expired", "权利期满"], "false-registration": ["false registration", "虚假登记"], "court-order": ["court order", "法院裁定"],
    "arbitration-ruling": ["arbitration ruling", "仲裁裁决"], merged: ["merged", "合并"], other: ["other", "其他"] },
});

function dateText(iso) { return iso ? iso.slice(0, 10) : "-"; }
function entityLink(id) { return id ? el("a", { href: "#/entity/" + id, class: "entity" }, t("entity") + id) : "-"; }
function money(amount, currency) {
  return el("span", { class: "money" }, Number(amount).toLocaleString(ZH() ? "zh-CN" : "en-GB", { minimumFractionDigits: (amount.split(".")[1] || "").length }) + " " + currency);
}
function fieldTable(rows, id) {
  return el("table", { class: "prop-fields", id }, el("tbody", {}, rows.filter(Boolean).map(([k, v]) => el("tr", {}, el("th", {}, k), el("td", {}, v)))));
}

// The banners above the record's fields: what anyone must see before trusting the record.
function propertyBanner(prop) {
  const banners = [];
  if (prop.disputed) banners.push(el("p", { class: "error", id: "dispute-banner", role: "status", "data-state": "disputed" },
    el("strong", {}, t("underDispute")), prop.dispute ? " · " + t("disputeFiled") + prop.dispute.claimant : null));
  if (prop.expired) banners.push(el("p", { class: "error", id: "expired-banner", role: "status" }, t("expiredBanner")));
  return banners.length ? el("div", { id: "property-banners" }, banners) : null;
}

function assessmentResult(a) {
  if (a.kind === "quality") return (a.score / 100).toFixed(2) + "%";
  if (a.kind === "compliance") return a.passed ? t("passedW") : t("failedW");
  return [money(a.amount, a.currency), " · ", word("method", a.method), " · ", dateText(a.valuationDate)];
}

function assessmentTable(list) {
  if (!list.length) return el("p", { class: "muted", id: "assessments" }, t("noAssessments"));
  return el("table", { class: "records", id: "assessments" },
    el("thead", {}, el("tr", {}, ["#", t("kindH"), t("assessorH"), t("resultH"), t("validH"), t("statusH")].map((h) => el("th", {}, h)))),
    el("tbody", {}, list.map((a) => el("tr", { "data-index": a.index, "data-id": a.id, "data-kind": a.kind, class: a.withdrawn ? "withdrawn" : null },
      // Its number within the record, and the id the contract (and a withdrawal) may name it by.
      el("td", {}, a.index, " ", el("code", { class: "assessment-id", title: a.id }, short(a.id))),
      el("td", {}, word("assessment", a.kind)), el("td", {}, entityLink(a.assessor)),
      el("td", { class: "result" }, assessmentResult(a)), el("td", {}, a.validUntil ? dateText(a.validUntil) : t("openEnded")),
      el("td", { class: a.inForce ? "ok" : "bad" }, a.withdrawn ? t("withdrawn") : a.inForce ? t("inForce") : t("lapsed"))))));
}

function pledgeCard(prop) {
  if (!prop.pledged) return el("p", { class: "muted", id: "pledge", "data-state": "none" }, t("notPledged"));
  const p = prop.pledge;
  if (!p) return el("p", { id: "pledge", "data-state": "pledged" }, t("pledgeHidden"));
  const v = p.valuation;
  return el("div", { class: "card", id: "pledge", "data-state": "pledged" }, fieldTable([
    [t("pledgeH"), el("span", {}, t("pledgedTo"), el("a", { href: "#/entity/" + p.pledgee, class: "entity" }, p.pledgee))],
    [t("secured"), el("span", { id: "pledge-amount" }, money(p.amount, p.currency),
      el("span", { id: "pledge-valuation", class: "muted" }, " · " + t("valuationH") + ": ", v ? money(v.amount, v.currency) : t("noValuation"),
        v ? " (" + word("method", v.method) + ", " + dateText(v.valuationDate) + ")" : null))],
    [t("dueH"), dateText(p.until)],
    ["Reference", el("span", { class: "mono" }, p.reference)],
  ]));
}

function disputeCard(d) {
  if (!d) return null;
  const ruled = d.outcome ? word("outcome", d.outcome) + (d.outcome === "ownership" ? d.newOwner : "") : null;
  return el("div", { class: "card", id: "dispute", "data-outcome": d.outcome || "" }, fieldTable([
    [t("underDispute"), el("span", {}, t("disputeFiled"), d.claimant)],
    ["Claim", el("span", { class: "mono" }, d.claimHash)],
    [t("ruledH"), ruled ? el("span", {}, ruled, " · ", t("rulingPending")) : el("span", { class: "muted" }, t("notRuled"))],
  ]));
}

function ownerHistory(list) {
  if (!list || !list.length) return null;
  return [el("h3", {}, t("ownersH")), el("table", { class: "records", id: "owner-history" },
    el("thead", {}, el("tr", {}, [t("fromH"), t("toH"), t("causeH"), t("block")].map((h) => el("th", {}, h)))),
    el("tbody", {}, list.map((o) => el("tr", { "data-seq": o.seq },
      el("td", {}, entityLink(o.previous)), el("td", {}, entityLink(o.owner)), el("td", {}, word("cause", o.cause)), el("td", {}, o.block)))))];
}

function changeHistory(list) {
  if (!list || !list.length) return null;
  return [el("h3", {}, t("changeHistoryH")), el("table", { class: "records", id: "change-history" },
    el("tbody", {}, list.map((c) => el("tr", { "data-seq": c.seq },
      el("td", {}, c.previousRights.map((r) => word("rights", r)).join(", ") + " → " + c.rights.map((r) => word("rights", r)).join(", ")),
      el("td", { class: "mono" }, c.metadataHash === c.previousMetadataHash ? "" : short(c.previousMetadataHash) + " → " + short(c.metadataHash)),
      el("td", {}, c.block)))))];
}

// The section below the record's fields.
function propertySection(prop) {
  const expiry = prop.expiresAt ? (prop.expired ? t("expiredOn") : t("expiresOn")) + dateText(prop.expiresAt) : t("noExpiry");
  const rows = [
    prop.redacted ? null : [t("holder"), el("span", { id: "holder" }, entityLink(prop.owner))],
    prop.redacted || prop.originalOwner === prop.owner ? null : [t("originalOwner"), entityLink(prop.originalOwner)],
    [t("expiryH"), el("span", { id: "expiry", "data-expired": String(prop.expired) }, expiry)],
    [t("listedH"), prop.listed ? t("yes") : t("no")],
    [t("transfersH"), prop.transfers], [t("changesH"), prop.changes],
    prop.cancelled ? [t("cancelledH"), word("cancelReason", prop.cancelled)] : null,
  ];
  return el("section", { id: "property", "data-pledged": String(prop.pledged), "data-disputed": String(prop.disputed) },
    el("h2", {}, t("propertyH")),
    el("div", { class: "card" }, fieldTable(rows, "property-fields")),
    prop.redacted ? el("p", { class: "muted" }, t("propertyRedacted")) : null,
    el("h3", {}, t("pledgeH")), pledgeCard(prop),
    prop.redacted ? null : [el("h3", {}, t("assessmentsH")), assessmentTable(prop.assessments || [])],
    prop.redacted ? null : disputeCard(prop.dispute),
    ownerHistory(prop.owners), changeHistory(prop.changeHistory));
}

// recordPage's part: `answer` is the record's /property request, asked for beside the record; once the record's
// card is on the page the banner goes above it and the section below (a node without the register answers 404,
// and nothing is added; a page left meanwhile is not touched).
async function showProperty(answer, card) {
  const prop = await answer.catch(() => null);
  if (!prop || !card || !card.isConnected) return;
  const banner = propertyBanner(prop);
  if (banner) card.before(banner);
  card.after(propertySection(prop));
}
