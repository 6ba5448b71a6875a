// Opens the grader's learner feedback page and teacher report in headless Chromium (the
// system's `chromium`, through playwright-core) and checks what a reader sees: the charts are
// SVG elements with their text drawn, the test rows are visible, the compile error sits under
// its line. Saves a full-page PNG screenshot of each page.
//
// usage: node check_pages.mjs FEEDBACK.html REPORT.html SCREENSHOT_DIR
import { chromium } from "playwright-core";
import assert from "node:assert/strict";
import { pathToFileURL } from "node:url";
import path from "node:path";
import fs from "node:fs";

const [feedbackPage, reportPage, shots] = process.argv.slice(2);
if (!feedbackPage || !reportPage || !shots) {
  console.error("usage: node check_pages.mjs FEEDBACK.html REPORT.html SCREENSHOT_DIR");
  process.exit(2);
}
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
assert.ok(fs.existsSync(executablePath), `no Chromium at ${executablePath} (apt-get install chromium)`);
fs.mkdirSync(shots, { recursive: true });

let passed = 0;
let failed = 0;
async function check(name, body) {
  try {
    await body();
    passed += 1;
    console.log(`ok - ${name}`);
  } catch (error) {
    failed += 1;
    console.log(`not ok - ${name}\n${error.stack || error}`);
  }
}

const browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  // Self-contained pages: any request that is not the file itself is a fault.
  const external = [];
  page.on("request", (request) => {
    if (!request.url().startsWith("file:")) external.push(request.url());
  });

  await page.goto(pathToFileURL(path.resolve(feedbackPage)).href);
  await check("feedback: every test row is visible with points and status", async () => {
    const rows = page.locator("tr.test");
    const count = await rows.count();
    assert.ok(count >= 10, `only ${count} test rows`);
    for (let i = 0; i < count; i += 1) {
      assert.ok(await rows.nth(i).isVisible(), `test row ${i} is hidden`);
      const cells = await rows.nth(i).locator("td").allInnerTexts();
      assert.match(cells[1], /^\d+(\.\d+)?\/\d+(\.\d+)?$/, `points of row ${i}: ${cells[1]}`);
      assert.ok(["passed", "failed"].includes(cells[2]), `status of row ${i}: ${cells[2]}`);
    }
    assert.ok((await page.locator("tr.test.passed").count()) > 0, "no passed test");
    assert.ok((await page.locator("tr.test.failed").count()) > 0, "no failed test");
  });
  await check("feedback: the compile error is shown right under the line it is about", async () => {
    const diagnostic = page.locator("tr.diagnostic").first();
    assert.ok(await diagnostic.isVisible(), "no visible diagnostic");
    const message = await diagnostic.innerText();
    const line = Number(/--> cell:(\d+):/.exec(message)?.[1]);
    assert.ok(line > 0, `no place in ${message}`);
    const above = await diagnostic.evaluate((row) => {
      let previous = row.previousElementSibling;
      while (previous && previous.classList.contains("diagnostic")) previous = previous.previousElementSibling;
      return previous.querySelector("td.line").textContent;
    });
    assert.equal(Number(above), line, "the row above the error is its line");
  });
  await check("feedback: the score is shown", async () => {
    assert.match(await page.locator("#score").innerText(), /^Score: \d+(\.\d+)? of \d+(\.\d+)? points$/);
  });
  await page.screenshot({ path: path.join(shots, "feedback.png"), fullPage: true });

  await page.goto(pathToFileURL(path.resolve(reportPage)).href);
  await check("report: the charts are SVG elements with their text drawn", async () => {
    for (const id of ["histogram", "exercise-chart", "pass-rates"]) {
      const svg = page.locator(`#${id} svg`);
      assert.equal(await svg.count(), 1, `no SVG in #${id}`);
      assert.ok(await svg.isVisible(), `#${id} is not visible`);
      const box = await svg.boundingBox();
      assert.ok(box.width > 300 && box.height > 100, `#${id} is ${box.width}x${box.height}`);
      const texts = await svg.locator("text").count();
      assert.ok(texts > 3, `#${id} has ${texts} text elements`);
      const rects = await svg.locator("rect").count();
      assert.ok(rects > 1, `#${id} has ${rects} bars`);
    }
    // plotters writes each label on a line of its own inside <text>.
    const labels = (await page.locator("#pass-rates svg text").allTextContents()).map((t) => t.trim());
    const firstRow = await page.locator("#tests tr[data-test] td").first().innerText();
    assert.ok(
      labels.some((t) => t.length > 4 && firstRow.startsWith(t.replace("…", ""))),
      `the lowest pass rate ${firstRow} is not labelled in ${labels}`,
    );
  });
  await check("report: the test rows are visible", async () => {
    const rows = page.locator("#tests tr[data-test]");
    assert.ok((await rows.count()) >= 10);
    for (let i = 0; i < (await rows.count()); i += 1) assert.ok(await rows.nth(i).isVisible());
  });
  await page.screenshot({ path: path.join(shots, "report.png"), fullPage: true });
  await check("pages are self-contained (no request besides the file)", async () => {
    assert.deepEqual(external, []);
  });
} finally {
  await browser.close();
}
console.log(`browser: ${passed} passed, ${failed} failed`);
console.log(`screenshots: ${path.resolve(shots)}/feedback.png, report.png`);
process.exit(failed === 0 ? 0 : 1);
