// Headless-Chromium test of the HTML report written by `argmine report`.
//
//   node tests/browser/report.test.mjs REPORT.html SCREENSHOT.png
//
// Uses the system Chromium (/usr/bin/chromium, or $CHROMIUM) through playwright-core, which never
// downloads a browser. Checks: no console or page errors, no request leaves file://, the overview
// renders, the article $ARGMINE_TEST_ARTICLE (default north-korea-oped.txt) opens from the search
// box, its thesis node is drawn, clicking the thesis node highlights the thesis sentence, clicking
// a sentence highlights its node, Enter on a focused sentence selects it, #article=<id> opens the
// article directly. Writes a PNG screenshot. Exit status 0 on success, 1 on failure, 2 on usage.
import { chromium } from 'playwright-core';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [reportArg, shotArg] = process.argv.slice(2);
if (!reportArg || !shotArg) {
  console.error('usage: node tests/browser/report.test.mjs REPORT.html SCREENSHOT.png');
  process.exit(2);
}
const report = resolve(reportArg);
const shot = resolve(shotArg);
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const articleId = process.env.ARGMINE_TEST_ARTICLE || 'north-korea-oped.txt';
if (!existsSync(report)) { console.error(`FAIL: no report at ${report}`); process.exit(2); }
if (!existsSync(executablePath)) {
  console.error(`FAIL: no Chromium at ${executablePath} (install it, e.g. apt-get install chromium, or set CHROMIUM)`);
  process.exit(2);
}

class Failure extends Error {}
function check(cond, msg) { if (!cond) throw new Failure(msg); }
const step = (msg) => console.log(`ok - ${msg}`);

const profile = mkdtempSync(join(tmpdir(), 'argmine-report-chromium-'));
let context;
let status = 0;
const problems = [];
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-quic'],
    viewport: { width: 1400, height: 900 },
    timeout: 60_000,
  });
  // The report must not load anything: every request other than the file itself is a failure.
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:') || url.startsWith('data:')) return route.continue();
    problems.push(`external request: ${url}`);
    return route.abort();
  });
  const page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(30_000);
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  const noProblems = (when) => check(problems.length === 0, `${when}:\n  ${problems.join('\n  ')}`);

  const url = pathToFileURL(report).href;
  const t0 = Date.now();
  await page.goto(url, { waitUntil: 'load', timeout: 120_000 });
  await page.waitForSelector('html[data-ready]', { timeout: 120_000 });
  const ready = await page.evaluate(() => document.documentElement.getAttribute('data-ready'));
  const timing = await page.evaluate(() => { const r = window.argmineReport; return r && { parseMs: r.parseMs, readyMs: r.readyMs, articles: r.articles }; });
  noProblems('errors while loading');
  check(ready === 'overview', `the overview did not render (data-ready="${ready}"): ${await page.textContent('main')}`);
  const sizeKiB = (statSync(report).size / 1024).toFixed(0);
  step(`overview rendered: ${timing.articles} articles, ${sizeKiB} KiB, data parsed in ${timing.parseMs.toFixed(0)} ms, ` +
    `overview ready at ${timing.readyMs.toFixed(0)} ms after navigation start (${Date.now() - t0} ms wall)`);
  check(await page.locator('#labchart svg').count() === 1, 'no label chart');
  check(await page.locator('#confchart svg').count() === 1, 'no confidence histogram');

  // The article's data, to know its thesis and an edge without hard-coding them.
  // (The page parses the embedded JSON once, frees the script's text and keeps the data here.)
  const art = await page.evaluate((id) => window.argmineReport.data.articles.find((a) => a.id === id) || null, articleId);
  check(art, `article ${articleId} is not in the report data`);
  check(art.thesis != null, `article ${articleId} has no thesis in the data`);
  const thesis = art.thesis;

  // (b) open the article through the search box.
  await page.fill('#q', articleId);
  // The list is filtered after a short debounce by re-rendering it: wait for that, or the click
  // may land on an item that is replaced under it.
  await page.waitForFunction(() => /match/.test(document.querySelector('#count').textContent));
  const item = page.locator(`#list a.item[data-id="${articleId}"]`).first();
  await item.waitFor();
  await item.click();
  await page.waitForSelector(`#article[data-id="${articleId}"]:not([hidden])`);
  const tnode = page.locator(`#graph [data-node="${thesis}"]`);
  check(await tnode.count() === 1, `thesis node ${thesis} is not drawn in the graph`);
  check(await tnode.getAttribute('data-thesis') !== null, `node ${thesis} lacks data-thesis`);
  check(await tnode.isVisible(), `thesis node ${thesis} is not visible`);
  check(await page.locator('#graph [data-thesis]').count() === 1, 'not exactly one node has data-thesis');
  check(await page.locator('#text [data-sentence]').count() === art.s.length, 'not every sentence is drawn in the text');
  step(`opened ${articleId} from the search box; thesis node #${thesis} drawn`);

  // (c) clicking the thesis node highlights the thesis sentence.
  await tnode.click();
  const tsent = page.locator(`#text [data-sentence="${thesis}"]`);
  check(/\bhighlight\b/.test(await tsent.getAttribute('class')), `thesis sentence ${thesis} not highlighted after clicking its node`);
  check(await tsent.getAttribute('aria-current') === 'true', `thesis sentence ${thesis} lacks aria-current`);
  check(await tsent.isVisible() && await tsent.evaluate((el) => {
    const r = el.getBoundingClientRect(); return r.bottom > 0 && r.top < innerHeight;
  }), `thesis sentence ${thesis} was not scrolled into view`);
  step(`clicking node #${thesis} highlights sentence #${thesis}`);

  // (d) clicking a sentence highlights its node: a sentence drawn in the graph other than the thesis.
  const other = art.edges.map((e) => e[0]).find((k) => k !== thesis);
  const target = other ?? thesis;
  await page.locator(`#text [data-sentence="${target}"]`).click();
  const onode = page.locator(`#graph [data-node="${target}"]`);
  check(/\bhighlight\b/.test(await onode.getAttribute('class')), `node ${target} not highlighted after clicking its sentence`);
  check(await onode.getAttribute('aria-current') === 'true', `node ${target} lacks aria-current`);
  if (target !== thesis) {
    check(!/\bhighlight\b/.test(await tnode.getAttribute('class')), 'thesis node still highlighted after selecting another sentence');
  }
  step(`clicking sentence #${target} highlights node #${target}`);

  // Keyboard: Enter on a focused sentence selects it; the scores show in the info panel.
  await page.locator(`#text [data-sentence="${thesis}"]`).focus();
  await page.keyboard.press('Enter');
  check(/\bhighlight\b/.test(await tnode.getAttribute('class')), 'Enter on the thesis sentence did not highlight its node');
  check((await page.textContent('#info')).includes(`#${thesis}`), 'the info panel does not describe the selected sentence');
  step('Enter on a focused sentence selects it and its node');
  await page.mouse.move(0, 0);
  await page.screenshot({ path: shot });
  step(`screenshot written to ${shot}`);

  // URL hash routing: back to the overview, then straight to the article.
  // Esc hides the tooltip, then clears the selection, then goes back to the overview.
  for (let i = 0; i < 4 && await page.locator('#overview').isHidden(); i++) await page.keyboard.press('Escape');
  check(await page.locator('#overview').isVisible(), 'Esc did not return to the overview');
  await page.goto(`${url}#article=${encodeURIComponent(articleId)}`);
  await page.waitForSelector(`#article[data-id="${articleId}"]:not([hidden]) #graph [data-node="${thesis}"][data-thesis]`);
  step('#article=<id> opens the article directly');
  noProblems('errors during the test');
  console.log('PASS');
} catch (e) {
  status = 1;
  console.error(e instanceof Failure ? `FAIL: ${e.message}` : `FAIL: ${e.stack || e}`);
  if (problems.length) console.error(`  also:\n  ${problems.join('\n  ')}`);
} finally {
  if (context) await context.close().catch(() => {});
  rmSync(profile, { recursive: true, force: true });
}
process.exit(status);
