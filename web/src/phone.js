// phone.js — callroute's browser phone (README, Browser phone): a SIP user
// registered over a WebSocket through the cluster's Kamailio, which hands
// the call's media to rtpengine (docs/webrtc.md). The page holds no secret:
// the user types their SIP user and password; the WebSocket URL, user and
// domain are prefilled from the query (?ws=&user=&domain=&to=) or from what
// this browser used last (localStorage; never the password).
import './editor.css';
import './phone.css';
import { clear, h } from './dom.js';
import { Phone } from './phone-sip.js';

const KEY = 'callroute-phone';
const KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'];
const TARGET = /^(sips?:[^\s]+|[A-Za-z0-9+*#._-]{1,64})$/;

const query = new URLSearchParams(location.search);
const saved = (() => { try { return JSON.parse(localStorage.getItem(KEY)) || {}; } catch { return {}; } })();
const defaultWs = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.hostname || '127.0.0.1'}:${location.protocol === 'https:' ? 7443 : 5066}`;
const hostOf = (ws) => { try { return new URL(ws).hostname; } catch { return ''; } };
const pick = (name, fallback) => query.get(name) || saved[name] || fallback;

const el = {};
const phone = new Phone(render);
// For tests and the curious: what the page shows, read only.
window.callroutePhone = { get state() { return phone.state; } };

function layout() {
  const field = (label, input, help) => h('label', { class: 'field' }, h('span', {}, label), input,
    help ? h('span', { class: 'help' }, help) : null);
  el.ws = h('input', { id: 'ws', value: pick('ws', defaultWs), spellcheck: 'false', autocomplete: 'off' });
  el.user = h('input', { id: 'user', value: pick('user', ''), autocomplete: 'username', placeholder: '101' });
  el.domain = h('input', { id: 'domain', value: pick('domain', hostOf(pick('ws', defaultWs))), spellcheck: 'false' });
  el.password = h('input', { id: 'password', type: 'password', autocomplete: 'current-password' });
  el.register = h('button', { id: 'register', class: 'primary', type: 'submit' }, 'Register');
  el.unregister = h('button', { id: 'unregister', type: 'button', onclick: () => phone.unregister() }, 'Unregister');
  el.status = h('span', { class: 'status', id: 'reg-status' });
  el.reason = h('span', { class: 'help', id: 'reg-reason' });
  el.number = h('input', { id: 'number', class: 'number', value: query.get('to') || '', placeholder: 'number',
    autocomplete: 'off', spellcheck: 'false', onkeydown: (e) => { if (e.key === 'Enter') place(); } });
  el.call = h('button', { id: 'call', class: 'primary', onclick: place }, 'Call');
  el.hangup = h('button', { id: 'hangup', class: 'hangup', onclick: () => phone.hangup() }, 'Hang up');
  el.answer = h('button', { id: 'answer', class: 'primary', onclick: () => phone.answer() }, 'Answer');
  el.mute = h('button', { id: 'mute', onclick: () => phone.toggleMute() }, 'Mute');
  el.dtmfMode = h('select', { id: 'dtmf-mode', title: 'how keys pressed during a call are sent' },
    h('option', { value: 'rfc4733' }, 'DTMF in RTP (RFC 4733)'), h('option', { value: 'info' }, 'DTMF as SIP INFO'));
  el.keypad = h('div', { class: 'keypad' }, KEYS.map((k) => h('button', { class: 'key', dataset: { key: k }, onclick: () => key(k) }, k)));
  el.callState = h('div', { class: 'call-state', id: 'call-state' });
  el.meter = h('div', { class: 'meter-bar' });
  el.stats = h('div', { class: 'stats', id: 'stats' });
  el.log = h('ul', { class: 'log', id: 'log' });
  el.secure = h('p', { class: 'warn', id: 'insecure', hidden: !!(window.isSecureContext && navigator.mediaDevices) },
    'This page is not a secure context: the browser gives no microphone to it. Open it over https:// or from localhost ',
    '(an SSH tunnel to the admin listener).');

  document.getElementById('app').replaceWith(h('div', { class: 'app phone-app', id: 'app' },
    h('header', { class: 'top' }, h('b', { class: 'brand' }, 'callroute'), h('span', { class: 'flow-title' }, 'phone'),
      h('span', { class: 'grow' }), el.status),
    h('main', { class: 'phone-main' },
      h('section', { class: 'card account' },
        h('h3', {}, 'Account'), el.secure,
        h('form', { onsubmit: (e) => { e.preventDefault(); register(); } },
          field('WebSocket', el.ws, "Kamailio's SIP over WebSocket listener (contrib/kamailio, WITH_WEBRTC)"),
          h('div', { class: 'row' }, field('User', el.user), h('span', { class: 'at' }, '@'), field('Domain', el.domain)),
          field('Password', el.password, 'the user\'s SIP password (users: in the scenario); kept in this page only'),
          h('div', { class: 'row' }, el.register, el.unregister, el.reason))),
      h('section', { class: 'card dialer' },
        h('h3', {}, 'Call'),
        h('div', { class: 'row' }, el.number, el.call),
        el.keypad,
        h('div', { class: 'row' }, el.answer, el.hangup, el.mute, h('span', { class: 'grow' }), el.dtmfMode),
        el.callState,
        h('div', { class: 'meter', title: 'the level of what you hear' }, el.meter),
        el.stats),
      h('section', { class: 'card events' }, h('h3', {}, 'Events'), el.log))));
}

function register() {
  const cfg = { ws: el.ws.value.trim(), user: el.user.value.trim(), domain: el.domain.value.trim(), password: el.password.value };
  if (!/^wss?:\/\/[^\s/]+/.test(cfg.ws)) return note('the WebSocket URL is ws://HOST:PORT or wss://HOST:PORT');
  if (!/^[A-Za-z0-9+._-]{1,64}$/.test(cfg.user)) return note('the user is a number like 101');
  if (!/^[A-Za-z0-9.:[\]-]{1,253}$/.test(cfg.domain)) return note('the domain is a host name or address');
  localStorage.setItem(KEY, JSON.stringify({ ws: cfg.ws, user: cfg.user, domain: cfg.domain }));
  log(`register ${cfg.user}@${cfg.domain} through ${cfg.ws}`);
  try {
    phone.register(cfg);
  } catch (e) {
    note(`cannot register: ${e.message}`);
  }
}

function place() {
  const to = el.number.value.trim();
  if (!TARGET.test(to)) return note('dial a number (digits, *, #, +) or a sip: URI');
  log(`call ${to}`);
  phone.call(to);
}

function key(k) {
  const c = phone.state.call;
  if (c && c.state === 'talking') {
    phone.dtmf(k, el.dtmfMode.value);
    log(`DTMF ${k} (${el.dtmfMode.value === 'info' ? 'SIP INFO' : 'RFC 4733'})`);
  } else {
    el.number.value += k;
  }
}

// ---- what the page shows ---------------------------------------------------

const REG_TEXT = { off: 'not registered', connecting: 'connecting…', registering: 'registering…', registered: 'registered', failed: 'failed' };
const CALL_TEXT = { calling: 'calling', ringing: 'ringing', incoming: 'incoming call', talking: 'in call', ended: 'ended', failed: 'failed' };
let last = { registration: '', call: '', callState: '' };

function render(s) {
  const r = s.registration;
  el.status.className = `status ${r === 'registered' ? 'good' : r === 'failed' ? 'bad' : 'pending'}`;
  el.status.textContent = REG_TEXT[r] || r;
  el.reason.textContent = s.reason;
  const c = s.call;
  const live = c && !['ended', 'failed'].includes(c.state);
  el.call.disabled = r !== 'registered' || !!live;
  el.unregister.disabled = r === 'off';
  el.hangup.disabled = !live;
  el.answer.hidden = !(c && c.state === 'incoming');
  el.mute.disabled = !(c && c.state === 'talking');
  el.mute.textContent = c && c.muted ? 'Unmute' : 'Mute';
  el.mute.classList.toggle('on', !!(c && c.muted));
  if (c) {
    const who = c.peerName && c.peerName !== c.peer ? `${c.peerName} (${c.peer})` : c.peer;
    const secs = c.answered ? Math.round(((c.ended || Date.now()) - c.answered) / 1000) : 0;
    clear(el.callState, h('span', { class: `call-pill ${c.state}` }, CALL_TEXT[c.state] || c.state), ' ',
      c.direction === 'in' ? 'from ' : 'to ', h('b', {}, who || '?'),
      c.answered ? ` · ${secs}s` : '', c.cause ? h('span', { class: 'help' }, ` · ${c.cause}`) : '');
    el.meter.style.width = `${Math.round(Math.min(1, Math.sqrt(c.audioLevel)) * 100)}%`;
    clear(el.stats, `packets received ${c.packetsReceived} · sent ${c.packetsSent}`,
      c.codec ? ` · ${c.codec}` : '', ` · level ${c.audioLevel.toFixed(3)}`,
      c.dtmfSent ? ` · DTMF sent ${c.dtmfSent}` : '');
  } else {
    clear(el.callState, h('span', { class: 'help' }, r === 'registered' ? 'ready: dial a number' : 'register to call'));
    el.meter.style.width = '0';
    clear(el.stats);
  }
  // the log: changes only
  if (r !== last.registration) log(`${REG_TEXT[r] || r}${s.reason ? `: ${s.reason}` : ''}`);
  if (c && (c !== last.call || c.state !== last.callState))
    log(`${CALL_TEXT[c.state] || c.state} ${c.direction === 'in' ? 'from' : 'to'} ${c.peer}${c.cause ? `: ${c.cause}` : ''}`);
  last = { registration: r, call: c, callState: c ? c.state : '' };
}

function log(text) {
  const t = new Date().toTimeString().slice(0, 8);
  el.log.prepend(h('li', {}, h('span', { class: 't' }, t), ' ', text));
  while (el.log.children.length > 40) el.log.lastChild.remove();
}
function note(text) { log(text); el.reason.textContent = text; }

layout();
render(phone.state);
// the duration ticks while a call is up
setInterval(() => { if (phone.state.call && phone.state.call.state === 'talking') render(phone.state); }, 1000);
