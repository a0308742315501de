// tests/editor/editor.mjs — the editor in a real browser (Debian's chromium,
// headless, driven by playwright-core) against the real `callroute serve`
// tests/editor/suite.sh started. Everything is done as a user does it:
// drags from the palette onto the diagram, typing into the forms and the
// YAML view, buttons; what the server holds is then checked through the
// admin API. One line per case: "PASS editor:NAME" or "FAIL editor:NAME"
// and why. With SHOTS=DIR it also writes the screenshots docs/editor/ holds.
//
// Environment: ADMIN (port), TOKEN, SIP (port), UAC (the caller's port,
// the gateway `provider`), WORK (a directory), SHOTS (optional).
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, '..', '..', 'web', 'package.json'));
const { chromium, firefox } = require('playwright-core');
// BROWSER=firefox: Debian's firefox-esr through WebDriver BiDi (playwright's
// moz-firefox channel drives a stock Firefox; no patched build)
const FIREFOX = process.env.BROWSER === 'firefox';
const CASE = FIREFOX ? 'firefox_' : '';

const { ADMIN, TOKEN, SIP, UAC, WORK, SHOTS } = process.env;
const BASE = `http://127.0.0.1:${ADMIN}`;
const WIDTH = Number(process.env.WIDTH || 1280);
const HEIGHT = Number(process.env.HEIGHT || 800);

let failed = 0;
async function run(name, fn) {
  try {
    await fn();
    console.log(`PASS editor:${CASE}${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL editor:${CASE}${name}`);
    console.log(`    ${String(e && e.stack || e).split('\n').slice(0, 6).join('\n    ')}`);
    if (page) await page.screenshot({ path: join(WORK, `fail-${name}.png`) }).catch(() => {});
  }
}
function expect(cond, why) { if (!cond) throw new Error(why); }

// Polls FN (async) until it returns a truthy value; its value. No sleeps
// standing in for events: each check is of the thing awaited.
async function until(fn, why, ms = 10000) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    try { last = await fn(); } catch (e) { last = undefined; }
    if (last) return last;
    if (Date.now() > end) throw new Error(`timed out: ${why}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function api(method, path, { body, ifMatch, auth = true } = {}) {
  const headers = {};
  if (auth) headers.Authorization = `Bearer ${TOKEN}`;
  if (ifMatch) headers['If-Match'] = ifMatch;
  const res = await fetch(`${BASE}${path}`, { method, headers, body });
  const text = await res.text();
  let data = null;
  try { data = JSON.parse(text); } catch { data = text; }
  return { status: res.status, data, headers: res.headers };
}

async function shot(name) {
  if (SHOTS && !FIREFOX) await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

// State of the page, read from its editor object.
const editorText = () => page.evaluate(() => window.callrouteEditor.text);
const stepIdOf = (app, nth = 0) => page.evaluate(([a, n]) => {
  const S = window.callrouteEditor;
  const ids = [...S.diagram.info.entries()].filter(([, i]) => String(i.node.get('app')) === a).map(([id]) => id);
  return ids[n] || null;
}, [app, nth]);
const stepPath = (id) => page.evaluate((i) => window.callrouteEditor.diagram.info.get(i).path, id);
const nodeBox = (id) => page.locator(`g[data-step-id="${id}"]`).first().boundingBox();
// Clicks a node on its own box (a branching node's pill, not what it holds).
async function clickNode(id) {
  const b = await page.locator(`g[data-step-id="${id}"] > rect.sqd-step-task-rect, g[data-step-id="${id}"] > g.sqd-label-primary`)
    .first().boundingBox();
  await page.mouse.click(b.x + b.width / 2, b.y + b.height / 2);
}

// Drags application APP from the palette and drops it on the placeholder
// PICK chooses among those the designer shows while dragging.
async function dragFromPalette(app, pick) {
  const filter = page.locator('.sqd-toolbox-filter');
  await filter.fill(app);
  await filter.press('End');   // the palette filters on keyup
  const item = page.locator(`.sqd-toolbox-item.sqd-type-${app}`).first();
  await item.waitFor();
  const from = await item.boundingBox();
  await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
  await page.mouse.down();
  await page.mouse.move(from.x + 80, from.y + 10, { steps: 4 });
  await page.mouse.move(from.x + 160, from.y + 30, { steps: 4 });
  const boxes = await until(async () => {
    const all = await page.locator('.sqd-placeholder').all();
    const out = [];
    for (const p of all) { const b = await p.boundingBox(); if (b) out.push(b); }
    return out.length ? out : null;
  }, 'placeholders while dragging');
  const target = await pick(boxes);
  expect(target, `no placeholder to drop ${app} on`);
  await page.mouse.move(target.x + target.width / 2, target.y + target.height / 2, { steps: 8 });
  await page.mouse.up();
  await filter.fill('');
  await filter.press('End');
}

const centerIn = (b, box) => b.x + b.width / 2 >= box.x && b.x + b.width / 2 <= box.x + box.width &&
  b.y + b.height / 2 >= box.y && b.y + b.height / 2 <= box.y + box.height;

function sipp(args) {
  return new Promise((resolve) => execFile('timeout', ['30', 'sipp', ...args], (err, stdout, stderr) =>
    resolve({ ok: !err, out: `${stdout}${stderr}` })));
}

let browser;
let page;
const consoleErrors = [];
// Until the token is saved, validation's POST answers 401 and the editor
// says "enter the admin token" (the open case waits for that): the
// browser logs the 401 as a failed load, which is not an error of the page.
// A 401 is an error when its request carried a token, or was sent after
// the token was saved (judged by the response, not the console line, which
// can come after the flag is set for a request sent before it).
let tokenSaved = false;

async function main() {
  browser = FIREFOX
    ? await firefox.launch({ channel: 'moz-firefox', executablePath: process.env.FIREFOX || '/usr/bin/firefox-esr' })
    : await chromium.launch({
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    });
  const context = await browser.newContext({ viewport: { width: WIDTH, height: HEIGHT } });
  page = await context.newPage();
  page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
  // (an answer of 409 or 422 the editor handles is logged as a failed load: not an error of the page;
  // a 401 is judged by its request, below)
  page.on('console', (m) => {
    if (m.type() === 'error' && !/^Failed to load resource: the server responded with a status of (401|409|422)/.test(m.text()))
      consoleErrors.push(`console: ${m.text()}`);
  });
  const requests = [];
  const sentAfterToken = new WeakSet();
  page.on('request', (r) => {
    requests.push(r.url());
    if (tokenSaved) sentAfterToken.add(r);
  });
  // (the judgement awaits the request's headers: no_page_errors waits for
  // every one still under way)
  const judging = [];
  page.on('response', (r) => {
    if (r.status() !== 401) return;
    const q = r.request();
    judging.push(q.allHeaders().catch(() => ({})).then(({ authorization: auth }) => {
      if (auth || sentAfterToken.has(q))
        consoleErrors.push(`401 for ${q.method()} ${q.url()} (${auth ? 'with a token' : 'sent after the token was saved'})`);
    }));
  });

  await run('open', async () => {
    await page.goto(`${BASE}/editor/`);
    await until(() => page.locator('#routes li[data-name="from-provider"]').count(), 'the routes listed');
    const names = await page.locator('#routes li .name').allTextContents();
    expect(JSON.stringify(names) === JSON.stringify(['from-provider', 'internal', 'unknown-source']), `routes: ${names}`);
    expect(await page.locator('#scenarios li[data-name="voicemail"]').count() === 1, 'scenario voicemail not listed');
    // the first route's actions are nodes of the diagram
    for (const app of ['answer', 'log', 'dial', 'condition'])
      await until(() => page.locator(`g.sqd-type-${app}[data-step-id]`).count(), `a ${app} node`);
    // the palette comes from the schema: every application is in it
    await page.locator('.sqd-toolbox-filter').fill('read_digits');
    await until(() => page.locator('.sqd-toolbox-item.sqd-type-read_digits').count(), 'read_digits in the palette');
    await page.locator('.sqd-toolbox-filter').fill('');
    // the YAML view holds the file as it is, comments and all
    const yaml = await page.locator('textarea.yaml-text').inputValue();
    expect(yaml.includes('# The trunk\'s calls: answered'), 'the YAML view lacks the file\'s comments');
    // no request left this server
    expect(requests.every((u) => u.startsWith(BASE) || u.startsWith('data:')), `requests elsewhere: ${requests.filter((u) => !u.startsWith(BASE))}`);
  });

  await run('token', async () => {
    await page.click('#token');
    // before it, validation could not check: the editor said why
    await until(async () => (await page.locator('#status').textContent()).includes('enter the admin token'),
      'the note asking for the token');
    await page.fill('#token-input', TOKEN);
    await page.click('.modal button[data-value="save"]');
    tokenSaved = true;
    await until(async () => (await page.locator('#status').textContent()).startsWith('valid'), 'validation with the token');
    expect(await page.evaluate(() => sessionStorage.getItem('callroute-admin-token')) === TOKEN, 'token not in sessionStorage');
    expect(!page.url().includes(TOKEN), 'the token is in the URL');
  });
  await shot('editor-route');

  await run('call_this_flow', async () => {
    // from-provider takes calls from the trunk: the browser phone (a user)
    // cannot reach it, and the button says why
    await page.click('#call-flow');
    await page.locator('.modal').waitFor();
    const why = await page.locator('.modal').innerText();
    expect(why.includes('from_gateway') && why.includes('from_user'), `the explanation: ${why}`);
    await page.click('.modal button:not([data-value="open"])');
    await until(async () => !(await page.locator('.modal').count()), 'the dialog closed');
    // internal (from_user, called_number pattern _1XX): the phone opens
    // in another tab with a number the pattern takes
    await page.click('#routes li[data-name="internal"]');
    const [popup] = await Promise.all([page.context().waitForEvent('page'), page.click('#call-flow')]);
    await popup.waitForLoadState();
    expect(new URL(popup.url()).pathname === '/phone/', `opened ${popup.url()}`);
    expect(new URL(popup.url()).searchParams.get('to') === '100', `opened ${popup.url()}`);
    await until(() => popup.locator('#number').count(), 'the phone page');
    expect(await popup.inputValue('#number') === '100', 'the number is not filled in on the phone page');
    await popup.close();
    await page.click('#routes li[data-name="from-provider"]');
    await until(() => page.locator('g.sqd-type-dial[data-step-id]').count(), 'back on from-provider');
  });

  let eventId;
  let emailId;
  await run('add_event_with_email', async () => {
    const answer = await nodeBox(await stepIdOf('answer'));
    const log = await nodeBox(await stepIdOf('log'));
    // an event between answer and log in the route's main line
    const cy = (b) => b.y + b.height / 2;
    const cx = (b) => b.x + b.width / 2;
    await dragFromPalette('event', (boxes) => boxes.find((b) => cy(b) > cy(answer) && cy(b) < cy(log) &&
      cx(b) > answer.x && cx(b) < answer.x + answer.width));
    eventId = await until(() => stepIdOf('event'), 'an event node');
    expect(await stepPath(eventId) === 'routes[0].script[1]', `event at ${await stepPath(eventId)}`);
    // an e-mail inside the event's lane
    const ev = await nodeBox(eventId);
    await dragFromPalette('email', (boxes) => boxes.find((b) => centerIn(b, ev)));
    emailId = await until(() => stepIdOf('email'), 'an email node');
    expect(await stepPath(emailId) === 'routes[0].script[1].do[0]', `email at ${await stepPath(emailId)}`);
    const t = await editorText();
    expect(/- app: answer\n\s+- app: event\n\s+on: hold\n\s+do:\n\s+- app: email/.test(t), `YAML after the drags:\n${t.slice(0, 1600)}`);
    // undo takes the e-mail away, redo brings it back
    await page.click('#undo');
    await until(async () => !(await editorText()).includes('app: email'), 'undo removes the email');
    await page.click('#redo');
    await until(async () => (await editorText()).includes('app: email'), 'redo restores the email');
    emailId = await until(() => stepIdOf('email'), 'the email node again');
  });

  await run('validation_marks_node', async () => {
    // the e-mail has no `to`: the server says so, on that node and in the list
    await until(() => page.locator(`g[data-step-id="${emailId}"].cr-error`).count(), 'the email node marked');
    const problems = await page.locator('#problems li.error').allTextContents();
    expect(problems.some((p) => p.includes("'email' needs 'to'") && p.includes('routes[0].script[1].do[0]')), `problems: ${problems}`);
    expect(await page.locator('#status').textContent() !== 'valid', 'status still valid');
    // other nodes are not marked
    expect(await page.locator(`g[data-step-id="${await stepIdOf('answer')}"].cr-error`).count() === 0, 'answer marked too');
    // Deploy refuses a broken flow
    const before = (await api('GET', '/scenario')).data.revision;
    await page.click('#deploy');
    await until(async () => (await page.locator('#status').textContent()).includes('not deployed'), 'deploy refused');
    expect((await api('GET', '/scenario')).data.revision === before, 'a broken flow was deployed');
  });
  await shot('editor-error');

  await run('fix_and_deploy', async () => {
    await clickNode(emailId);
    await until(() => page.locator('.step-form h3', { hasText: 'email' }).count(), 'the email form');
    const fill = async (label, value) => {
      const input = page.locator('.step-form .field').filter({ has: page.locator(`label:text-is("${label} *"), label:text-is("${label}")`) }).locator('input, textarea').first();
      await input.fill(value);
      await input.press('Tab');
    };
    await fill('to', 'supervisor@example.com');
    await fill('subject', 'Call on hold');
    await fill('body', 'User {agent_name} put on hold {caller_number}.');
    await until(async () => (await page.locator('#status').textContent()).startsWith('valid'), 'valid after the fix', 15000);
    await until(async () => (await page.locator(`g[data-step-id="${emailId}"].cr-error`).count()) === 0, 'the email node unmarked');
    await page.click('#deploy');
    await until(async () => (await page.locator('#revision').textContent()) === 'revision 2', 'deployed as revision 2');
    const cur = (await api('GET', '/scenario')).data;
    expect(cur.revision === 2, `GET /scenario: revision ${cur.revision}`);
    expect(cur.source.includes('# tests/editor/scenario.yaml — what tests/editor/suite.sh serves') &&
      cur.source.includes('# The trunk\'s calls: answered, put through to Alice') &&
      cur.source.includes('# anything else from a gateway') && cur.source.includes('# stands in for the greeting'),
    `comments lost:\n${cur.source}`);
    expect(/- app: event\n\s+on: hold\n\s+do:\n\s+- app: email\n\s+to: supervisor@example.com/.test(cur.source), `deployed text:\n${cur.source}`);
    // key order kept where nothing was touched
    expect(cur.source.indexOf('users:') < cur.source.indexOf('gateways:') && cur.source.indexOf('gateways:') < cur.source.indexOf('scenarios:') &&
      cur.source.indexOf('scenarios:') < cur.source.indexOf('routes:'), 'section order changed');
  });

  await run('yaml_view_edits_the_diagram', async () => {
    await page.click('#tab-yaml');
    const area = page.locator('textarea.yaml-text');
    const t = await area.inputValue();
    await area.fill(t.replace('message: "Call from {caller_number} to {called_number}"', 'message: "incoming {caller_number}"'));
    await until(() => page.locator('g.sqd-type-log text', { hasText: 'incoming' }).count(), 'the log node relabelled from the text');
    await page.click('#undo');
    await until(async () => (await area.inputValue()).includes('message: "Call from {caller_number}'), 'undo of a text edit');
  });

  let callId;
  await run('trace_of_a_sipp_call', async () => {
    const msg = join(WORK, 'call.msg');
    const r = await sipp([`127.0.0.1:${SIP}`, '-sn', 'uac', '-s', '555', '-m', '1', '-d', '3000', '-i', '127.0.0.1', '-p', UAC,
      '-nostdin', '-timeout', '20', '-timeout_error', '-cid_str', '%u-%p-editor@%s', '-trace_msg', '-message_file', msg]);
    expect(r.ok, `sipp failed: ${r.out.slice(-400)}`);
    const calls = await until(async () => {
      const d = (await api('GET', '/calls')).data;
      return d.finished.find((c) => c.call_id.includes('-editor@')) && d;
    }, 'the call among the finished');
    callId = calls.finished.find((c) => c.call_id.includes('-editor@')).call_id;
    await page.click('#tab-calls');
    await until(() => page.locator(`#call-list li[data-call="${callId}"]`).count(), 'the call in the list');
    await page.locator(`#call-list li[data-call="${callId}"]`).click();
    // the nodes it ran are painted, each with its time
    for (const app of ['answer', 'event', 'dial', 'condition']) {
      const id = await stepIdOf(app);
      const g = page.locator(`g[data-step-id="${id}"].cr-traced`);
      await until(() => g.count(), `${app} painted`);
      const label = await g.first().locator(':scope > text.cr-time, :scope > g.sqd-label-primary > text.cr-time').textContent();
      expect(/^\d+(\.\d)?s/.test(label), `${app}: time label '${label}'`);
    }
    expect(await page.locator(`g[data-step-id="${await stepIdOf('dial')}"]`).first().getAttribute('data-trace') !== null, 'dial without trace');
    // the route choice is explained
    const why = await page.locator('.explain li').allTextContents();
    expect(why.some((w) => w.startsWith('from-provider') && w.includes('chosen')) &&
      why.some((w) => w.startsWith('unknown-source') && w.includes("'from-provider' wins")), `explain: ${why}`);
    expect(await page.locator('#routes li[data-name="from-provider"] .why.chosen').count() === 1, 'route list does not show the choice');
    // the trace went on into the voicemail scenario: its flow is marked
    expect(await page.locator('#scenarios li.traced[data-name="voicemail"]').count() === 1, 'voicemail flow not marked as traced');
  });
  await shot('editor-trace');

  await run('playback', async () => {
    await page.locator('.playback button[title="to the start"]').click();
    await until(async () => (await page.locator('g.cr-traced').count()) === 0, 'nothing painted at the start');
    // record by record: the answer runs first, and is the current node
    const answer = await stepIdOf('answer');
    for (let i = 0; i < 6 && !(await page.locator(`g[data-step-id="${answer}"].cr-now`).count()); i++) {
      await page.locator('.playback .step-on').click();
      // the position moved on before the nodes are looked at
      await until(async () => (await page.locator('.playback .pos').textContent()).startsWith(`${i + 1}/`), `playback at ${i + 1}`);
    }
    await until(() => page.locator(`g[data-step-id="${answer}"].cr-now`).count(), 'answer is the current node');
    expect(await page.locator(`g[data-step-id="${await stepIdOf('dial')}"].cr-traced`).count() === 0, 'dial painted before it ran');
    await page.locator('.playback button[title="to the end"]').click();
    const dial = await stepIdOf('dial');
    await until(() => page.locator(`g[data-step-id="${dial}"].cr-traced`).count(), 'dial painted at the end');
  });

  await run('node_details', async () => {
    await clickNode(await stepIdOf('dial'));
    const box = page.locator('.trace-details .run').first();
    await until(() => box.count(), 'the dial run in the details');
    const t = await box.textContent();
    expect(t.includes('strand 1') && t.includes('main') && /result: (error|ok|timeout)/.test(t) && t.includes('dial_status'), `details: ${t}`);
  });

  await run('live_call_follows_events', async () => {
    // a call still up: picked from the list, its trace goes on through
    // GET /events — the voicemail scenario runs while the caller holds on,
    // and its end arrives when the caller hangs up
    const msg = join(WORK, 'live.msg');
    const call = sipp([`127.0.0.1:${SIP}`, '-sn', 'uac', '-s', '556', '-m', '1', '-d', '5000', '-i', '127.0.0.1', '-p', UAC,
      '-nostdin', '-timeout', '25', '-timeout_error', '-cid_str', '%u-%p-live@%s', '-trace_msg', '-message_file', msg]);
    const liveId = await until(async () => {
      const c = ((await api('GET', '/calls')).data.calls || []).find((x) => x.call_id.includes('-live@'));
      return c && c.call_id;
    }, 'the call among the live ones');
    await page.click('#tab-calls');
    await page.click('#refresh-calls');
    await until(() => page.locator(`#call-list li.live[data-call="${liveId}"]`).count(), 'the live call in the list');
    await page.locator(`#call-list li[data-call="${liveId}"]`).click();
    await until(async () => (await page.locator('#calls-tab .trace-head').textContent()).includes('● live'), 'the trace marked live');
    // the view follows the call into the voicemail scenario, whose wait runs
    const wait = await until(() => stepIdOf('wait'), 'the voicemail flow shown');
    await until(() => page.locator(`g[data-step-id="${wait}"].cr-running`).count(), 'the wait running');
    // the hang-up comes in through the event stream, not a reload
    const r = await call;
    expect(r.ok, `sipp failed: ${r.out.slice(-400)}`);
    await until(async () => !(await page.locator('#calls-tab .trace-head').textContent()).includes('● live'), 'the trace no longer live', 15000);
    const head = await page.locator('#calls-tab .trace-head').textContent();
    expect(head.includes('caller normal'), `head after the hang-up: ${head}`);
    await until(() => page.locator(`g[data-step-id="${wait}"].cr-cancelled`).count(), 'the wait ended cancelled');
    const records = await page.locator('#calls-tab .records li').allTextContents();
    expect(records.some((x) => x.includes('hangup by caller')), `records: ${records.slice(-8)}`);
  });

  await run('try_it', async () => {
    await page.click('#tab-try');
    await page.fill('#try-from', '100');
    await page.fill('#try-to', '555');
    await page.fill('#try-source', 'provider');
    await page.fill('#try-parties', '101=answer@2,hangup@8');
    await page.click('#try-run');
    await until(() => page.locator('#try-tab .trace-head', { hasText: 'try: 100 → 555' }).count(), 'the simulation ran');
    const head = await page.locator('#try-tab .trace-head').textContent();
    expect(head.includes('8.0s'), `try: ${head}`);
    // Alice answered: the dial's answer handler ran and is painted
    const dial = await stepIdOf('dial');
    await until(async () => (await page.locator(`g[data-step-id="${dial}"].cr-ok`).count()), 'dial painted ok');
    const records = await page.locator('#try-tab .records li').allTextContents();
    expect(records.some((r) => r.includes('log: Alice Smith answered')), `records: ${records.slice(0, 30)}`);
  });
  await shot('editor-try');

  await run('conflict_409', async () => {
    // someone else deploys meanwhile
    const cur = (await api('GET', '/scenario')).data;
    const theirs = cur.source.replace('timeout: 30s', 'timeout: 25s');
    const put = await api('PUT', '/scenario', { body: theirs, ifMatch: `"${cur.revision}"` });
    expect(put.status === 200, `their PUT: ${put.status}`);
    await page.click('#tab-yaml');
    const area = page.locator('textarea.yaml-text');
    await area.fill((await area.inputValue()).replace('priority: 0', 'priority: 1'));
    await until(async () => (await page.locator('#status').textContent()).startsWith('valid'), 'valid edit');
    await page.click('#deploy');
    await until(() => page.locator('.modal .diff').count(), 'the conflict dialog with a diff');
    const diff = await page.locator('.modal .diff').first().textContent();
    expect(diff.includes('− ') && diff.includes('timeout: 30s') && diff.includes('timeout: 25s'), `diff: ${diff}`);
    await shot('editor-conflict');
    await page.locator('.modal button[data-value="overwrite"]').click();
    await until(async () => (await api('GET', '/scenario')).data.revision === put.data.revision + 1, 'overwritten knowingly');
    const src = (await api('GET', '/scenario')).data.source;
    expect(src.includes('priority: 1') && src.includes('timeout: 30s'), 'the overwrite is not mine');
  });

  await run('old_call_shows_its_revision', async () => {
    // the sipp call ran on revision 2; revision 4 runs now: the trace is
    // shown on revision 2's text, read only, and editing comes back as it was
    await page.click('#tab-calls');
    await page.locator(`#call-list li[data-call="${callId}"]`).click();
    await until(async () => (await page.locator('#readonly-banner').isVisible()) &&
      (await page.locator('#readonly-banner').textContent()).includes('Revision 2'), 'the revision banner');
    const ev = await stepIdOf('event');
    await until(() => page.locator(`g[data-step-id="${ev}"].cr-traced`).count(), 'the event painted on revision 2');
    expect(await page.locator('textarea.yaml-text').evaluate((t) => t.readOnly), 'the YAML view is editable');
    await page.click('#back-to-editing');
    await until(async () => !(await page.locator('#readonly-banner').isVisible()), 'back to editing');
    expect((await editorText()).includes('priority: 1'), 'the edited text did not come back');
    expect(await page.locator('g.cr-traced').count() === 0, 'the trace still painted');
  });

  await run('sections_and_copy_paste', async () => {
    await page.locator('#sections li[data-section="users"]').click();
    await until(() => page.locator('#section-view summary', { hasText: '101' }).count(), 'users as entries');
    await page.locator('#routes li[data-name="from-provider"]').click();
    await until(() => page.locator('g.sqd-type-answer').count(), 'back on the route');
    await clickNode(await stepIdOf('answer'));
    await page.click('#copy');
    await page.click('#paste');
    await until(async () => (await editorText()).match(/- app: answer\n\s+- app: answer/), 'the copy pasted after the original');
    await page.click('#undo');
    await until(async () => !(await editorText()).match(/- app: answer\n\s+- app: answer/), 'paste undone');
  });

  await run('no_page_errors', async () => {
    await Promise.all(judging);
    expect(consoleErrors.length === 0, consoleErrors.join('\n'));
  });
  await browser.close();
}

main().catch(async (e) => {
  console.log(`FAIL editor:${CASE}driver`);
  console.log(`    ${String(e && e.stack || e)}`);
  failed++;
  if (browser) await browser.close().catch(() => {});
}).finally(() => process.exit(failed ? 1 : 0));
