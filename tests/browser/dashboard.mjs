// The dashboard in a real browser: Debian's chromium, driven by playwright-core.
//
//   node tests/browser/dashboard.mjs <base-url> <screenshot.png> [--token TOKEN] [--older N]
//
// Opens the page (with --token: expects it to ask for the API token, and gives it), checks the
// audit-mode box, clicks "Start a task", waits (bounded) for the new task's bar to reach 100%
// and its status to read "succeeded", checks that the counts on the page are the task's counts
// from the API, and saves a screenshot (with --token, also <screenshot>-prompt.png of the page
// asking for the token). Prints "task_id=<id>" and exits 0 when all of that held;
// otherwise prints what failed to stderr (and saves the screenshot if it can) and exits 1.
// With --older N (N tasks exist, 25 < N <= 50) it starts nothing: the table must show the 25
// newest and "Show older tasks", and after a click all N, newest first, and no such button;
// prints "older=N".
// Run by tests/integration/server/dashboard_test.cpp against a service_stack.
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
const WHOLE_RUN_MS = 120_000;
const TASK_DONE_MS = 90_000;

function usage() {
  console.error('usage: node dashboard.mjs <base-url> <screenshot.png> [--token TOKEN] [--older N]');
  process.exit(2);
}

const args = process.argv.slice(2);
if (args.length < 2 || args.length % 2 !== 0) usage();
const [baseUrl, screenshotPath] = args;
let token = '';
let older = 0;
for (let i = 2; i < args.length; i += 2) {
  if (args[i] === '--token') token = args[i + 1];
  else if (args[i] === '--older') older = Number(args[i + 1]);
  else usage();
}
if (older && !(older > 25 && older <= 50)) usage();

class check_failed extends Error {}
function check(cond, message) {
  if (!cond) throw new check_failed(message);
}

let browser;
let page;
const pageProblems = [];

async function run() {
  check(existsSync(CHROMIUM),
    `${CHROMIUM} is missing: install Debian's chromium (scripts/install-deps.sh does it)`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
      '--disable-background-networking'],
    timeout: 30_000,
  });
  // Reduced motion: the bars are drawn at their value, not mid-transition, in the screenshot.
  const context = await browser.newContext({
    viewport: { width: 1360, height: 760 },
    reducedMotion: 'reduce',
  });
  page = await context.newPage();
  page.setDefaultTimeout(10_000);
  // A script error or a console error (a CSP violation reports as one) fails the test.
  page.on('pageerror', (err) => pageProblems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') pageProblems.push(`console error: ${msg.text()}`);
  });

  const response = await page.goto(baseUrl + '/', { waitUntil: 'load' });
  check(response && response.status() === 200, `GET / answered ${response && response.status()}`);
  check(await page.title() === 'animals-etl · tasks', `unexpected title "${await page.title()}"`);

  if (token) {
    const form = page.locator('#token-form');
    await form.waitFor({ state: 'visible', timeout: 10_000 }).catch(() => {
      throw new check_failed('with ETL_API_TOKEN set, the page did not ask for the token');
    });
    await page.screenshot({ path: screenshotPath.replace(/\.png$/, '') + '-prompt.png' });
    // The API refused the page before the token: the console shows those 401s; they are expected.
    pageProblems.length = 0;
    await page.getByLabel('API token').fill(token);
    await page.getByRole('button', { name: 'Use token' }).click();
    await form.waitFor({ state: 'hidden', timeout: 10_000 }).catch(() => {
      throw new check_failed('the token form stayed on screen after the right token was given');
    });
    const stored = await page.evaluate(() => sessionStorage.getItem('etl-api-token'));
    check(stored === token, 'the token was not kept in sessionStorage');
  }

  await page.locator('#live[data-state="live"]').waitFor({ timeout: 10_000 }).catch(async () => {
    throw new check_failed('the page never showed "Live": ' +
      `${await page.locator('#live').innerText()} / ${await page.locator('#error').innerText()}`);
  });

  if (older) {
    await checkOlder();
    return;
  }

  // The form lists the server's pipelines; audit mode is offered only to those that take it.
  const pipelines = page.locator('#pipeline option[value="spacex-crew"]');
  await pipelines.waitFor({ state: 'attached', timeout: 10_000 }).catch(() => {
    throw new check_failed('the pipeline list never named spacex-crew');
  });
  await page.locator('#pipeline').selectOption('spacex-crew');
  check(await page.locator('#audit-field').isHidden(),
    'the audit-mode box stayed shown for spacex-crew, which takes no audit_mode');
  await page.locator('#pipeline').selectOption('animals');
  check(await page.locator('#audit-field').isVisible(), 'the audit-mode box hid for animals');

  const audit = page.getByLabel('Audit mode');
  await audit.check();
  check(await audit.isChecked(), 'the audit-mode checkbox did not check');
  await page.getByRole('button', { name: 'Start a task' }).click();

  const result = page.locator('#trigger-result[data-task-id]');
  await result.waitFor({ timeout: 10_000 }).catch(async () => {
    throw new check_failed('no task started; the page says: ' +
      await page.locator('#trigger-result').innerText());
  });
  const taskId = await result.getAttribute('data-task-id');
  check(/^[0-9a-f-]{36}$/.test(taskId), `the page named a strange task id "${taskId}"`);
  console.log(`dashboard: started task ${taskId}`);

  const row = page.locator(`tr[data-task-id="${taskId}"]`);
  const bar = row.getByRole('progressbar');
  const deadline = Date.now() + TASK_DONE_MS;
  let last = '';
  for (;;) {
    const now = await row.evaluate((tr) => ({
      status: tr.dataset.status,
      text: tr.querySelector('.badge-text')?.textContent,
      value: tr.querySelector('[role=progressbar]')?.getAttribute('aria-valuenow'),
    })).catch(() => null);
    if (now) last = `status ${now.text}, bar ${now.value}%`;
    if (now && now.text === 'succeeded' && now.value === '100') break;
    check(!(now && (now.text === 'failed' || now.text === 'cancelled')),
      `task ${taskId} ended ${now && now.text}`);
    check(Date.now() < deadline,
      `task ${taskId} did not reach 100% and succeeded in ${TASK_DONE_MS / 1000} s (last: ${last})`);
    await page.waitForTimeout(250); // polling the page with a deadline, not a synchronization
  }
  console.log(`dashboard: task ${taskId} reached 100%, succeeded`);

  // The counts on the page are the task's counts from the API.
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  const apiReply = await page.request.get(`${baseUrl}/extractor/tasks/${taskId}`, { headers });
  check(apiReply.status() === 200, `GET /extractor/tasks/${taskId} answered ${apiReply.status()}`);
  const t = await apiReply.json();
  check(t.status === 'succeeded' && t.audit_mode === true,
    `the API says status ${t.status}, audit_mode ${t.audit_mode}`);
  check(t.counts.posted > 0, 'the task posted nothing');
  const fmt = (n) => n.toLocaleString('en-US');
  for (const name of ['posted', 'rejected', 'in_doubt', 'retries', 'hedges']) {
    const shown = (await row.locator(`td[data-count="${name}"]`).innerText()).trim();
    check(shown === fmt(t.counts[name]),
      `the page shows ${name} "${shown}", the API says ${t.counts[name]}`);
  }
  const errorsShown = await row.locator('td[data-count="errors"]').getAttribute('data-errors');
  check(errorsShown === String(t.errors.length),
    `the page shows ${errorsShown} errors, the API ${t.errors.length}`);
  const valueText = await bar.getAttribute('aria-valuetext');
  const batches = `${t.batches.done} of ${t.batches.total} batches`;
  check(valueText.includes(batches), `the bar says "${valueText}", expected "${batches}"`);
  check(await row.locator('.tag', { hasText: 'audit' }).isVisible(), 'no audit tag on the row');
  check(!(await row.getByRole('button', { name: /Cancel/ }).isVisible()),
    'a finished task still offers Cancel');
  check(pageProblems.length === 0, pageProblems.join('; '));

  await page.screenshot({ path: screenshotPath, fullPage: true });
  console.log(`dashboard: screenshot ${screenshotPath}`);
  console.log(`task_id=${taskId}`);
}

// The table pages back: 25 rows and "Show older tasks", then all `older` rows, newest first.
async function checkOlder() {
  const rows = page.locator('#task-rows tr');
  const more = page.getByRole('button', { name: 'Show older tasks' });
  await more.waitFor({ state: 'visible', timeout: 10_000 }).catch(() => {
    throw new check_failed(`with ${older} tasks, no "Show older tasks" button`);
  });
  check(await rows.count() === 25, `the table shows ${await rows.count()} rows, not 25`);
  const newest = await rows.first().getAttribute('data-task-id');
  await more.click();
  await page.waitForFunction((n) => document.querySelectorAll('#task-rows tr').length === n,
    older, { timeout: 10_000 }).catch(async () => {
    throw new check_failed(`after "Show older tasks" the table shows ${await rows.count()} ` +
      `rows, not ${older}`);
  });
  check(!(await more.isVisible()), 'every task is shown, yet "Show older tasks" is still there');
  check(await rows.first().getAttribute('data-task-id') === newest,
    'the newest task is no longer first');
  check(pageProblems.length === 0, pageProblems.join('; '));
  await page.screenshot({ path: screenshotPath, fullPage: true });
  console.log(`older=${older}`);
}

const watchdog = setTimeout(() => {
  console.error(`dashboard test failed: still running after ${WHOLE_RUN_MS / 1000} s`);
  process.exit(1);
}, WHOLE_RUN_MS);

let code = 0;
try {
  await run();
} catch (err) {
  code = 1;
  const what = err instanceof check_failed ? err.message : (err && err.stack) || String(err);
  console.error(`dashboard test failed: ${what}`);
  if (page) {
    await page.screenshot({ path: screenshotPath, fullPage: true }).then(
      () => console.error(`dashboard: screenshot of the failure ${screenshotPath}`),
      () => {});
  }
} finally {
  if (browser) await browser.close().catch(() => {});
  clearTimeout(watchdog);
}
process.exit(code);
