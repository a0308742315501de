// phone-sip.js — the browser phone's SIP side (JsSIP over a WebSocket to
// the cluster's Kamailio, docs/webrtc.md): register as a user, place and
// take one call at a time, DTMF, mute, and what the call's
// RTCPeerConnection receives. No DOM here: the page (phone.js) listens to
// `onchange` and reads `state`.
import { UA, WebSocketInterface } from 'jssip';

// The media the browser offers and takes: audio only, no STUN or TURN
// (rtpengine in front of callroute answers ICE itself, from the address
// the browser's packets come from).
const MEDIA = { mediaConstraints: { audio: true, video: false }, pcConfig: { iceServers: [] } };
const STATS_EVERY_MS = 500;

export class Phone {
  constructor(onchange) {
    this.onchange = onchange;
    this.ua = null;
    this.session = null;
    this.audio = new Audio();   // the far end's sound
    this.audio.autoplay = true;
    this.statsTimer = null;
    // What the page shows, and what tests read (window.callroutePhone).
    this.state = {
      registration: 'off',   // off | connecting | registering | registered | failed
      reason: '',
      call: null,
    };
  }

  changed() { this.onchange(this.state); }

  // Registers USER@DOMAIN with PASSWORD over the WebSocket at WS.
  register({ ws, user, domain, password }) {
    this.stop();
    const socket = new WebSocketInterface(ws);
    this.ua = new UA({
      sockets: [socket],
      uri: `sip:${user}@${domain}`,
      password,
      register: true,
      register_expires: 300,
      session_timers: false,
      user_agent: 'callroute-phone (JsSIP)',
    });
    const ua = this.ua;
    const set = (registration, reason = '') => {
      if (this.ua !== ua) return;   // an older UA's late event
      Object.assign(this.state, { registration, reason });
      this.changed();
    };
    ua.on('connecting', () => set('connecting'));
    ua.on('connected', () => set('registering'));
    ua.on('disconnected', (e) => set('failed', `WebSocket closed${e && e.code ? ` (${e.code})` : ''}`));
    ua.on('registered', () => set('registered'));
    ua.on('unregistered', () => set('off'));
    ua.on('registrationFailed', (e) => set('failed', why(e)));
    ua.on('newRTCSession', (e) => this.adopt(e.session, e.originator));
    ua.start();
    set('connecting');
  }

  unregister() {
    this.stop();
    Object.assign(this.state, { registration: 'off', reason: '' });
    this.changed();
  }

  // Ends the call and the UA (REGISTER with Expires: 0, the socket closed);
  // its late events are ignored.
  stop() {
    if (this.session) this.hangup();
    if (this.ua) {
      const ua = this.ua;
      this.ua = null;
      ua.stop();
    }
  }

  call(target) {
    if (!this.ua || this.session) return;
    this.ua.call(target, { ...MEDIA });
  }

  answer() {
    if (this.session && this.state.call.state === 'incoming') this.session.answer({ ...MEDIA });
  }

  hangup() {
    if (!this.session) return;
    try { this.session.terminate(); } catch { /* already over */ }
  }

  // RFC 4733 events in the RTP stream (JsSIP's "RFC2833"), or SIP INFO.
  dtmf(tone, mode) {
    if (!this.session || this.state.call.state !== 'talking') return;
    this.session.sendDTMF(tone, { transportType: mode === 'info' ? 'INFO' : 'RFC2833', duration: 160, interToneGap: 80 });
    this.state.call.dtmfSent += tone;
    this.changed();
  }

  toggleMute() {
    if (!this.session || this.state.call.state !== 'talking') return;
    if (this.state.call.muted) this.session.unmute({ audio: true });
    else this.session.mute({ audio: true });
    this.state.call.muted = !this.state.call.muted;
    this.changed();
  }

  // A new session (ours or the far end's): one at a time.
  adopt(session, originator) {
    if (this.session) {
      if (originator === 'remote') session.terminate({ status_code: 486, reason_phrase: 'Busy Here' });
      return;
    }
    this.session = session;
    const peer = session.remote_identity && session.remote_identity.uri ? session.remote_identity.uri.user : '';
    const call = {
      direction: originator === 'local' ? 'out' : 'in',
      peer: String(peer || ''),
      peerName: session.remote_identity ? String(session.remote_identity.display_name || '') : '',
      state: originator === 'local' ? 'calling' : 'incoming',
      cause: '', started: Date.now(), answered: 0, ended: 0,
      muted: false, dtmfSent: '',
      packetsReceived: 0, packetsSent: 0, audioLevel: 0, maxAudioLevel: 0, codec: '',
    };
    this.state.call = call;
    const set = (s, cause) => {
      if (this.state.call !== call) return;
      call.state = s;
      if (cause) call.cause = cause;
      this.changed();
    };
    session.on('progress', () => set(call.direction === 'out' ? 'ringing' : call.state));
    session.on('accepted', () => { call.answered = Date.now(); set('talking'); });
    session.on('confirmed', () => set('talking'));
    session.on('ended', (e) => this.finish(call, 'ended', why(e)));
    session.on('failed', (e) => this.finish(call, 'failed', why(e)));
    if (session.connection) this.watch(session.connection);
    else session.on('peerconnection', (e) => this.watch(e.peerconnection));
    this.changed();
  }

  finish(call, state, cause) {
    if (this.state.call !== call) return;
    call.state = state;
    call.cause = cause;
    call.ended = Date.now();
    this.session = null;
    clearInterval(this.statsTimer);
    this.statsTimer = null;
    this.audio.srcObject = null;
    this.changed();
  }

  // The far end's audio to the speaker; the call's stats twice a second.
  watch(pc) {
    pc.addEventListener('track', (e) => {
      if (e.track.kind === 'audio') this.audio.srcObject = e.streams[0] || new MediaStream([e.track]);
    });
    const call = this.state.call;
    clearInterval(this.statsTimer);
    this.statsTimer = setInterval(async () => {
      if (this.state.call !== call || pc.connectionState === 'closed') return;
      const s = await readStats(pc).catch(() => null);
      if (!s || this.state.call !== call) return;
      Object.assign(call, s, { maxAudioLevel: Math.max(call.maxAudioLevel, s.audioLevel) });
      this.changed();
    }, STATS_EVERY_MS);
  }
}

// What getStats() says of the call's audio: RTP packets in and out, the
// level of what is heard (0..1, as the browser measures it), the codec.
export async function readStats(pc) {
  const out = { packetsReceived: 0, packetsSent: 0, audioLevel: 0, codec: '' };
  const reports = await pc.getStats();
  let codecId = '';
  reports.forEach((r) => {
    if (r.type === 'inbound-rtp' && r.kind === 'audio') {
      out.packetsReceived = r.packetsReceived || 0;
      out.audioLevel = typeof r.audioLevel === 'number' ? r.audioLevel : 0;
      codecId = r.codecId || '';
    } else if (r.type === 'outbound-rtp' && r.kind === 'audio') {
      out.packetsSent = r.packetsSent || 0;
    }
  });
  const codec = codecId && reports.get(codecId);
  if (codec) out.codec = String(codec.mimeType || '').replace(/^audio\//, '');
  return out;
}

// A JsSIP end or failure event as words: the SIP answer when there was one.
function why(e) {
  if (!e) return '';
  const r = e.response || (e.message && e.message.status_code ? e.message : null);
  if (r && r.status_code) return `${r.status_code} ${r.reason_phrase || ''}`.trim();
  return String(e.cause || '');
}
