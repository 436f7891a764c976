// live.js - live events from the relay (websocket.md).
//
// One connection for the whole app.  Views say which channels they want
// (want(key, channels)); the client takes a ticket (POST /api/ws/ticket/)
// for the union and connects to /ws/events.  While connected, channels
// that views add come with a further ticket (`subscribe`) and those they
// drop are left (`unsubscribe`), so the others never miss a beat; the
// user changing (login, logout) starts a new connection.  A dropped
// connection is reopened with a new ticket: back-off 250 ms doubling to
// 30 s with jitter; never after 4429.  Then each channel is resumed from
// the last event id seen, or, if none was seen yet, from the moment it was
// first subscribed (the ticket's issue time, in the server's clock), with
// that channel's live events held until "resumed" and merged in order;
// duplicates are dropped, and `recovered: false` tells the listeners to
// re-read.  Same rules as static/ws-demo.html.
import { action, ApiError } from './api.js';

/** Stream ids "<ms>-<seq>": true when a is newer than b. */
export function newer(a, b) {
  if (b === undefined || b === null) return true;
  const x = String(a).split('-').map(BigInt);
  const y = String(b).split('-').map(BigInt);
  return x[0] > y[0] || (x[0] === y[0] && (x[1] ?? 0n) > (y[1] ?? 0n));
}

export class LiveClient {
  constructor({ WebSocketImpl, ticket, location: loc, setTimer, random } = {}) {
    this.WS = WebSocketImpl || globalThis.WebSocket;
    this.ticket = ticket || ((channels) => action('wsTicket', {}, { channels }));
    this.loc = loc || globalThis.location;
    this.setTimer = setTimer || ((fn, ms) => setTimeout(fn, ms));
    this.random = random || Math.random;
    this.wants = new Map();     // key -> channels
    this.listeners = new Set();
    this.last = {};             // channel -> last event id
    this.since = {};            // channel -> stream id when first subscribed
    this.issuedAt = 0;          // server time (ms) of the last ticket
    this.held = {};             // channel -> events held during a resume
    this.socket = null;
    this.subscribed = [];
    this.delay = 250;
    this.state = 'idle';        // idle | connecting | open | closed | refused
    this.generation = 0;        // bumps on every (re)connect decision
    this.retryTimer = null;
  }

  /** fn({kind: 'event'|'resync'|'state', ...}) */
  on(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit(msg) {
    for (const fn of this.listeners) {
      try {
        fn(msg);
      } catch (e) {
        console.error(e);
      }
    }
  }

  setState(s) {
    this.state = s;
    this.emit({ kind: 'state', state: s });
  }

  channels() {
    const all = new Set();
    for (const chs of this.wants.values()) for (const c of chs) all.add(c);
    return [...all].sort();
  }

  /** Declares the channels a part of the app needs (empty: none). */
  want(key, channels) {
    const before = this.channels();
    if (channels && channels.length) this.wants.set(key, [...new Set(channels)]);
    else this.wants.delete(key);
    const after = this.channels();
    if (after.join(',') === before.join(',')) return;
    if (this.state !== 'open' || !this.socket || after.length === 0) {
      this.reconnect();
      return;
    }
    const gone = before.filter((c) => !after.includes(c));
    const added = after.filter((c) => !before.includes(c));
    if (gone.length) {
      this.send({ action: 'unsubscribe', payload: { channels: gone } });
      for (const c of gone) {
        delete this.last[c];
        delete this.since[c];
      }
    }
    if (added.length) this.addChannels(added, this.generation);
  }

  /** Further channels on the open connection, with a ticket of their own. */
  async addChannels(channels, gen) {
    let t;
    try {
      t = await this.ticket(channels);
    } catch {
      return;   // nothing granted, or offline: the next reconnect asks again
    }
    if (gen !== this.generation || !this.socket) return;
    this.noteIssued(t);
    this.send({ action: 'subscribe', payload: { ticket: t.ticket } });
  }

  send(msg) {
    try {
      this.socket.send(JSON.stringify(msg));
    } catch {
      /* closing: onclose reconnects */
    }
  }

  noteIssued(t) {
    const exp = Date.parse(t && t.expires_at);
    // Tickets live ws_ticket_ttl (60 s by default) from their issue.
    this.issuedAt = Number.isFinite(exp) ? exp - 60000 : 0;
  }

  /** The user changed (login, logout): start afresh. */
  restart() {
    this.last = {};
    this.since = {};
    this.reconnect();
  }

  reconnect() {
    this.generation++;
    this.delay = 250;
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    this.closeSocket();
    if (this.channels().length === 0) {
      this.setState('idle');
      return;
    }
    this.connect(this.generation);
  }

  closeSocket() {
    const s = this.socket;
    this.socket = null;
    if (s) {
      s.onclose = s.onmessage = s.onerror = null;
      try {
        s.close(1000);
      } catch {
        /* already closed */
      }
    }
  }

  retry(gen) {
    if (gen !== this.generation) return;
    const wait = this.delay + this.random() * this.delay / 2;
    this.delay = Math.min(this.delay * 2, 30000);
    this.retryTimer = this.setTimer(() => {
      this.retryTimer = null;
      if (gen === this.generation) this.connect(gen);
    }, wait);
  }

  async connect(gen) {
    const wanted = this.channels();
    this.setState('connecting');
    let t;
    try {
      t = await this.ticket(wanted);
    } catch (e) {
      if (gen !== this.generation) return;
      // 403: nothing granted (e.g. logged out meanwhile): stay quiet.
      if (e instanceof ApiError && e.status === 403) {
        this.setState('refused');
        return;
      }
      this.setState('closed');
      this.retry(gen);
      return;
    }
    if (gen !== this.generation) return;
    this.noteIssued(t);
    const scheme = this.loc.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new this.WS(`${scheme}//${this.loc.host}/ws/events?ticket=${encodeURIComponent(t.ticket)}`,
      'openbook.v1');
    this.socket = ws;
    ws.onmessage = (m) => this.onMessage(ws, m.data);
    ws.onclose = (e) => {
      if (this.socket !== ws) return;
      this.socket = null;
      this.subscribed = [];
      this.setState('closed');
      if (e.code === 4429) {
        this.setState('refused');   // another tab holds the place
        return;
      }
      this.retry(gen);
    };
  }

  onMessage(ws, data) {
    let msg;
    try {
      msg = JSON.parse(data);
    } catch {
      return;
    }
    const p = msg && msg.payload;
    if (msg.action === 'subscribed' && p && Array.isArray(p.channels)) {
      this.delay = 250;
      this.subscribed = [...new Set([...this.subscribed, ...p.channels])];
      for (const ch of p.channels) {
        const from = this.last[ch] ?? this.since[ch];
        if (from !== undefined) {
          this.held[ch] = [];
          ws.send(JSON.stringify({ action: 'resume', payload: { channel: ch, last_event_id: from } }));
        } else if (this.issuedAt) {
          this.since[ch] = `${this.issuedAt}-0`;
        }
      }
      this.setState('open');
    } else if (msg.action === 'unsubscribed' && p && Array.isArray(p.channels)) {
      this.subscribed = this.subscribed.filter((c) => !p.channels.includes(c));
    } else if (msg.action === 'event' && p && typeof p.channel === 'string') {
      if (this.held[p.channel]) this.held[p.channel].push(p);
      else this.deliver(p);
    } else if (msg.action === 'resumed' && p) {
      const waiting = this.held[p.channel] || [];
      delete this.held[p.channel];
      waiting.sort((a, b) => (newer(a.id, b.id) ? 1 : -1)).forEach((ev) => this.deliver(ev));
      if (!p.recovered) this.emit({ kind: 'resync', channel: p.channel });
    }
  }

  deliver(ev) {
    if (!newer(ev.id, this.last[ev.channel])) return;   // a duplicate
    this.last[ev.channel] = ev.id;
    this.emit({ kind: 'event', channel: ev.channel, type: ev.type, payload: ev.payload || {}, id: ev.id });
  }
}

export const live = new LiveClient();
