// The dashboard's script: polls GET /extractor/tasks every second while the tab is visible and
// renders the recent tasks; starts and cancels tasks. Every value from the server reaches the
// page through textContent or an attribute, never as HTML. When the API answers 401 it asks for
// the API token, keeps it in sessionStorage (this tab only) and sends it as a Bearer header.
'use strict';

const POLL_MS = 1000;
const REQUEST_TIMEOUT_MS = 5000;
const LIST_LIMIT = 25; // tasks shown at first, and added by "Show older tasks"
const PAGE_MAX = 100; // the API's largest page
const TOKEN_KEY = 'etl-api-token';

const STATUS_ICONS = {
  queued: '◷',
  running: '▶',
  succeeded: '✓',
  failed: '✕',
  cancelled: '■',
};

const state = {
  token: sessionStorage.getItem(TOKEN_KEY) || '',
  timer: null,
  needToken: false,
  lastTriggered: '',
  lastOk: null, // when the list was last read
  shown: LIST_LIMIT, // how many of the newest tasks the table shows
  rows: new Map(), // task id -> the row's elements
  pipelinesLoaded: false, // the trigger form lists the server's pipelines
};

const $ = (id) => document.getElementById(id);

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function setText(e, text) {
  const s = String(text);
  if (e.textContent !== s) e.textContent = s;
}

// An API call with the token if we have one and a timeout. Resolves to {status, body}; throws
// on a network error or a timeout. A 401 shows the token form.
async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (state.token) headers.Authorization = 'Bearer ' + state.token;
  const init = { method, headers, cache: 'no-store', signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (res.status === 401) askForToken();
  return { status: res.status, body: data };
}

function errorText(reply) {
  const b = reply.body;
  if (b && typeof b === 'object' && b.error) {
    return b.detail ? `${b.error}: ${b.detail}` : String(b.error);
  }
  return `HTTP ${reply.status}`;
}

// --- the token ----------------------------------------------------------------------------

function askForToken() {
  const form = $('token-form');
  const first = !state.needToken;
  state.needToken = true;
  setText($('token-why'), state.token
    ? 'The server refused the API token this tab had. Enter the right one (ETL_API_TOKEN).'
    : 'This server asks for an API token (ETL_API_TOKEN). It is kept in this browser tab only ' +
      'and sent as an Authorization: Bearer header.');
  form.hidden = false;
  setLive('need-token', 'Waiting for the API token');
  if (first) $('token').focus();
}

function useToken(event) {
  event.preventDefault();
  const value = $('token').value.trim();
  if (!value) return;
  state.token = value;
  sessionStorage.setItem(TOKEN_KEY, value);
  $('token').value = '';
  $('token-form').hidden = true;
  $('forget-token').hidden = false;
  state.needToken = false;
  schedule(0);
}

function forgetToken() {
  state.token = '';
  sessionStorage.removeItem(TOKEN_KEY);
  $('forget-token').hidden = true;
  schedule(0);
}

// --- live refresh -------------------------------------------------------------------------

function setLive(kind, text) {
  $('live').dataset.state = kind;
  setText($('live-text'), text);
}

function showError(text) {
  const e = $('error');
  setText(e, text);
  e.hidden = !text;
}

function schedule(delay) {
  clearTimeout(state.timer);
  state.timer = null;
  if (document.hidden) {
    setLive('paused', 'Paused while this tab is hidden');
    return;
  }
  state.timer = setTimeout(refresh, delay);
}

// The newest `count` tasks and whether older ones exist: pages of the list, following its
// cursor, one task beyond `count` to tell. Resolves to {ok, reply, tasks, more}; without ok,
// `reply` is the answer that was not a list.
async function listTasks(count) {
  let tasks = [];
  let cursor = null;
  for (;;) {
    const limit = Math.min(PAGE_MAX, count + 1 - tasks.length);
    const query = `limit=${limit}` + (cursor ? `&cursor=${encodeURIComponent(cursor)}` : '');
    const reply = await api('GET', `/extractor/tasks?${query}`);
    if (reply.status !== 200 || !reply.body || !Array.isArray(reply.body.tasks)) {
      return { ok: false, reply, tasks: [], more: false };
    }
    tasks = tasks.concat(reply.body.tasks);
    cursor = reply.body.next_cursor;
    if (tasks.length > count || !cursor) {
      return { ok: true, reply, tasks: tasks.slice(0, count), more: tasks.length > count };
    }
  }
}

function showOlder() {
  state.shown += LIST_LIMIT;
  schedule(0);
}

async function refresh() {
  state.timer = null;
  let list;
  try {
    list = await listTasks(state.shown);
  } catch (err) {
    const why = err && err.name === 'TimeoutError' ? 'no answer in 5 s' : 'connection failed';
    showError(`Cannot reach etl-server (${why}). Retrying every second; ` + (state.lastOk
      ? `the tasks below are as of ${state.lastOk.toLocaleTimeString()}.`
      : 'no tasks could be read yet.'));
    setLive('down', 'Server unreachable');
    schedule(POLL_MS);
    return;
  }
  const reply = list.reply;
  if (reply.status === 401) {
    showError('');
    return; // askForToken() showed the form; polling resumes once a token is given
  }
  if (!list.ok) {
    showError(`etl-server could not list the tasks (${errorText(reply)}). Retrying every second.`);
    setLive('down', 'Server error');
    schedule(POLL_MS);
    return;
  }
  showError('');
  state.needToken = false;
  $('token-form').hidden = true;
  $('forget-token').hidden = !state.token;
  // Read once the server answers (with the token, when one is needed).
  if (!state.pipelinesLoaded) loadPipelines();
  render(list.tasks);
  $('more').hidden = !list.more;
  state.lastOk = new Date();
  setLive('live', 'Live · updated ' + state.lastOk.toLocaleTimeString());
  schedule(POLL_MS);
}

// --- rendering ----------------------------------------------------------------------------

function shortId(id) {
  return String(id).slice(0, 8);
}

function formatTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleTimeString();
}

function formatDuration(ms) {
  if (!(ms >= 0)) return '';
  if (ms < 10000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

function number(n) {
  return typeof n === 'number' ? n.toLocaleString('en-US') : '0';
}

function createRow(t) {
  const tr = el('tr');
  tr.dataset.taskId = t.task_id;

  const idCell = el('td', 'task-cell');
  const id = el('code', 'task-id', shortId(t.task_id));
  id.title = t.task_id;
  const meta = el('div', 'task-meta');
  const created = el('span', 'created');
  const audit = el('span', 'tag', 'audit');
  audit.title = 'Audit mode: each batch\'s posted ids are written to the audit folder';
  const pipeline = el('span', 'tag pipeline', t.pipeline || 'animals');
  pipeline.title = 'The pipeline this task runs';
  meta.append(created, pipeline, audit);
  idCell.append(id, meta);

  const statusCell = el('td');
  const badge = el('span', 'badge');
  const icon = el('span', 'badge-icon');
  icon.setAttribute('aria-hidden', 'true');
  const word = el('span', 'badge-text');
  badge.append(icon, word);
  statusCell.append(badge);

  const progressCell = el('td', 'progress-col');
  const bar = el('div', 'bar');
  bar.setAttribute('role', 'progressbar');
  bar.setAttribute('aria-valuemin', '0');
  bar.setAttribute('aria-valuemax', '100');
  bar.setAttribute('aria-label', `Task ${shortId(t.task_id)}: batches done`);
  const fill = el('div', 'bar-fill');
  const failedFill = el('div', 'bar-failed');
  bar.append(fill, failedFill);
  const barText = el('div', 'bar-text');
  progressCell.append(bar, barText);

  const cells = {};
  for (const name of ['posted', 'rejected', 'in_doubt', 'retries', 'hedges']) {
    cells[name] = el('td', 'num');
    cells[name].dataset.count = name;
  }

  const errorsCell = el('td', 'errors');
  errorsCell.dataset.count = 'errors';

  const timeCell = el('td', 'num time');

  const actionCell = el('td', 'actions');
  const cancel = el('button', 'danger', 'Cancel');
  cancel.type = 'button';
  cancel.setAttribute('aria-label', `Cancel task ${shortId(t.task_id)}`);
  cancel.addEventListener('click', () => cancelTask(t.task_id, cancel));
  actionCell.append(cancel);

  tr.append(idCell, statusCell, progressCell, cells.posted, cells.rejected, cells.in_doubt,
    cells.retries, cells.hedges, errorsCell, timeCell, actionCell);
  return { tr, created, audit, badge, icon, word, bar, fill, failedFill, barText, cells,
    errorsCell, errorsKey: null, timeCell, cancel };
}

function updateRow(r, t) {
  setText(r.created, formatTime(t.created_at));
  r.created.title = t.created_at || '';
  r.audit.hidden = !t.audit_mode;

  const status = String(t.status);
  r.badge.className = 'badge status-' + (STATUS_ICONS[status] ? status : 'unknown');
  setText(r.icon, STATUS_ICONS[status] || '?');
  setText(r.word, status);
  r.tr.dataset.status = status;

  const b = t.batches || { total: 0, done: 0, failed: 0 };
  const total = Number(b.total) || 0;
  const done = Number(b.done) || 0;
  const failed = Number(b.failed) || 0;
  let pct = total > 0 ? Math.floor((100 * done) / total) : 0;
  if (total === 0 && status === 'succeeded') pct = 100; // an empty plan is done at once
  const failedPct = total > 0 ? Math.min(100 - pct, Math.ceil((100 * failed) / total)) : 0;
  r.bar.setAttribute('aria-valuenow', String(pct));
  const desc = total > 0
    ? `${done} of ${total} batches${failed ? `, ${failed} failed` : ''}`
    : (status === 'queued' ? 'waiting to be planned' : 'no batches');
  r.bar.setAttribute('aria-valuetext', `${pct}% (${desc})`);
  r.fill.style.width = pct + '%';
  r.failedFill.style.width = failedPct + '%';
  setText(r.barText, total > 0 ? `${pct}% · ${desc}` : desc);

  const c = t.counts || {};
  for (const name of Object.keys(r.cells)) setText(r.cells[name], number(c[name]));
  // Where a pipeline's records went: each sink's rows (and files), as the task counts them.
  const sinks = Array.isArray(t.sinks) ? t.sinks : [];
  const what = (t.pipeline || 'animals') === 'animals' ? 'animals' : 'records';
  r.cells.posted.title = `fetched ${number(c.fetched)} ${what} from ${number(c.pages)} pages` +
    sinks.map((s) => `\n${s.kind} ${s.target}: ${number(s.rows)} rows` +
      (s.files !== undefined ? ` in ${number(s.files)} files` : '')).join('');
  r.cells.rejected.classList.toggle('warn', c.rejected > 0);
  r.cells.in_doubt.classList.toggle('warn', c.in_doubt > 0);

  updateErrors(r, Array.isArray(t.errors) ? t.errors : []);

  const start = t.started_at || t.created_at;
  const end = t.finished_at || (isFinished(status) ? t.updated_at : null);
  const ms = start ? (end ? Date.parse(end) : Date.now()) - Date.parse(start) : NaN;
  setText(r.timeCell, formatDuration(ms));
  r.timeCell.title = t.finished_at ? `finished ${t.finished_at}` : 'running time so far';

  r.cancel.hidden = isFinished(status);
  r.tr.classList.toggle('just-started', t.task_id === state.lastTriggered);
}

// Rebuilt only when the errors change, so an open <details> stays open across refreshes.
function updateErrors(r, errors) {
  const key = JSON.stringify(errors);
  if (key === r.errorsKey) return;
  r.errorsKey = key;
  r.errorsCell.replaceChildren();
  r.errorsCell.dataset.errors = String(errors.length);
  if (errors.length === 0) {
    r.errorsCell.append(el('span', 'none', '0'));
    return;
  }
  const details = el('details');
  details.append(el('summary', 'bad', errors.length === 1 ? '1 error' : `${errors.length} errors`));
  const list = el('ul');
  for (const e of errors) {
    const where = e && e.batch !== null && e.batch !== undefined ? `batch ${e.batch}: ` : '';
    const li = el('li', '', where + (e && e.reason ? e.reason : JSON.stringify(e)));
    if (e && e.at) li.title = e.at;
    list.append(li);
  }
  details.append(list);
  r.errorsCell.append(details);
}

function isFinished(status) {
  return status === 'succeeded' || status === 'failed' || status === 'cancelled';
}

function render(tasks) {
  const tbody = $('task-rows');
  const seen = new Set();
  let previous = null;
  for (const t of tasks) {
    if (!t || typeof t.task_id !== 'string') continue;
    seen.add(t.task_id);
    let r = state.rows.get(t.task_id);
    if (!r) {
      r = createRow(t);
      state.rows.set(t.task_id, r);
    }
    updateRow(r, t);
    // Keep the server's order (newest first) while moving as few nodes as possible.
    const want = previous ? previous.nextSibling : tbody.firstChild;
    if (want !== r.tr) tbody.insertBefore(r.tr, want);
    previous = r.tr;
  }
  for (const [id, r] of state.rows) {
    if (!seen.has(id)) {
      r.tr.remove();
      state.rows.delete(id);
    }
  }
  $('empty').hidden = tasks.length > 0;
  renderSummary(tasks);
}

function renderSummary(tasks) {
  const counts = {};
  for (const t of tasks) counts[t.status] = (counts[t.status] || 0) + 1;
  const list = $('summary');
  list.replaceChildren();
  for (const status of ['running', 'queued', 'succeeded', 'failed', 'cancelled']) {
    if (!counts[status]) continue;
    const li = el('li', 'badge status-' + status);
    const icon = el('span', 'badge-icon', STATUS_ICONS[status]);
    icon.setAttribute('aria-hidden', 'true');
    li.append(icon, el('span', '', `${counts[status]} ${status}`));
    list.append(li);
  }
}

// --- actions ------------------------------------------------------------------------------

function showResult(text, kind, taskId) {
  const p = $('trigger-result');
  setText(p, text);
  p.className = 'result ' + (kind || '');
  if (taskId) p.dataset.taskId = taskId;
  else delete p.dataset.taskId;
}

// The pipelines the server runs, for the trigger form: their names, and whether each takes
// audit_mode (the checkbox shows only for those). The form keeps `animals` if this fails.
async function loadPipelines() {
  try {
    const reply = await api('GET', '/extractor/pipelines');
    if (reply.status !== 200 || !reply.body || !Array.isArray(reply.body.pipelines)) return;
    state.pipelinesLoaded = true;
    const select = $('pipeline');
    const chosen = select.value;
    select.replaceChildren();
    for (const p of reply.body.pipelines) {
      const option = el('option', '', p.name);
      option.value = p.name;
      option.title = p.description || '';
      option.dataset.audit =
        String((p.parameters || []).some((param) => param.name === 'audit_mode'));
      option.selected = p.name === chosen;
      select.append(option);
    }
    showAuditField();
  } catch {
    // The form still starts animals tasks.
  }
}

function showAuditField() {
  const option = $('pipeline').selectedOptions[0];
  $('audit-field').hidden = option !== undefined && option.dataset.audit === 'false';
}

async function trigger(event) {
  event.preventDefault();
  const button = $('trigger');
  const pipeline = $('pipeline').value || 'animals';
  const audit = !$('audit-field').hidden && $('audit-mode').checked;
  const body = { pipeline };
  if (!$('audit-field').hidden) body.audit_mode = audit;
  button.disabled = true;
  showResult('Starting…', 'pending');
  try {
    const reply = await api('POST', '/extractor/trigger-task', body);
    if ((reply.status === 202 || reply.status === 200) && reply.body && reply.body.task_id) {
      const id = String(reply.body.task_id);
      state.lastTriggered = id;
      const what = pipeline === 'animals' ? '' : ` (${pipeline})`;
      showResult(`Task ${shortId(id)}${what} started${audit ? ' in audit mode' : ''}.`, 'ok', id);
      schedule(0);
    } else if (reply.status === 401) {
      showResult('Not started: enter the API token above, then start again.', 'bad');
    } else {
      showResult(`Not started: ${errorText(reply)}`, 'bad');
    }
  } catch {
    showResult('Not started: etl-server did not answer. Try again.', 'bad');
  } finally {
    button.disabled = false;
  }
}

async function cancelTask(id, button) {
  if (!window.confirm(`Cancel task ${shortId(id)}? Batches already posted stay posted.`)) return;
  button.disabled = true;
  try {
    const reply = await api('POST', `/extractor/tasks/${encodeURIComponent(id)}/cancel`);
    if (reply.status === 200) {
      showResult(`Task ${shortId(id)}: cancel requested, now ${reply.body && reply.body.status}.`,
        'ok');
    } else {
      showResult(`Could not cancel task ${shortId(id)}: ${errorText(reply)}`, 'bad');
    }
  } catch {
    showResult(`Could not cancel task ${shortId(id)}: etl-server did not answer.`, 'bad');
  } finally {
    button.disabled = false;
    schedule(0);
  }
}

// --- start --------------------------------------------------------------------------------

function start() {
  $('trigger-form').addEventListener('submit', trigger);
  $('pipeline').addEventListener('change', showAuditField);
  $('token-form').addEventListener('submit', useToken);
  $('forget-token').addEventListener('click', forgetToken);
  $('more').addEventListener('click', showOlder);
  $('forget-token').hidden = !state.token;
  document.addEventListener('visibilitychange', () => schedule(0));
  schedule(0);
}

start();
