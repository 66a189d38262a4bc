// End-to-end tests of the web console in headless Chromium (Debian's
// chromium, driven by playwright-core) against a real billingd on
// PostgreSQL. internal/console/e2e (a Go test, so `make test` runs it)
// starts billingd and runs this file with BILLINGD_URL and BILLINGD_ADMIN_KEY.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { spawnSync } from "node:child_process";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const base = process.env.BILLINGD_URL ?? assert.fail("BILLINGD_URL is not set");
const adminKey = process.env.BILLINGD_ADMIN_KEY ?? assert.fail("BILLINGD_ADMIN_KEY is not set");
const shots = process.env.CONSOLE_ARTIFACTS ?? fs.mkdtempSync(path.join(os.tmpdir(), "console-shots-"));
fs.mkdirSync(shots, { recursive: true });
const axeSource = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

// The month under test is October 2026 in acme's time zone.
const tz = "Europe/Amsterdam";
const octStart = "2026-09-30T22:00:00Z";
const octEnd = "2026-10-31T23:00:00Z";

/** rest calls billingd's REST API directly, as the tests' independent check. */
async function rest(method, p, body, key = adminKey) {
  const res = await fetch(base + p, {
    method, headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : {} };
}
async function restOK(method, p, body) {
  const r = await rest(method, p, body);
  assert.ok(r.status < 300, `${method} ${p}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** ingest sends records through UsageService.BatchIngestUsage (REST), 10,000 at most per call. */
async function ingest(records) {
  for (let i = 0; i < records.length; i += 10000) {
    const res = await restOK("POST", "/v1/usage:ingest", { records: records.slice(i, i + 10000) });
    assert.equal(res.rejected?.length ?? 0, 0, JSON.stringify(res.rejected?.slice(0, 3)));
  }
}
function hourly(customerId, metricKey, resources, quantity) {
  const out = [];
  for (let t = Date.parse(octStart); t < Date.parse(octEnd); t += 3600_000) {
    for (const r of resources) {
      const start = new Date(t).toISOString(), end = new Date(t + 3600_000).toISOString();
      out.push({ idempotencyKey: `${r}/${metricKey}/${start}`, customerId, metricKey, quantity, startTime: start, endTime: end, resourceId: r, source: "e2e" });
    }
  }
  return out;
}

let browser;
const jsErrors = [];

before(async () => {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
  await restOK("POST", "/v1/customers", { id: "acme", displayName: "Acme Cloud", billingTimeZone: tz });
  await restOK("POST", "/v1/customers", { id: "globex", displayName: "Globex", billingTimeZone: "UTC" });
  await restOK("POST", "/v1/customers", { id: "bigco", displayName: "BigCo", billingTimeZone: tz });
});
after(async () => {
  await browser?.close();
  assert.deepEqual(jsErrors, [], "the console logged no JavaScript errors");
});

/** newPage opens a tab (its own sessionStorage) at a viewport. */
async function newPage(width = 1280, height = 800) {
  const ctx = await browser.newContext({ viewport: { width, height }, acceptDownloads: true });
  const page = await ctx.newPage();
  page.on("pageerror", (e) => jsErrors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error" && !/status of 40[0134]/.test(m.text())) jsErrors.push(m.text()); });
  return page;
}
async function signIn(page, key) {
  await page.goto(base + "/console/");
  await page.getByLabel("API key", { exact: true }).fill(key);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: "Sign out" }).waitFor();
}
/** checkA11y runs axe-core; serious and critical violations fail. */
async function checkA11y(page, screen) {
  await page.evaluate(axeSource); // not addScriptTag: the console's CSP forbids inline scripts
  const { violations } = await page.evaluate(() => globalThis.axe.run(document, { resultTypes: ["violations"] }));
  const bad = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`), [], `axe on ${screen}`);
}
async function shot(page, name) {
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
}
function fieldError(page, label, scope = page) {
  // The message sits in the same .field as the labelled control.
  return scope.locator(".field", { has: page.getByLabel(label, { exact: true }) }).locator(".field-error");
}

test("sign-in refuses an empty and an unknown key, then signs in and out", async () => {
  const page = await newPage();
  await page.goto(base + "/console/bills");
  await page.getByRole("button", { name: "Sign in" }).click();
  await fieldError(page, "API key").getByText("Paste an API key").waitFor();
  await page.getByLabel("API key", { exact: true }).fill("bk_not-a-real-key-0123456789");
  await page.getByRole("button", { name: "Sign in" }).click();
  await fieldError(page, "API key").getByText("does not know this key").waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.length), 0, "a refused key is not kept");
  await shot(page, "00-sign-in");
  await checkA11y(page, "sign-in");
  await signIn(page, adminKey);
  assert.equal(await page.evaluate(() => sessionStorage.getItem("billingd.apiKey")), adminKey);
  await page.reload(); // the tab keeps its session
  await page.getByRole("button", { name: "Sign out" }).waitFor();
  assert.ok(!page.url().includes(adminKey), "the key is never in a URL");
  assert.equal(await page.evaluate((k) => localStorage.length === 0 && !document.cookie.includes(k), adminKey), true);
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByLabel("API key", { exact: true }).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem("billingd.apiKey")), null, "sign-out forgets the key");
  await page.context().close();
});

test("catalog, price list with two dated prices and a campaign built in the UI; the bill equals QueryBilling; PDF download", async () => {
  const page = await newPage();
  await signIn(page, adminKey);

  await page.getByRole("link", { name: "Catalog" }).click();
  await page.getByLabel("Metric key", { exact: true }).fill("e2e.vcpu");
  await page.getByLabel("Metric name", { exact: true }).fill("vCPU");
  await page.getByLabel("Metric unit", { exact: true }).fill("vCPU");
  await page.getByRole("button", { name: "Create metric" }).click();
  await page.getByRole("cell", { name: /e2e\.vcpu/ }).waitFor();

  // A refused create shows the server's violation at its field.
  await page.getByLabel("Group id", { exact: true }).fill("bad id!");
  await page.getByLabel("Group name", { exact: true }).fill("Compute");
  await page.getByRole("button", { name: "Create group" }).click();
  await fieldError(page, "Group id").waitFor();
  await page.getByLabel("Group id", { exact: true }).fill("compute");
  await page.getByRole("button", { name: "Create group" }).click();
  await page.getByText("Compute", { exact: true }).waitFor();

  await page.getByLabel("Product id", { exact: true }).fill("vcpu");
  await page.getByLabel("Product name", { exact: true }).fill("vCPU hours");
  await page.getByLabel("Group", { exact: true }).selectOption("compute");
  await page.getByLabel("Metric", { exact: true }).selectOption("e2e.vcpu");
  await page.getByRole("button", { name: "Create product" }).click();
  // Edit: PATCH sends only the changed field; the audit trail keeps before and after.
  await page.getByRole("button", { name: "Edit vcpu" }).click();
  await page.getByLabel("Name of vcpu", { exact: true }).fill("vCPU-hours");
  await page.getByRole("button", { name: "Save" }).click();
  await page.locator("li", { hasText: "vCPU-hours" }).getByRole("button", { name: "Edit vcpu" }).waitFor();
  await shot(page, "02-catalog");
  await checkA11y(page, "catalog");

  await page.getByRole("link", { name: "Price lists" }).click();
  await page.getByLabel("List id", { exact: true }).fill("default-eur");
  await page.getByLabel("List name", { exact: true }).fill("Default EUR");
  await page.getByRole("button", { name: "Create price list" }).click();
  await page.getByRole("heading", { name: /New price in default-eur/ }).waitFor();
  async function addPrice(unitPrice, from, to) {
    await page.getByLabel("Priced product", { exact: true }).selectOption("vcpu");
    await page.getByLabel("Unit price", { exact: true }).fill(unitPrice);
    await page.getByLabel("Valid from (UTC)", { exact: true }).fill(from);
    await page.getByLabel("Valid to (UTC, exclusive)", { exact: true }).fill(to);
    await page.getByRole("button", { name: "Add price" }).click();
  }
  await addPrice("0.0100", "2026-09-01", "2026-10-16");
  await page.getByText(/0\.01 per hour/).waitFor(); // the API normalises decimals
  await addPrice("0.0200", "2026-10-16", "");
  await page.getByText(/0\.02 per hour/).waitFor();

  // An overlapping window is refused; the message appears at the field and nothing is stored.
  await addPrice("0.0300", "2026-10-10", "2026-10-20");
  const overlap = fieldError(page, "Valid from (UTC)");
  await overlap.waitFor();
  assert.match(await overlap.innerText(), /overlaps/);
  assert.equal(await page.getByLabel("Valid from (UTC)", { exact: true }).getAttribute("aria-invalid"), "true");
  const stored = await restOK("GET", "/v1/priceLists/default-eur/prices?pageSize=1000");
  assert.deepEqual(stored.prices.map((p) => p.unitPrice).sort(), ["0.01", "0.02"], "the refused price was not stored");
  await shot(page, "03b-price-overlap-refused");

  await page.getByLabel("Campaign id", { exact: true }).fill("autumn");
  await page.getByLabel("Campaign name", { exact: true }).fill("Autumn deal");
  await page.getByLabel("Overridden product", { exact: true }).selectOption("vcpu");
  await page.getByLabel("Campaign unit price", { exact: true }).fill("0.0050");
  await page.getByLabel("Campaign from (UTC)", { exact: true }).fill("2026-10-20");
  await page.getByLabel("Campaign to (UTC, exclusive)", { exact: true }).fill("2026-10-23");
  await page.getByRole("button", { name: "Create campaign" }).click();
  await page.getByText(/campaign Autumn deal: 0\.005 /).waitFor();
  // A committed contract for globex: 10 vCPU for 100 EUR a month, prorated daily.
  await page.getByLabel("Contract id", { exact: true }).fill("globex-vcpu");
  await page.getByLabel("Contract customer", { exact: true }).fill("globex");
  await page.getByLabel("Contracted product", { exact: true }).selectOption("vcpu");
  await page.getByLabel("Committed quantity", { exact: true }).fill("10");
  await page.getByLabel("Fee", { exact: true }).fill("100");
  await page.getByLabel("Contract from (UTC)", { exact: true }).fill("2026-10-01");
  await page.getByRole("button", { name: "Create contract" }).click();
  await page.getByRole("cell", { name: "globex-vcpu" }).waitFor();
  await shot(page, "03-price-lists");
  await checkA11y(page, "price lists");

  // Usage through the API: 4 vCPU every hour of October on two VMs, and a
  // metric no product sells, which the bill names as unpriced.
  await ingest(hourly("acme", "e2e.vcpu", ["vm-1", "vm-2"], "4"));
  await restOK("POST", "/v1/metrics", { key: "e2e.unsold", displayName: "Unsold", unit: "GB", aggregation: "AGGREGATION_SUM" });
  await ingest([{ idempotencyKey: "unsold-1", customerId: "acme", metricKey: "e2e.unsold", quantity: "5", resourceId: "disk-1", source: "e2e",
    startTime: "2026-10-02T00:00:00Z", endTime: "2026-10-02T01:00:00Z" }]);

  await page.goto(base + "/console/bills?customer=acme&month=2026-10");
  const total = page.getByTestId("bill-total");
  await total.waitFor();
  const api = await restOK("GET", `/v1/billing:query?query.customerIds=acme&query.startTime=${octStart}&query.endTime=${octEnd}&query.groupBy=GROUP_BY_CUSTOMER`);
  assert.equal(api.totals.length, 1);
  assert.notEqual(api.totals[0].amount, "0.00");
  assert.equal(await total.innerText(), `${api.totals[0].amount} ${api.totals[0].currency}`, "the UI's total is QueryBilling's, to the cent");
  await page.getByRole("img", { name: /Cost per product per day/ }).waitFor();
  await page.getByRole("img", { name: /Cost per product per month/ }).waitFor();
  await page.getByText(/campaign autumn/).first().waitFor(); // a line priced by the campaign names it
  const unsold = page.getByRole("row", { name: /e2e\.unsold/ });
  await unsold.waitFor();
  assert.match(await unsold.innerText(), /disk-1/);
  await shot(page, "01-bills");
  await checkA11y(page, "bills");

  const magic = { pdf: "%PDF-", xlsx: "PK\x03\x04", csv: "", json: "{", xml: "<?xml" };
  for (const [format, start] of Object.entries(magic)) {
    const [dl] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: format.toUpperCase() }).click()]);
    assert.match(dl.suggestedFilename(), new RegExp(`\\.${format}$`));
    const file = path.join(shots, dl.suggestedFilename());
    await dl.saveAs(file);
    const bytes = fs.readFileSync(file);
    assert.ok(bytes.length > 0 && bytes.subarray(0, start.length).toString("latin1") === start, `${format} download starts with ${JSON.stringify(start)}`);
    if (format === "pdf" && spawnSync("pdftotext", ["-v"]).status === 0) {
      const text = spawnSync("pdftotext", ["-layout", file, "-"], { encoding: "utf8" }).stdout;
      assert.ok(text.includes(api.totals[0].amount), `the PDF shows the total ${api.totals[0].amount}`);
    }
  }

  // Sorting by amount, largest first, is one header click away (twice: descending).
  const amountHeader = page.getByTestId("lines").getByRole("columnheader", { name: "Amount" });
  await amountHeader.getByRole("button").click();
  await amountHeader.getByRole("button").click();
  assert.equal(await amountHeader.getAttribute("aria-sort"), "descending");
  const lines = (await restOK("GET", `/v1/billing:query?query.customerIds=acme&query.startTime=${octStart}&query.endTime=${octEnd}&query.groupBy=GROUP_BY_CUSTOMER&query.groupBy=GROUP_BY_PRODUCT&query.groupBy=GROUP_BY_MODEL`)).lines;
  const largest = lines.map((l) => l.amount).sort((a, b) => Number(b) - Number(a))[0];
  assert.ok((await page.getByTestId("lines").locator("tbody tr").nth(0).innerText()).includes(`${largest} EUR`), `the first line after sorting is the largest, ${largest}`);

  // The same bill on a phone-sized screen.
  await page.setViewportSize({ width: 390, height: 844 });
  await total.waitFor();
  // The chart resizes on a ResizeObserver tick: let the layout settle first.
  await page.waitForFunction(() => document.documentElement.scrollWidth <= window.innerWidth + 1, null, { timeout: 5000 }).catch(() => {});
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `no horizontal page scroll at 390 px (overflow ${overflow}px)`);
  await shot(page, "01b-bills-390x844");
  await page.context().close();
});

test("every main screen renders, passes axe and has a screenshot", async () => {
  const page = await newPage();
  await signIn(page, adminKey);
  const screens = [["usage", "Usage and stats", "04-usage"], ["customers", "Customers", "05-customers"],
    ["months", "Months", "06-months"], ["access", "Access", "07-access"]];
  for (const [route, heading, name] of screens) {
    await page.getByRole("link", { name: heading === "Usage and stats" ? "Usage" : heading, exact: true }).click();
    await page.getByRole("heading", { level: 1, name: heading }).waitFor();
    await page.locator(".loading").first().waitFor({ state: "detached" }).catch(() => {});
    assert.match(page.url(), new RegExp(`/console/${route}`));
    if (route === "customers") {
      // A bad time zone is refused at its field; then the customer is made.
      await page.getByLabel("Customer id", { exact: true }).fill("initech");
      await page.getByLabel("Customer name", { exact: true }).fill("Initech");
      await page.getByLabel("Billing time zone", { exact: true }).fill("Mars/Olympus");
      await page.getByRole("button", { name: "Create customer" }).click();
      const tzError = fieldError(page, "Billing time zone");
      await tzError.waitFor();
      assert.match(await tzError.innerText(), /unknown time zone "Mars\/Olympus"/);
      assert.equal((await rest("GET", "/v1/customers/initech")).status, 404, "the refused customer was not stored");
      await page.getByLabel("Billing time zone", { exact: true }).fill("Europe/Berlin");
      await page.getByRole("button", { name: "Create customer" }).click();
      await page.getByText("Initech", { exact: true }).waitFor();
      await page.locator("summary", { hasText: "Acme Cloud" }).click();
      const acme = page.getByRole("group").filter({ hasText: "Acme Cloud" });
      await acme.getByText("No organisations.").waitFor();
      // Customer → organisation → VDC, made here and read back from the API.
      await acme.getByLabel("New organisation id", { exact: true }).fill("acme-prod");
      await acme.getByLabel("Organisation name", { exact: true }).fill("Acme production");
      await acme.getByRole("button", { name: "Add organisation" }).click();
      await acme.getByText("Acme production").waitFor();
      await acme.getByLabel("New VDC id", { exact: true }).fill("ams1");
      await acme.getByLabel("VDC name", { exact: true }).fill("Amsterdam 1");
      await acme.getByRole("button", { name: "Add VDC" }).click();
      await acme.getByText("VDC Amsterdam 1").waitFor();
      assert.equal((await restOK("GET", "/v1/customers/acme/organisations/acme-prod/vdcs/ams1")).vdc.displayName, "Amsterdam 1");
    }
    if (route === "usage") await page.getByRole("cell", { name: "2026-10" }).waitFor();
    if (route === "access") {
      const edit = page.locator("ol.audit li", { hasText: /update product vcpu/ });
      await edit.locator("summary").click();
      const row = edit.getByRole("row", { name: /displayName/ });
      assert.deepEqual(await row.getByRole("cell").allInnerTexts(), ["displayName", '"vCPU hours"', '"vCPU-hours"'], "the audit diff shows before and after");
    }
    if (route === "months") await closeAndReopen(page);
    await shot(page, name);
    await checkA11y(page, heading);
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForFunction(() => document.documentElement.scrollWidth <= window.innerWidth + 1, null, { timeout: 5000 }).catch(() => {});
    await shot(page, `${name}-390x844`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    const wide = await page.evaluate(() => [...document.querySelectorAll("body *")]
      .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1 && e.parentElement.getBoundingClientRect().right <= window.innerWidth + 1)
      .slice(0, 5).map((e) => `${e.tagName}.${e.className} ${e.textContent.slice(0, 40)}`));
    assert.ok(overflow <= 1, `${heading}: no horizontal page scroll at 390 px (overflow ${overflow}px: ${wide.join(" | ")})`);
    await page.setViewportSize({ width: 1280, height: 800 });
  }
  await page.context().close();
});

/** closeAndReopen closes acme's October in the UI, sends late usage through
 *  the API and finds it as an adjustment line of November, then reopens. */
async function closeAndReopen(page) {
  await page.getByLabel("Month", { exact: true }).fill("2026-10");
  await page.getByRole("button", { name: "Close month" }).click();
  await page.getByRole("cell", { name: "2026-10" }).waitFor();
  await ingest([{ idempotencyKey: "late-1", customerId: "acme", metricKey: "e2e.vcpu", quantity: "10", resourceId: "vm-late", source: "e2e",
    startTime: "2026-10-05T10:00:00Z", endTime: "2026-10-05T11:00:00Z" }]);
  await page.reload();
  await page.getByRole("heading", { name: "Adjustment lines in 2026-11" }).waitFor();
  const adj = page.getByRole("row", { name: /late usage/ });
  await adj.waitFor();
  assert.match(await adj.innerText(), /2026-10/);
  await shot(page, "06b-months-closed-adjustment");
  await page.getByLabel("Month", { exact: true }).fill("2026-10");
  await page.getByLabel(/^Reason/).fill("e2e: reopened to fix a late record");
  await page.getByRole("button", { name: "Reopen month" }).click();
  await page.getByText("2026-10 reopened.").waitFor();
  await page.getByText(/No closed month/).waitFor();
}

test("keyboard only: skip link, main navigation and the sign-in form", async () => {
  const page = await newPage();
  await page.goto(base + "/console/");
  await page.getByLabel("API key", { exact: true }).waitFor();
  await page.keyboard.press("Tab"); // the key field is the sign-in page's first control
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("type")), "password");
  await page.keyboard.type(adminKey);
  await page.keyboard.press("Enter");
  await page.getByRole("button", { name: "Sign out" }).waitFor();
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Skip to content");
  // Forward through the navigation: focus stays on a followed link.
  for (const target of ["Catalog", "Price lists", "Months"]) {
    let found = false;
    for (let i = 0; i < 15 && !found; i++) {
      await page.keyboard.press("Tab");
      found = (await page.evaluate(() => document.activeElement?.textContent)) === target;
    }
    assert.ok(found, `Tab reaches the ${target} link`);
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 1, name: target === "Price lists" ? "Price lists" : target }).waitFor();
  }

  // Forms work from the keyboard too: on Bills, Space ticks a group-by level.
  await page.goto(base + "/console/bills?customer=acme&month=2026-10");
  await page.getByTestId("bill-total").waitFor();
  await page.getByRole("checkbox", { name: "resource" }).focus();
  await page.keyboard.press("Space");
  await page.waitForURL(/GROUP_BY_RESOURCE/);
  // The box is controlled by the URL: it shows ticked once the route has updated.
  await page.getByRole("checkbox", { name: "resource", checked: true }).waitFor();
  await page.getByTestId("lines").getByRole("columnheader", { name: "Resource" }).waitFor();
  // The lines' region takes focus and scrolls with the keyboard.
  await page.getByTestId("lines").focus();
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("data-testid")), "lines");
  await page.context().close();
});

test("a tenant key sees its customer only; another customer is a 403 state and a 403 from the API", async () => {
  // The tenant key is made in the Access screen; its secret is shown once.
  const admin = await newPage();
  await signIn(admin, adminKey);
  await admin.getByRole("link", { name: "Access" }).click();
  await admin.getByLabel("Key name", { exact: true }).fill("acme portal");
  await admin.getByLabel("Role", { exact: true }).selectOption("ROLE_READER");
  await admin.getByLabel("Scoped to customer", { exact: true }).fill("acme");
  await admin.getByRole("button", { name: "Create key" }).click();
  const tenantKey = await admin.getByTestId("new-secret").innerText();
  assert.ok(tenantKey.length > 20);
  await admin.getByText("acme portal").first().waitFor();
  await shot(admin, "07b-access-new-key");
  await admin.context().close();

  const page = await newPage();
  await signIn(page, tenantKey);
  assert.deepEqual(await page.getByRole("navigation", { name: "Main" }).getByRole("link").allInnerTexts(), ["Bills", "Usage"]);
  const options = await page.getByRole("combobox", { name: /^Customer/ }).locator("option").allInnerTexts();
  assert.deepEqual(options, ["Acme Cloud"], "the tenant chooses among its own customer only");
  await page.goto(base + "/console/bills?month=2026-10");
  await page.getByTestId("bill-total").waitFor();
  await shot(page, "08-tenant-bills");
  await checkA11y(page, "tenant bills");

  const [csv] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "CSV" }).click()]);
  assert.match(csv.suggestedFilename(), /acme.*\.csv$/, "the tenant downloads its own report");

  await page.goto(base + "/console/bills?customer=globex&month=2026-10");
  const denied = page.locator('.error-state[data-status="403"]');
  await denied.waitFor();
  assert.match(await denied.innerText(), /Not allowed \(403\)/);
  assert.equal(await page.getByTestId("bill-total").count(), 0);
  await shot(page, "09-tenant-403");

  await page.getByRole("link", { name: "Usage" }).click();
  await page.getByRole("cell", { name: "2026-10" }).waitFor(); // its own stats, asked with customerId=acme
  await shot(page, "08b-tenant-usage");

  const direct = await rest("GET", `/v1/billing:query?query.customerIds=globex&query.startTime=${octStart}&query.endTime=${octEnd}`, undefined, tenantKey);
  assert.equal(direct.status, 403, "the API itself refuses another customer to a tenant key");
  await page.context().close();
});

test("a bill of 10,000+ lines renders virtualised (first render reported)", async () => {
  const resources = Array.from({ length: 14 }, (_, i) => `big-vm-${i}`);
  await ingest(hourly("bigco", "e2e.vcpu", resources, "2"));
  const page = await newPage();
  await signIn(page, adminKey);
  await page.goto(base + "/console/bills?customer=bigco&month=2026-10&granularity=GRANULARITY_HOUR&group=GROUP_BY_RESOURCE,GROUP_BY_PRODUCT");
  const region = page.getByTestId("lines");
  await region.waitFor({ timeout: 60_000 });
  const lines = Number(await region.getAttribute("aria-label").then((s) => s.replace(/\D/g, "")));
  assert.ok(lines >= 10000, `${lines} lines`);
  const ms = await page.evaluate(() => {
    const m = (n) => performance.getEntriesByName(n).at(-1)?.startTime;
    return m("bill-rendered") - m("bill-data");
  });
  assert.equal(await region.getByRole("columnheader", { name: "Resource" }).count(), 1, "the resource level has its column");
  const rows = await region.locator("tbody tr").count();
  assert.ok(rows < 100, `virtualised: ${rows} <tr> in the DOM for ${lines} lines`);
  await region.evaluate((el) => { el.scrollTop = el.scrollHeight; });
  await page.waitForFunction((n) => document.querySelector(`[aria-rowindex="${n}"]`), lines + 1);
  console.log(`# 10k bill: ${lines} lines, first render ${ms.toFixed(0)} ms after the data arrived, ${rows} rows in the DOM`);
  fs.writeFileSync(path.join(shots, "bill-10k.txt"), `${lines} lines, first render ${ms.toFixed(0)} ms, ${rows} <tr>\n`);
  await shot(page, "10-bill-10k-lines");
  await page.context().close();
});

/** patchBody waits for the next PATCH to path and returns its JSON body. */
async function patchBody(page, pathPart, action) {
  const [req] = await Promise.all([
    page.waitForRequest((r) => r.method() === "PATCH" && r.url().includes(pathPart)),
    action(),
  ]);
  return JSON.parse(req.postData() ?? "{}");
}

test("catalog edits: metric, group and product dimension filter PATCH only the changed fields; a refused filter shows at its field", async () => {
  await restOK("POST", "/v1/metrics", { key: "e2e.disk", displayName: "Disk", unit: "GB", aggregation: "AGGREGATION_MAX" });
  await restOK("POST", "/v1/productGroups", { id: "storage", displayName: "Storage" });
  await restOK("POST", "/v1/products", { id: "disk-gold", displayName: "Gold disk", productGroupId: "storage", metricKey: "e2e.disk", dimensionFilter: { policy: "Gold" } });
  const page = await newPage();
  await signIn(page, adminKey);
  await page.getByRole("link", { name: "Catalog" }).click();

  // From the keyboard: Enter on Edit puts focus in the form's first field.
  await page.getByRole("button", { name: "Edit e2e.disk" }).focus();
  await page.keyboard.press("Enter");
  await page.getByLabel("Name of e2e.disk", { exact: true }).waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.closest("form")?.getAttribute("aria-label")), "Edit e2e.disk");
  await page.keyboard.press("Tab");
  await page.keyboard.type("Provisioned disk");
  assert.equal(await page.getByLabel("Description of e2e.disk", { exact: true }).inputValue(), "Provisioned disk");
  await page.getByLabel("Unit of e2e.disk", { exact: true }).fill("GiB");
  const metricBody = await patchBody(page, "/v1/metrics/e2e.disk", () => page.getByRole("button", { name: "Save" }).click());
  assert.deepEqual(metricBody, { description: "Provisioned disk", unit: "GiB" }, "only the changed fields are sent");
  await page.getByRole("cell", { name: /Provisioned disk/ }).waitFor();
  const metric = (await restOK("GET", "/v1/metrics/e2e.disk")).metric;
  assert.deepEqual([metric.displayName, metric.description, metric.unit], ["Disk", "Provisioned disk", "GiB"]);

  await page.getByRole("button", { name: "Edit storage" }).click();
  await page.getByLabel("Name of storage", { exact: true }).fill("Storage and backup");
  await page.getByLabel("Description of storage", { exact: true }).fill("Disks, snapshots");
  const groupBody = await patchBody(page, "/v1/productGroups/storage", () => page.getByRole("button", { name: "Save" }).click());
  assert.deepEqual(groupBody, { displayName: "Storage and backup", description: "Disks, snapshots" });
  await page.getByText("Storage and backup", { exact: true }).waitFor();

  // A bad filter key is refused at the filter's field and changes nothing.
  await page.getByRole("button", { name: "Edit disk-gold" }).click();
  const filter = page.getByLabel("Dimension filter of disk-gold", { exact: true });
  assert.equal(await filter.inputValue(), "policy=Gold");
  await filter.fill("Bad Key!=x");
  await page.getByRole("button", { name: "Save" }).click();
  const err = fieldError(page, "Dimension filter of disk-gold");
  await err.waitFor();
  assert.match(await err.innerText(), /key "Bad Key!" must match/);
  assert.equal(await filter.getAttribute("aria-invalid"), "true");
  assert.deepEqual((await restOK("GET", "/v1/products/disk-gold")).product.dimensionFilter, { policy: "Gold" }, "the refused filter was not stored");
  await shot(page, "02c-catalog-filter-refused");
  await checkA11y(page, "catalog edit form");
  await filter.fill("policy=Gold, site=ams");
  const productBody = await patchBody(page, "/v1/products/disk-gold", () => page.getByRole("button", { name: "Save" }).click());
  assert.deepEqual(productBody, { dimensionFilter: { policy: "Gold", site: "ams" } });
  await page.getByText(/where policy=Gold, site=ams/).waitFor();
  assert.deepEqual((await restOK("GET", "/v1/products/disk-gold")).product.dimensionFilter, { policy: "Gold", site: "ams" });
  await shot(page, "02b-catalog-edited");
  await page.context().close();
});

test("derived metrics and peak basis are shown and set on create; tiered prices with a minimum charge created and edited, PATCHing only the changed fields", async () => {
  const page = await newPage();
  await signIn(page, adminKey);
  await page.getByRole("link", { name: "Catalog" }).click();
  // A derived metric over e2e.disk (a max gauge), made in the UI.
  await page.getByLabel("Metric key", { exact: true }).fill("e2e.disk_double");
  await page.getByLabel("Metric name", { exact: true }).fill("Disk, twice");
  await page.getByLabel("Metric unit", { exact: true }).fill("GB");
  await page.getByLabel("Aggregation", { exact: true }).selectOption("AGGREGATION_MAX");
  await page.getByLabel("Expression", { exact: true }).fill("e2e.disk * 2");
  await page.getByRole("button", { name: "Create metric" }).click();
  const derived = page.getByRole("cell", { name: /e2e\.disk_double/ });
  await derived.waitFor();
  assert.match(await derived.innerText(), /= e2e\.disk \* 2 \(derived\)/);
  assert.equal((await restOK("GET", "/v1/metrics/e2e.disk_double")).metric.expression, "e2e.disk * 2");
  // A product charging the customer's peak.
  await page.getByLabel("Product id", { exact: true }).fill("disk-peak");
  await page.getByLabel("Product name", { exact: true }).fill("Disk at peak");
  await page.getByLabel("Group", { exact: true }).selectOption("storage");
  await page.getByLabel("Metric", { exact: true }).selectOption("e2e.disk");
  await page.getByLabel("Peak basis", { exact: true }).selectOption("PEAK_BASIS_CUSTOMER");
  await page.getByRole("button", { name: "Create product" }).click();
  await page.locator("li", { hasText: "Disk at peak" }).getByText("peak: customer's total").waitFor();
  assert.equal((await restOK("GET", "/v1/products/disk-peak")).product.peakBasis, "PEAK_BASIS_CUSTOMER");
  await shot(page, "02d-catalog-derived-peak");

  await restOK("POST", "/v1/priceLists", { id: "storage-initech", displayName: "Initech storage", currency: "EUR", customerId: "initech" });
  await page.goto(base + "/console/pricing?list=storage-initech");
  await page.getByRole("heading", { name: /New price in storage-initech/ }).waitFor();
  await page.getByLabel("Priced product", { exact: true }).selectOption("disk-peak");
  await page.getByLabel("Pricing", { exact: true }).selectOption("TIER_MODE_GRADUATED");
  await page.getByRole("button", { name: "Add tier" }).click();
  await page.getByRole("button", { name: "Add tier" }).click();
  await page.getByLabel("Tier 1 up to", { exact: true }).fill("100");
  await page.getByLabel("Tier 1 unit price", { exact: true }).fill("0.02");
  await page.getByLabel("Tier 2 up to", { exact: true }).fill("1000");
  await page.getByLabel("Tier 2 unit price", { exact: true }).fill("0.015");
  await page.getByLabel("Tier 3 unit price", { exact: true }).fill("0.01");
  await page.getByLabel("Per", { exact: true }).selectOption("GRANULARITY_MONTH");
  await page.getByLabel("Valid from (UTC)", { exact: true }).fill("2026-10-01");
  await page.getByLabel("Minimum monthly charge", { exact: true }).fill("50");
  await page.getByRole("button", { name: "Add price" }).click();
  const bar = page.locator(".bar.price", { hasText: "graduated" });
  await bar.waitFor();
  assert.match(await bar.innerText(), /graduated: ≤100 at 0\.02, ≤1000 at 0\.015, above at 0\.01 \(min 50\)/, "the timeline shows the tiers");
  const [stored] = (await restOK("GET", "/v1/priceLists/storage-initech/prices")).prices;
  assert.equal(stored.tierMode, "TIER_MODE_GRADUATED");
  assert.deepEqual(stored.tiers.map((t) => [t.upTo, t.unitPrice]), [["100", "0.02"], ["1000", "0.015"], ["", "0.01"]]);
  assert.equal(stored.minimumCharge, "50");

  // A refused edit: a band bound below the one before is shown at that row's field; nothing changes.
  await page.getByRole("button", { name: `Edit price ${stored.id}` }).click();
  const form = page.getByRole("form", { name: `Edit price ${stored.id} of disk-peak` });
  await form.getByLabel(`Tier 2 up to`, { exact: true }).fill("50");
  await form.getByRole("button", { name: "Save price" }).click();
  const tierErr = fieldError(page, "Tier 2 up to", form);
  await tierErr.waitFor();
  assert.match(await tierErr.innerText(), /greater than tiers\[0\]\.up_to/);
  assert.match(await form.locator(".form-error").innerText(), /check the field marked above/, "one violation, counted once");
  assert.deepEqual((await restOK("GET", "/v1/priceLists/storage-initech/prices")).prices[0].tiers, stored.tiers, "the refused tiers were not stored");
  await shot(page, "03c-price-tier-refused");
  await checkA11y(page, "price edit form");

  // Switch to volume, a new last price and an end date: only those fields are sent.
  await form.getByLabel(`Tier 2 up to`, { exact: true }).fill("1000");
  await form.getByLabel(`Pricing`, { exact: true }).selectOption("TIER_MODE_VOLUME");
  await form.getByLabel(`Tier 3 unit price`, { exact: true }).fill("0.008");
  await form.getByLabel(`Valid to (UTC, exclusive)`, { exact: true }).fill("2027-01-01");
  const body = await patchBody(page, `/prices/${stored.id}`, () => page.getByRole("button", { name: "Save price" }).click());
  assert.deepEqual(Object.keys(body).sort(), ["tierMode", "tiers", "validTo"]);
  await page.locator(".bar.price", { hasText: "volume: ≤100 at 0.02, ≤1000 at 0.015, above at 0.008" }).waitFor();
  const edited = (await restOK("GET", "/v1/priceLists/storage-initech/prices")).prices[0];
  assert.deepEqual([edited.tierMode, edited.validTo, edited.minimumCharge, edited.validFrom], ["TIER_MODE_VOLUME", "2027-01-01T00:00:00Z", "50", stored.validFrom]);

  // A flat price edited: unit price and an open end, nothing else.
  const flat = (await restOK("POST", "/v1/priceLists/storage-initech/prices", { productId: "disk-gold", unitPrice: "0.05", granularity: "GRANULARITY_MONTH",
    validFrom: "2026-10-01T00:00:00Z", validTo: "2026-11-01T00:00:00Z" })).price;
  await page.reload();
  await page.getByRole("button", { name: `Edit price ${flat.id}` }).click();
  const flatForm = page.getByRole("form", { name: `Edit price ${flat.id} of disk-gold` });
  await flatForm.getByLabel(`Unit price`, { exact: true }).fill("0.045");
  await flatForm.getByLabel(`Valid to (UTC, exclusive)`, { exact: true }).fill("");
  const flatBody = await patchBody(page, `/prices/${flat.id}`, () => page.getByRole("button", { name: "Save price" }).click());
  assert.deepEqual(flatBody, { unitPrice: "0.045", validTo: null });
  await page.getByText(/0\.045 per month, \[2026-10-01, open\)/).waitFor();
  const flatAfter = (await restOK("GET", `/v1/priceLists/storage-initech/prices/${flat.id}`)).price;
  assert.deepEqual([flatAfter.unitPrice, flatAfter.validTo ?? null], ["0.045", null]);
  await shot(page, "03d-price-tiers-edited");
  await page.context().close();
});

test("bills of several customers: all customers and a chosen few, each over its own month, lines grouped by customer with the API's subtotals", async () => {
  const page = await newPage();
  await signIn(page, adminKey);
  await page.goto(base + "/console/bills?customer=acme&month=2026-10");
  await page.getByTestId("bill-total").waitFor();

  // All customers: one QueryBilling by month name (each customer's own month), no instants.
  const [req] = await Promise.all([
    page.waitForRequest((r) => r.url().includes("/v1/billing:query") && r.url().includes("GROUP_BY_MODEL")),
    page.getByRole("combobox", { name: /^Customer/ }).selectOption("*"),
  ]);
  const sent = new URL(req.url()).searchParams;
  assert.equal(sent.get("query.month"), "2026-10");
  assert.equal(sent.has("query.startTime"), false, "a whole month is asked by name, not by computed instants");
  assert.deepEqual(sent.getAll("query.customerIds"), [], "all customers");
  await page.getByText("each customer's own", { exact: false }).first().waitFor();
  const all = await restOK("GET", "/v1/billing:query?query.month=2026-10&query.groupBy=GROUP_BY_CUSTOMER");
  const total = page.getByTestId("bill-total");
  await total.first().waitFor();
  assert.deepEqual(await total.allInnerTexts(), all.totals.map((t) => `${t.amount} ${t.currency}`), "all customers' total is QueryBilling's");
  const groups = page.getByTestId("customer-group");
  await groups.first().waitFor();
  // Each group's subtotal is that customer's own QueryBilling total for its month.
  const subtotal = async (id) => (await restOK("GET", `/v1/billing:query?query.month=2026-10&query.customerIds=${id}`)).totals.map((t) => `${t.amount} ${t.currency}`).join(", ");
  const acmeGroup = groups.filter({ hasText: "Acme Cloud" });
  await acmeGroup.getByTestId("customer-subtotal").waitFor();
  assert.equal(await acmeGroup.getByTestId("customer-subtotal").innerText(), await subtotal("acme"));
  assert.equal(await groups.filter({ hasText: "BigCo" }).getByTestId("customer-subtotal").innerText(), await subtotal("bigco"));
  assert.match(await acmeGroup.innerText(), /Europe\/Amsterdam/);
  await shot(page, "01c-bills-all-customers");
  await checkA11y(page, "bills of all customers");

  // A chosen few, from the keyboard: Space ticks a customer.
  await page.getByRole("combobox", { name: /^Customer/ }).selectOption("+");
  const pick = page.getByRole("group", { name: "Customers on this bill" });
  await pick.waitFor();
  await pick.getByRole("checkbox", { name: "Acme Cloud" }).check();
  await pick.getByRole("checkbox", { name: "Globex" }).focus();
  await page.keyboard.press("Space");
  await page.waitForURL(/customer=acme%2Cglobex|customer=acme,globex/);
  const two = await restOK("GET", "/v1/billing:query?query.month=2026-10&query.customerIds=acme&query.customerIds=globex&query.groupBy=GROUP_BY_CUSTOMER");
  await page.waitForFunction((want) => [...document.querySelectorAll('[data-testid="bill-total"]')].map((e) => e.textContent).join("|") === want,
    two.totals.map((t) => `${t.amount} ${t.currency}`).join("|"));
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="customer-group"]').length === 2);
  const names = await groups.allInnerTexts();
  assert.ok(names[0].includes("Acme Cloud") && names[1].includes("Globex"), `groups: ${names.join(" | ")}`);
  await groups.filter({ hasText: "Globex" }).getByTestId("customer-subtotal").waitFor();
  assert.equal(await groups.filter({ hasText: "Globex" }).getByTestId("customer-subtotal").innerText(), await subtotal("globex"));
  // Globex bills in UTC and acme in Amsterdam: each line's period is in its customer's zone.
  const globexRow = page.getByTestId("lines").getByRole("row", { name: /contract globex-vcpu/ }).first();
  assert.match(await globexRow.innerText(), /2026-10-01 – 2026-11-01/);
  assert.match(await page.getByRole("row", { name: /e2e\.unsold/ }).innerText(), /^Acme Cloud/, "unpriced usage names its customer when there are several");
  await shot(page, "01d-bills-two-customers");
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForFunction(() => document.documentElement.scrollWidth <= window.innerWidth + 1, null, { timeout: 5000 }).catch(() => {});
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth) <= 1, "no horizontal page scroll at 390 px");
  await shot(page, "01e-bills-two-customers-390x844");
  await page.setViewportSize({ width: 1280, height: 800 });
  await checkA11y(page, "bills of two customers");

  const [dl] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "JSON" }).click()]);
  const file = path.join(shots, "two-customers.json");
  await dl.saveAs(file);
  const report = JSON.parse(fs.readFileSync(file, "utf8"));
  assert.ok(JSON.stringify(report).includes("globex") && JSON.stringify(report).includes("acme"), "the download covers both customers");
  await page.context().close();
});
