// tests/webphone/phone.mjs — the browser phone (/phone/) in a real browser
// (Debian's chromium, headless, a fake microphone, driven by
// playwright-core) against what tests/webphone/suite.sh started: Kamailio's
// WebSocket with rtpengine, one callroute node, PostgreSQL. Everything is
// done as a user does it — typing, clicking — and checked where it lands:
// the page's WebRTC stats, the node's admin API, Kamailio's location table.
// One line per case: "PASS webphone:NAME" or "FAIL webphone:NAME" and why.
//
// Environment: ADMIN (the node's admin port), TOKEN, WS and WSS (Kamailio's
// WebSocket and WebSocket-over-TLS ports), SPKI (the SHA-256 of the key of
// Kamailio's certificate, base64: the browser trusts it), WORK (a directory), PGPORT, NGPORT (rtpengine's control
// port), SHOT (optional: a PNG path for the page in a call).
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, '..', '..', 'web', 'package.json'));
const { chromium } = require('playwright-core');

const { ADMIN, TOKEN, WS, WSS, SPKI, WORK, PGPORT, NGPORT, SHOT } = process.env;
const BASE = `http://127.0.0.1:${ADMIN}`;
const USER = '101';
const PASSWORD = 'secret101';

let failed = 0;
let page;
async function run(name, fn) {
  try {
    await fn();
    console.log(`PASS webphone:${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL webphone:${name}`);
    console.log(`    ${String(e && e.stack || e).split('\n').slice(0, 6).join('\n    ')}`);
    if (page) {
      await page.screenshot({ path: join(WORK, `fail-${name}.png`) }).catch(() => {});
      const log = await page.locator('#log').innerText().catch(() => '');
      console.log(`    page log:\n      ${log.split('\n').slice(0, 12).join('\n      ')}`);
    }
  }
}
function expect(cond, why) { if (!cond) throw new Error(why); }

// Polls FN until it returns a truthy value; its value. Each check is of the
// thing awaited, never a sleep standing in for it.
async function until(fn, why, ms = 15000) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    try { last = await fn(); } catch { last = undefined; }
    if (last) return last;
    if (Date.now() > end) throw new Error(`timed out: ${why}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function api(method, path, body) {
  const res = await fetch(`${BASE}${path}`, {
    method, headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let data = null;
  try { data = JSON.parse(text); } catch { data = text; }
  return { status: res.status, data };
}

// rtpengine's view of a call (ng.py: its NG control protocol).
function rtpengine(...args) {
  return new Promise((resolve, reject) => execFile('/usr/bin/python3', [join(here, 'ng.py'), NGPORT, ...args],
    (err, out) => (err ? reject(err) : resolve(JSON.parse(out)))));
}
// Each side of call ID in rtpengine: [{protocol, flags, packets}], one per tag.
async function mediaSides(id) {
  const q = await rtpengine('query', id);
  return Object.values(q.tags || {}).map((t) => {
    const m = (t.medias || [])[0] || {};
    return { protocol: m.protocol, flags: m.flags || [],
      packets: (m.streams || []).reduce((n, st) => n + ((st.stats && st.stats.packets) || 0), 0) };
  });
}

function psql(sql) {
  return new Promise((resolve, reject) => execFile('psql',
    ['-X', '-A', '-t', '-F', '|', '-h', '127.0.0.1', '-p', PGPORT, '-U', 'postgres', 'test', '-c', sql],
    (err, out) => (err ? reject(err) : resolve(out.trim()))));
}

const stateOf = (p) => p.evaluate(() => JSON.parse(JSON.stringify(window.callroutePhone.state)));
const state = () => stateOf(page);
const callState = async () => (await state()).call;
// The call on page P until its prompt is heard: RTP through rtpengine,
// decrypted and decoded by the browser (inbound-rtp packets, audio level).
const heard = (p) => until(async () => {
  const c = (await stateOf(p)).call;
  return c && c.state === 'talking' && c.packetsReceived > 25 && c.maxAudioLevel > 0.01 ? c : null;
}, 'audio received (inbound-rtp packetsReceived, audioLevel)');

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    // A fake microphone (a beep) and no permission prompt; ICE candidates
    // on loopback, where rtpengine listens in this test; Kamailio's
    // certificate (made by the suite) trusted for wss://.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream', '--allow-loopback-in-peer-connection', '--autoplay-policy=no-user-gesture-required',
      `--ignore-certificate-errors-spki-list=${SPKI}`],
  });
  const context = await browser.newContext({ viewport: { width: 900, height: 720 } });
  page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));

  await run('register', async () => {
    await page.goto(`${BASE}/phone/?ws=${encodeURIComponent(`ws://127.0.0.1:${WS}`)}&user=${USER}&domain=127.0.0.1`);
    expect(await page.inputValue('#user') === USER, 'the user is not prefilled from ?user=');
    expect(await page.inputValue('#ws') === `ws://127.0.0.1:${WS}`, 'the WebSocket URL is not prefilled from ?ws=');
    // a wrong password first: the node refuses it, the page says so
    await page.fill('#password', 'wrong');
    await page.click('#register');
    await until(async () => (await state()).registration === 'failed', 'a wrong password refused');
    expect(/401|403|Authentication/i.test((await state()).reason), `refusal reason: ${(await state()).reason}`);
    await page.fill('#password', PASSWORD);
    await page.click('#register');
    await until(async () => (await state()).registration === 'registered', 'registered through the WebSocket');
    expect((await page.locator('#reg-status').textContent()) === 'registered', 'the page does not show "registered"');
    // Kamailio keeps the browser's binding: its WS contact, and where its
    // connection is (received), in PostgreSQL
    const row = await until(() => psql(`SELECT contact, received FROM location WHERE username = '${USER}'`), 'a location row');
    const [contact, received] = row.split('|');
    expect(/;transport=ws/.test(contact), `the location's contact is not a WebSocket one: ${contact}`);
    expect(/^sip:127\.0\.0\.1:\d+;transport=ws$/.test(received), `the location has no received connection: ${received}`);
    expect(!(await page.evaluate(() => localStorage.getItem('callroute-phone'))).includes(PASSWORD), 'the password was stored');
  });

  let callId = '';
  await run('call_scenario', async () => {
    await page.fill('#number', '700');
    await page.click('#call');
    await until(async () => (await callState()).state === 'talking', 'the call to 700 answered');
    // the prompt (a 440 Hz tone) arrives
    const c = await heard(page);
    console.log(`    received ${c.packetsReceived} packets (${c.codec}), audio level up to ${c.maxAudioLevel.toFixed(3)}`);
    const live = await until(async () => {
      const { data } = await api('GET', '/calls');
      return (data.calls || []).find((x) => x.to === '700');
    }, 'the node lists the call');
    callId = live.call_id;
    expect(live.from === USER && live.source === `user:${USER}` && live.route === 'prompt',
      `the node saw the call as ${JSON.stringify(live)}`);
    // what each side is: the browser's DTLS-SRTP with ICE, the node's plain
    // RTP; media flowed on both
    const sides = await until(async () => {
      const m = await mediaSides(callId);
      return m.length === 2 && m.every((x) => x.packets > 0) ? m : null;
    }, 'rtpengine relays the call both ways');
    const browserSide = sides.find((x) => x.protocol === 'UDP/TLS/RTP/SAVPF');
    const nodeSide = sides.find((x) => x.protocol === 'RTP/AVP');
    expect(browserSide && nodeSide, `rtpengine's sides: ${JSON.stringify(sides)}`);
    expect(browserSide.flags.includes('DTLS-SRTP') && browserSide.flags.includes('ICE'), `browser side: ${JSON.stringify(browserSide)}`);
    expect(!nodeSide.flags.includes('DTLS-SRTP') && !nodeSide.flags.includes('ICE'), `node side: ${JSON.stringify(nodeSide)}`);
    if (SHOT) await page.screenshot({ path: SHOT });
    // DTMF keys (RFC 4733 in the RTP) reach the scenario's read_digits
    for (const k of ['4', '2']) await page.click(`.keypad .key[data-key="${k}"]`);
    await until(async () => {
      const { data } = await api('GET', `/calls/${encodeURIComponent(callId)}`);
      return (data.trace || []).some((r) => JSON.stringify(r).includes('"code":"42"'));
    }, 'the scenario collected the digits 42');
    // mute: the page says so
    await page.click('#mute');
    expect((await callState()).muted, 'mute did not take');
    await page.click('#mute');
    // the node hangs up (POST /calls/ID/hangup): its BYE finds the browser
    // through Kamailio (the Contact's alias names its connection)
    const { status } = await api('POST', `/calls/${encodeURIComponent(callId)}/hangup`, { cause: 'normal' });
    expect(status === 202, `POST /calls/ID/hangup: ${status}`);
    await until(async () => (await callState()).state === 'ended', 'the page saw the BYE');
    const done = await until(async () => {
      const { data } = await api('GET', '/calls');
      return (data.finished || []).find((x) => x.call_id === callId);
    }, 'the call in the node\'s finished calls');
    expect(done.hangup_by === 'admin', `hangup_by ${done.hangup_by}`);
  });

  await run('call_browser', async () => {
    const { status, data } = await api('POST', '/calls', { to: USER, scenario: 'greeting', caller_id: '555' });
    expect(status === 201, `POST /calls: ${status} ${JSON.stringify(data)}`);
    await until(async () => { const s = await callState(); return s.direction === 'in' && s.state === 'incoming'; },
      'the page rings');
    expect(await page.locator('#answer').isVisible(), 'no Answer button');
    expect((await callState()).peer === '555', `the caller shown is ${(await callState()).peer}`);
    await page.click('#answer');
    const c = await heard(page);
    console.log(`    received ${c.packetsReceived} packets (${c.codec}), audio level up to ${c.maxAudioLevel.toFixed(3)}`);
    // the browser hangs up: its BYE reaches the node
    await page.click('#hangup');
    await until(async () => (await callState()).state === 'ended', 'the call ended');
    const rec = await until(async () => {
      const r = await api('GET', `/calls/${encodeURIComponent(data.call_id)}`);
      return r.data && r.data.answered && r.data.hangup_by ? r.data : null;
    }, 'the originated call ended in the node');
    expect(rec.answered, 'the node did not see the browser answer');
  });

  await run('wss', async () => {
    // user 102 in a second browser context, over WebSocket-over-TLS (-A
    // WITH_WSS; the test's own certificate)
    const ctx = await browser.newContext();
    const p2 = await ctx.newPage();
    p2.on('pageerror', (e) => errors.push(`pageerror (wss): ${e.message}`));
    await p2.goto(`${BASE}/phone/?ws=${encodeURIComponent(`wss://127.0.0.1:${WSS}`)}&user=102&domain=127.0.0.1`);
    await p2.fill('#password', 'secret102');
    await p2.click('#register');
    await until(async () => (await stateOf(p2)).registration === 'registered', 'registered over wss://');
    // (RFC 7118: the transport parameter is "ws" over TLS too; the
    // connection the location names is the TLS one)
    const received = await until(() => psql("SELECT received FROM location WHERE username = '102'"), 'a location row');
    expect(/^sip:127\.0\.0\.1:\d+;transport=ws$/.test(received), `the location has no received connection: ${received}`);
    await p2.fill('#number', '700');
    await p2.click('#call');
    const c = await heard(p2);
    console.log(`    over wss: received ${c.packetsReceived} packets (${c.codec})`);
    await p2.click('#hangup');
    await until(async () => (await stateOf(p2)).call.state === 'ended', 'the call ended');
    await ctx.close();
  });

  await run('no_page_errors', async () => {
    expect(errors.length === 0, errors.join('; '));
  });
  await browser.close();
}

main().then(() => process.exit(failed ? 1 : 0), (e) => {
  console.log(`FAIL webphone:browser\n    ${e && e.stack || e}`);
  process.exit(1);
});
