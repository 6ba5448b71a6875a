// Opens a notebook in a running JupyterLab with headless Chromium (Debian's `chromium`, driven by
// playwright-core), runs Kernel > Restart Kernel and Run All Cells, waits until every code cell has
// run and the kernel is idle, and writes what a user would see as JSON: per code cell its
// execution count, its outputs' types and mime types, whether its output area shows an HTML
// <table>, and the kernel's status. Also saves a screenshot of the whole notebook.
// Asserting is left to the caller (tests/browser/test_lesson_jupyterlab.py).
//
// Usage: node lesson_in_jupyterlab.mjs URL REPORT.json SCREENSHOT.png [TIMEOUT_SECONDS]
//   URL: the notebook's page, token included (…/lab/tree/lesson.ipynb?token=…); JupyterLab must
//   run with --LabApp.expose_app_in_browser=True (window.jupyterapp) and the notebook's
//   windowingMode "none" (every cell in the page, not only those in view).
import { writeFileSync } from "node:fs";
import { chromium } from "playwright-core";

const [url, reportPath, screenshotPath, timeoutArg] = process.argv.slice(2);
if (!url || !reportPath || !screenshotPath) {
  console.error("usage: node lesson_in_jupyterlab.mjs URL REPORT.json SCREENSHOT.png [TIMEOUT_SECONDS]");
  process.exit(2);
}
const timeoutMs = 1000 * Number(timeoutArg || 900);
// Debian's chromium: the path the caller found ($CHROMIUM), no browser download.
const executablePath = process.env.CHROMIUM;
if (!executablePath) {
  console.error("set CHROMIUM to the chromium binary");
  process.exit(2);
}

const browser = await chromium.launch({ executablePath, headless: true });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("pageerror", (error) => console.error(`page error: ${error.message}`));
  await page.goto(url);
  // The notebook panel, its file loaded and a kernel session attached.
  await page.waitForFunction(
    () => {
      const panel = window.jupyterapp?.shell?.currentWidget;
      return panel?.context?.isReady && panel.sessionContext?.session?.kernel && panel.content?.widgets?.length > 0;
    },
    null,
    { timeout: 120_000, polling: 500 },
  );
  const started = Date.now();
  // Kernel > Restart Kernel and Run All Cells: JupyterLab asks first; accept.
  const command = page.evaluate(() => window.jupyterapp.commands.execute("notebook:restart-run-all"));
  const accept = page.locator(".jp-Dialog .jp-mod-accept");
  await accept.waitFor({ timeout: 30_000 });
  await accept.click();
  await command;
  // Done: every code cell has an execution count (or some cell shows an error: Run All stops
  // there), and the kernel is idle.
  await page.waitForFunction(
    () => {
      const panel = window.jupyterapp.shell.currentWidget;
      const code = panel.content.widgets.filter((cell) => cell.model.type === "code");
      const failed = code.some((cell) => cell.model.outputs.toJSON().some((o) => o.output_type === "error"));
      const allRan = code.every((cell) => cell.model.executionCount !== null);
      return (failed || allRan) && panel.sessionContext.session?.kernel?.status === "idle";
    },
    null,
    { timeout: timeoutMs, polling: 1000 },
  );
  const seconds = (Date.now() - started) / 1000;
  const report = await page.evaluate(() => {
    const panel = window.jupyterapp.shell.currentWidget;
    const cells = [];
    panel.content.widgets.forEach((cell, index) => {
      if (cell.model.type !== "code") return;
      const outputs = cell.model.outputs.toJSON();
      cells.push({
        index,
        source: cell.model.sharedModel.getSource(),
        execution_count: cell.model.executionCount,
        outputs: outputs.map((o) => ({
          output_type: o.output_type,
          mime_types: Object.keys(o.data || {}),
          text_plain: o.data ? String(o.data["text/plain"] ?? "") : String(o.text ?? ""),
          ename: o.ename,
          evalue: o.evalue,
        })),
        html_tables: cell.node.querySelectorAll(".jp-OutputArea-output table").length,
      });
    });
    return { kernel_status: panel.sessionContext.session?.kernel?.status, cells };
  });
  report.seconds = seconds;
  // The whole notebook in one picture: the page as tall as the notebook's content (capped at
  // 16,000 px, about Chromium's largest texture), scrolled to the top.
  const height = await page.evaluate(() => {
    // JupyterLab 4 scrolls the notebook's outer windowed panel, not the page.
    const notebook = window.jupyterapp.shell.currentWidget.content.node;
    const scroller = notebook.querySelector(".jp-WindowedPanel-outer") ?? notebook;
    scroller.scrollTop = 0;
    return scroller.scrollHeight;
  });
  await page.setViewportSize({ width: 1280, height: Math.min(16_000, height + 200) });
  await page.waitForTimeout(500);
  await page.screenshot({ path: screenshotPath, fullPage: true });
  writeFileSync(reportPath, JSON.stringify(report, null, 1));
} finally {
  await browser.close();
}
