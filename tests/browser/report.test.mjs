// Opens lockstep's HTML report of each bundled example in headless Chromium
// (Debian's, via playwright-core) and checks what an admin sees: the drift
// matrix rows and cells, that the filter box hides rows, and that the page
// logs no console errors and makes no network request. Saves a screenshot
// per example and prints its path.
//
// Run by scripts/check.d/60-browser.sh after `cargo build`, which passes the
// lockstep binary in LOCKSTEP_BIN.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";

const repo = resolve(import.meta.dirname, "../..");
const bin = process.env.LOCKSTEP_BIN ?? join(repo, "target/debug/lockstep");
const work = mkdtempSync(join(tmpdir(), "lockstep-browser-"));

function report(args, name) {
  const out = join(work, `${name}.html`);
  try {
    execFileSync(bin, [...args, "--format", "html", "-o", out], { cwd: repo, stdio: "pipe" });
  } catch (e) {
    // Exit 1 means "findings at or above --fail-on": the report is still written.
    if (e.status !== 1) throw e;
  }
  return out;
}

async function open(file) {
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors = [];
  const requests = [];
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("request", (r) => { if (!r.url().startsWith("file:")) requests.push(r.url()); });
  await page.goto(`file://${file}`);
  return { browser, page, errors, requests };
}

async function matrix(page) {
  return page.$$eval("table.matrix tbody tr", (rows) =>
    rows.map((r) => [...r.children].map((c) => c.textContent.trim())));
}

// Saves a full-page screenshot (its path is printed) and checks the page
// logged no console error and made no network request.
async function finish(page, name, errors, requests) {
  const shot = join(work, `${name}.png`);
  await page.screenshot({ path: shot, fullPage: true });
  console.log(`screenshot: ${shot}`);
  assert.deepEqual(errors, []);
  assert.deepEqual(requests, []);
}

async function visibleRows(page) {
  return page.$$eval("table.matrix tbody tr", (rows) =>
    rows.filter((r) => r.offsetParent !== null).map((r) => r.dataset.kb));
}

test("kb2616676: KB2607712 covered on HV03 and HV04, filter hides rows", async () => {
  const file = report(["--no-catalog", "check", "examples/kb2616676"], "kb2616676");
  const { browser, page, errors, requests } = await open(file);
  try {
    const headers = await page.$$eval("table.matrix thead th", (t) => t.map((c) => c.textContent.trim()));
    assert.deepEqual(headers, ["Update", "HV01", "HV02", "HV03", "HV04"]);
    assert.deepEqual(await matrix(page), [["KB2607712", "installed", "installed", "covered", "covered"]]);
    const classes = await page.$$eval("table.matrix tbody td", (t) => t.map((c) => c.className));
    assert.deepEqual(classes, ["c-present", "c-present", "c-covered", "c-covered"]);
    await page.fill("#filter", "no-such-update");
    assert.deepEqual(await visibleRows(page), []);
    await page.fill("#filter", "kb2607712");
    assert.deepEqual(await visibleRows(page), ["KB2607712"]);
    const plans = await page.$$eval("section.cluster h3", (h) => h.map((x) => x.textContent.trim()));
    assert.ok(plans.includes("Plan (converge)"), plans.join(" | "));
    await page.fill("#filter", "");
    await finish(page, "kb2616676", errors, requests);
  } finally {
    await browser.close();
  }
});

test("ws2022-behind: KB5033118 missing on HVS03, filter by node and class", async () => {
  const catalog = join(work, "catalog.sqlite3");
  execFileSync(bin, ["--catalog", catalog, "catalog", "import",
    join(repo, "tests/fixtures/real/catalog/cvrf/cvrfDocument-2023-Dec.xml")], { stdio: "pipe" });
  const file = report(["--catalog", catalog, "check", "examples/ws2022-behind", "--as-of", "2023-12-31"], "ws2022-behind");
  const { browser, page, errors, requests } = await open(file);
  try {
    assert.deepEqual(await matrix(page), [
      ["KB5032198", "covered", "covered", "2023-11-15"],
      ["KB5033118", "2023-12-13", "2023-12-14", "missing"],
    ]);
    await page.fill("#filter", "HVS03 missing");
    assert.deepEqual(await visibleRows(page), ["KB5033118"]);
    const errorFindings = await page.$$eval(".finding.error", (f) => f.filter((x) => x.offsetParent !== null).length);
    assert.equal(errorFindings, 0, "findings that do not match the filter are hidden too");
    await page.fill("#filter", "");
    assert.deepEqual(await visibleRows(page), ["KB5032198", "KB5033118"]);
    await finish(page, "ws2022-behind", errors, requests);
  } finally {
    await browser.close();
  }
});

writeFileSync(join(work, "README.txt"), "lockstep browser test output\n");
