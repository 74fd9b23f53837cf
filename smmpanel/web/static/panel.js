// smmpanel dashboard: a few lines of plain JavaScript for the live parts. No build step, no CDN.
"use strict";

// Buttons with data-confirm ask before they submit; forms with a data-once button submit once.
document.addEventListener("submit", (event) => {
  const button = event.submitter;
  if (button && button.dataset.confirm && !window.confirm(button.dataset.confirm)) {
    event.preventDefault();
    return;
  }
  const once = event.target.querySelector("button[data-once]");
  if (once) setTimeout(() => { once.disabled = true; }, 0); // after the browser has read the form
});
// A page restored by the Back button gets its buttons back.
window.addEventListener("pageshow", () => {
  for (const button of document.querySelectorAll("button[data-once]")) button.disabled = false;
});

// Layout: a table wider than the page scrolls inside a box of its own (.table-wrap), so the page
// never pans sideways on a phone; without script panel.css makes narrow screens' tables scroll.
for (const table of document.querySelectorAll("main table")) {
  if (table.parentElement.classList.contains("table-wrap")) continue;
  const wrap = document.createElement("div");
  wrap.className = "table-wrap";
  table.replaceWith(wrap);
  wrap.appendChild(table);
}
// The Menu button (a checkbox, so that it also works without script) tells assistive technology its state.
const menuToggle = document.getElementById("menu-toggle");
if (menuToggle) {
  const sync = () => menuToggle.setAttribute("aria-expanded", String(menuToggle.checked));
  menuToggle.addEventListener("change", sync);
  sync();
}

// --- Money: exact integers of 1/100,000, as on the server (smmpanel/money.py). Never a float. ---
const SCALE = 100000n;

function formatUnits(units) {
  const sign = units < 0n ? "-" : "";
  const abs = units < 0n ? -units : units;
  let frac = (abs % SCALE).toString().padStart(5, "0").replace(/0+$/, "");
  while (frac.length < 2) frac += "0";
  return `${sign}${abs / SCALE}.${frac}`;
}

// rate × quantity / 1000, rounded half-up: per_thousand_charge in smmpanel/money.py.
function perThousand(rate, quantity) {
  return (rate * quantity * 2n + 1000n) / 2000n;
}

function wholeNumber(text) {
  const trimmed = (text || "").trim();
  return /^\d{1,18}$/.test(trimmed) ? BigInt(trimmed) : null;
}

function lineCount(text) {
  return BigInt((text || "").split(/\r?\n/).filter((line) => line.trim() !== "").length);
}

// --- New order: category → service → the fields its type needs, and the charge before submitting. ---
function setupNewOrder(form) {
  const services = JSON.parse(document.getElementById("service-data").textContent);
  const byId = new Map(services.map((s) => [String(s.id), s]));
  const category = form.querySelector("#category");
  const service = form.querySelector("#service");
  const allOptions = Array.from(service.options);
  const balance = BigInt(form.dataset.balance);
  const currency = form.dataset.currency;
  const field = (name) => form.elements.namedItem(name);
  const text = (id, value) => { const el = document.getElementById(id); if (el) el.textContent = value; };
  const show = (id, visible) => { const el = document.getElementById(id); if (el) el.hidden = !visible; };

  function fillServices() {
    const current = service.value;
    service.replaceChildren(...allOptions.filter((o) => o.dataset.category === category.value));
    if (Array.from(service.options).some((o) => o.value === current)) service.value = current;
  }

  function showFields(type) {
    for (const set of form.querySelectorAll("fieldset[data-types]")) {
      const wanted = set.dataset.types.split("|").includes(type);
      set.hidden = !wanted;
      set.disabled = !wanted; // a disabled fieldset's fields are not sent
    }
    const drip = field("drip_feed");
    show("drip-fields", Boolean(drip && drip.checked && !drip.disabled));
  }

  function showInfo(s) {
    text("info-name", s.name);
    text("info-type", s.type);
    text("info-rate", formatUnits(BigInt(s.rate)));
    text("info-per", s.type === "Package" ? t("per package") : t("per 1000"));
    text("info-limits", `${s.min} / ${s.max}`);
    text("info-description", s.description);
    text("info-refill", t("Refill %(days)s days", { days: s.refill_days }));
    show("info-refill", s.refill);
    show("info-cancel", s.cancel);
    text("info-average", s.average);
    show("info-average", Boolean(s.average));
    show("info-average-label", Boolean(s.average));
  }

  // What the order will cost, or why it cannot be priced yet.
  function quote(s) {
    const rate = BigInt(s.rate);
    const min = BigInt(s.min);
    const max = BigInt(s.max);
    const inRange = (q) => (q < min ? t("Quantity less than minimal %(minimum)s", { minimum: s.min }) : q > max ? t("Quantity more than maximum %(maximum)s", { maximum: s.max }) : null);
    if (s.type === "Package") return { charge: rate, detail: t("1 package") };
    if (s.type === "Subscriptions") {
      const low = wholeNumber(field("min").value);
      const high = wholeNumber(field("max").value);
      if (low === null || high === null) return { hint: t("Fill in min and max per post") };
      return {
        charge: 0n,
        detail: t("Each post costs %(low)s–%(high)s %(currency)s, charged when delivered", { low: formatUnits(perThousand(rate, low)), high: formatUnits(perThousand(rate, high)), currency }),
      };
    }
    let quantity;
    if (s.type === "Custom Comments") quantity = lineCount(field("comments").value);
    else if (s.type === "Mentions Custom List") quantity = lineCount(field("usernames").value);
    else quantity = wholeNumber(field("quantity").value);
    if (quantity === null || quantity === 0n) return { hint: t("Enter the quantity") };
    const problem = inRange(quantity);
    if (problem) return { hint: problem };
    let runs = 1n;
    let detail = `${quantity} × ${formatUnits(rate)} ${currency} / 1000`;
    const drip = field("drip_feed");
    if (s.type === "Default" && drip && drip.checked) {
      runs = wholeNumber(field("runs").value);
      if (runs === null || runs < 1n) return { hint: t("Enter the number of runs") };
      detail = t("%(quantity)s × %(runs)s runs = %(total)s × %(rate)s %(currency)s / 1000", { quantity, runs, total: quantity * runs, rate: formatUnits(rate), currency });
    }
    return { charge: perThousand(rate, quantity * runs), detail };
  }

  function update() {
    const s = byId.get(service.value);
    if (!s) return;
    showFields(s.type);
    showInfo(s);
    const q = quote(s);
    if (q.charge === undefined) {
      text("charge", "—");
      text("charge-detail", "");
      text("balance-after", "—");
      text("charge-hint", q.hint);
      return;
    }
    text("charge", `${formatUnits(q.charge)} ${currency}`);
    text("charge-detail", q.detail);
    text("balance-after", `${formatUnits(balance - q.charge)} ${currency}`);
    text("charge-hint", q.charge > balance ? t("Not enough funds on balance") : "");
  }

  category.addEventListener("change", () => { fillServices(); update(); });
  service.addEventListener("change", update);
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  fillServices();
  update();
}

const newOrderForm = document.getElementById("new-order");
if (newOrderForm) setupNewOrder(newOrderForm);

// Copy buttons: data-copy names the element whose text goes to the clipboard.
document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const source = document.querySelector(button.dataset.copy);
  if (source && navigator.clipboard) {
    navigator.clipboard.writeText(source.textContent.trim()).then(() => { button.textContent = t("Copied"); }, () => {});
  }
});

// Operator pages: a "select all" box ticks every box of its group (a tbody), else of its table.
document.addEventListener("change", (event) => {
  const all = event.target.closest("input[data-check-all]");
  if (!all) return;
  const scope = all.closest("tbody") || all.closest("table");
  for (const box of scope.querySelectorAll("input[type=checkbox]:not([data-check-all])")) box.checked = all.checked;
});

// --- Paying by card on /funds/payments/<id>: Stripe.js reads the card, the panel charges it. ---
// Nothing here is believed about money: the balance moves only when Stripe's signed webhook arrives.
function setupCardPayment(form) {
  const stripe = Stripe(form.dataset.publishableKey);
  const card = stripe.elements().create("card");
  card.mount(form.querySelector("#card-element"));
  const button = form.querySelector("#pay-button");
  const message = form.querySelector("#card-error");
  const fail = (text) => { message.textContent = text; button.disabled = false; };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    message.textContent = "";
    try {
      const { token, error } = await stripe.createToken(card);
      if (error || !token) return fail((error && error.message) || t("The card was not read: please check it."));
      const body = new URLSearchParams({ csrf_token: form.elements.csrf_token.value, token: token.id });
      const response = await fetch(form.action, { method: "POST", body, headers: { accept: "application/json" } });
      const answer = await response.json();
      if (answer.error) return fail(answer.error);
      if (answer.status === "requires_action") {
        const result = await stripe.confirmCardPayment(answer.client_secret);
        if (result.error) return fail(result.error.message || t("The card was not authenticated."));
      }
      window.location.assign(form.dataset.next);
    } catch (error) {
      fail(t("The payment could not be sent; please try again."));
    }
  });
}
for (const form of document.querySelectorAll("form[data-card-payment]")) setupCardPayment(form);

// A page that waits for something the server will learn soon (a payment's confirmation) reloads itself.
for (const waiting of document.querySelectorAll("[data-reload-after]")) {
  setTimeout(() => window.location.reload(), Number(waiting.dataset.reloadAfter) * 1000);
}

// A new payment's page sends the customer on to their gateway (PayPal, Cryptomus) at once; on the way
// back (the gateway's return carries a query) the link is only shown.
const gatewayLink = document.querySelector("a[data-follow]");
if (gatewayLink) window.location.assign(gatewayLink.href);

/* shop */
// --- Display currencies: the picker submits itself; amounts the page computes get their converted twin. ---
// The conversion is domain/currencies.py's, on integers: units × rate, half-up to the currency's decimals.
for (const select of document.querySelectorAll("select[data-autosubmit]")) {
  const apply = select.form.querySelector(".currency-apply");
  if (apply) apply.hidden = true;
  select.addEventListener("change", () => select.form.submit());
}

function parseUnits(text) {
  const found = /(-?)(\d+)(?:\.(\d{1,5}))?/.exec(text || "");
  if (!found) return null;
  const units = BigInt(found[2]) * SCALE + BigInt((found[3] || "").padEnd(5, "0"));
  return found[1] ? -units : units;
}

function convertedText(units, el) {
  const [whole, frac = ""] = el.dataset.rate.split(".");
  const numerator = BigInt(whole + frac);
  const decimals = Number(el.dataset.decimals);
  const negative = units < 0n;
  const product = (negative ? -units : units) * numerator;
  const shift = decimals - frac.length - 5;
  let minor;
  if (shift >= 0) minor = product * 10n ** BigInt(shift);
  else { const divisor = 10n ** BigInt(-shift); minor = (product * 2n + divisor) / (2n * divisor); }
  const one = 10n ** BigInt(decimals);
  let number = `${minor / one}`;
  if (decimals) number += `.${(minor % one).toString().padStart(decimals, "0")}`;
  const sign = negative && minor !== 0n ? "-" : "";
  return el.dataset.symbol ? `(≈ ${sign}${el.dataset.symbol}${number})` : `(≈ ${sign}${number} ${el.dataset.code})`;
}

for (const twin of document.querySelectorAll("[data-shown-of]")) {
  const source = document.getElementById(twin.dataset.shownOf);
  if (!source) continue;
  const follow = () => {
    const units = parseUnits(source.textContent);
    twin.textContent = units === null ? "" : convertedText(units, twin);
  };
  new MutationObserver(follow).observe(source, { childList: true, characterData: true, subtree: true });
  follow();
}

/* opsday */
// A ticket's canned reply goes into the answer at the cursor, keeping what was typed (without
// JavaScript the button reloads the page with the reply in the box).
document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-insert-into]");
  if (!button) return;
  const box = document.getElementById(button.dataset.insertInto);
  const choice = button.form.querySelector("select");
  const option = choice && choice.selectedOptions[0];
  if (!box || !option) return;
  event.preventDefault();
  const start = box.selectionStart ?? box.value.length;
  const end = box.selectionEnd ?? start;
  box.setRangeText(option.dataset.body || "", start, end, "end");
  box.focus();
});
// "Tick all" of a list of orders.
document.addEventListener("change", (event) => {
  const all = event.target.closest("input[data-check-all]");
  if (!all) return;
  for (const box of document.querySelectorAll(`input[name="${all.dataset.checkAll}"]`)) box.checked = all.checked;
});
/* i18n */
// The live texts above in the page's language: base.html's <html data-texts> holds their translations
// (smmpanel.i18n.vocabulary.SCRIPT_TEXTS); %(name)s placeholders are filled from ``values``.
// (A function declaration, hoisted: the lines above call it while this script first runs.)
function t(text, values = {}) {
  t.texts = t.texts || JSON.parse(document.documentElement.dataset.texts || "{}");
  const translated = t.texts[text] || text;
  return translated.replace(/%\((\w+)\)s|%%/g, (mark, name) => (name ? String(values[name]) : "%"));
}
