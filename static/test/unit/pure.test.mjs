// Router, textbook tree, component registry, live client.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compile, hashPath, Router } from '../../src/router.js';
import { buildTree, neighbours, ancestors, pageRange } from '../../src/textbook-tree.js';
import { buildRegistry } from '../../src/components.js';
import { LiveClient, newer } from '../../src/live.js';

test('routes', () => {
  const m = compile('/textbooks/:id/pages/:page');
  assert.deepEqual(m('/textbooks/a/pages/b'), { id: 'a', page: 'b' });
  assert.deepEqual(m('/textbooks/a%20b/pages/b/'), { id: 'a b', page: 'b' });
  assert.equal(m('/textbooks/a/pages'), null);
  assert.equal(m('/textbooks/a/pages/b/c'), null);
  assert.equal(hashPath('#/account/login?next=/x'), '/account/login');
  assert.equal(hashPath(''), '/');
  const r = new Router([{ pattern: '/account/login', element: 'a' }, { pattern: '/account/:section', element: 'b' }, { pattern: '*', element: 'c' }]);
  assert.equal(r.resolve('/account/login').route.element, 'a');
  assert.deepEqual(r.resolve('/account/tokens').params, { section: 'tokens' });
  assert.equal(r.resolve('/nope/x').route.element, 'c');
});

test('textbook tree: reading order, neighbours, breadcrumbs, ranges', () => {
  const pages = [
    { id: 'links', parent: 'el', position: 0, name: 'Links' },
    { id: 'intro', parent: null, position: 0, name: 'Introduction' },
    { id: 'el', parent: null, position: 1, name: 'Elements' },
    { id: 'quiz', parent: null, position: 2, name: 'Quiz' },
    { id: 'orphan', parent: 'invisible', position: 5, name: 'Orphan' },
  ];
  const tree = buildTree(pages);
  assert.deepEqual(tree.order.map((n) => n.page.id), ['intro', 'el', 'links', 'quiz', 'orphan']);
  assert.deepEqual(neighbours(tree, 'links'), { prev: pages[2], next: pages[3] });
  assert.deepEqual(neighbours(tree, 'intro').prev, null);
  assert.deepEqual(ancestors(tree, 'links').map((p) => p.id), ['el']);
  assert.deepEqual(pageRange(tree, 'intro', 'links').map((p) => p.id), ['intro', 'el', 'links']);
  assert.deepEqual(pageRange(tree, 'quiz', 'intro'), []);
});

test('component registry: newest version wins, only same-origin library URLs', () => {
  const reg = buildRegistry([
    { definition: { 'tag-name': 'ob-quiz', attributes: {} }, library_version: { frontend_url: '/media/lib/o/q/1.0.0/library.js' } },
    { definition: { 'tag-name': 'ob-quiz', attributes: {} }, library_version: { frontend_url: '/media/lib/o/q/2.0.0/library.js' } },
    { definition: { 'tag-name': 'ob-evil' }, library_version: { frontend_url: 'https://evil.example/library.js' } },
    { definition: { 'tag-name': 'ob-evil2' }, library_version: { frontend_url: '//evil.example/library.js' } },
    { definition: null, library_version: {} },
  ]);
  assert.deepEqual([...reg.keys()], ['ob-quiz']);
  assert.equal(reg.get('ob-quiz').url, '/media/lib/o/q/2.0.0/library.js');
});

class FakeWS {
  static all = [];
  constructor(url, proto) {
    this.url = url;
    this.proto = proto;
    this.sent = [];
    FakeWS.all.push(this);
  }
  send(m) { this.sent.push(JSON.parse(m)); }
  close() { this.closed = true; }
  recv(action, payload) { this.onmessage({ data: JSON.stringify({ action, payload }) }); }
}

test('live client: ticket, subscribe, duplicates, resume after reconnect, resync', async () => {
  FakeWS.all = [];
  const tickets = [];
  const timers = [];
  const c = new LiveClient({
    WebSocketImpl: FakeWS,
    ticket: async (channels) => { tickets.push(channels); return { ticket: `t${tickets.length}` }; },
    location: { protocol: 'http:', host: 'h:1' },
    setTimer: (fn, ms) => { timers.push({ fn, ms }); return timers.length; },
    random: () => 0,
  });
  const got = [];
  c.on((m) => got.push(m));
  c.want('page', ['textbook:1']);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(tickets, [['textbook:1']]);
  const ws = FakeWS.all[0];
  assert.equal(ws.url, 'ws://h:1/ws/events?ticket=t1');
  assert.equal(ws.proto, 'openbook.v1');
  ws.recv('subscribed', { channels: ['textbook:1'] });
  ws.recv('event', { channel: 'textbook:1', id: '5-0', type: 'textbook.page.updated', payload: { page: 'p' } });
  ws.recv('event', { channel: 'textbook:1', id: '5-0', type: 'textbook.page.updated', payload: { page: 'p' } });
  assert.equal(got.filter((m) => m.kind === 'event').length, 1, 'a duplicate is dropped');

  ws.onclose({ code: 1006 });
  assert.equal(timers.at(-1).ms, 250);
  timers.at(-1).fn();
  await new Promise((r) => setImmediate(r));
  const ws2 = FakeWS.all[1];
  ws2.recv('subscribed', { channels: ['textbook:1'] });
  assert.deepEqual(ws2.sent, [{ action: 'resume', payload: { channel: 'textbook:1', last_event_id: '5-0' } }]);
  ws2.recv('event', { channel: 'textbook:1', id: '9-0', type: 'x', payload: {} });   // live, held
  ws2.recv('event', { channel: 'textbook:1', id: '7-0', type: 'x', payload: {} });   // replayed
  assert.equal(got.filter((m) => m.kind === 'event').length, 1);
  ws2.recv('resumed', { channel: 'textbook:1', recovered: false });
  assert.deepEqual(got.filter((m) => m.kind === 'event').map((m) => m.id), ['5-0', '7-0', '9-0']);
  assert.ok(got.some((m) => m.kind === 'resync' && m.channel === 'textbook:1'));

  ws2.onclose({ code: 4429 });
  assert.equal(c.state, 'refused');
  const n = timers.length;
  assert.equal(timers.length, n, 'no reconnect after 4429');
  c.want('page', []);
  assert.equal(c.state, 'idle');
});

test('stream ids compare as numbers', () => {
  assert.ok(newer('10-0', '9-5'));
  assert.ok(newer('9-10', '9-9'));
  assert.ok(!newer('9-1', '9-1'));
  assert.ok(newer('1-0', undefined));
});

test('live client: channels join and leave the open connection; a channel without events resumes from its ticket', async () => {
  FakeWS.all = [];
  const tickets = [];
  const timers = [];
  const c = new LiveClient({
    WebSocketImpl: FakeWS,
    ticket: async (channels) => {
      tickets.push(channels);
      return { ticket: `t${tickets.length}`, expires_at: '2026-01-01T00:01:00Z' };
    },
    location: { protocol: 'https:', host: 'h' },
    setTimer: (fn, ms) => { timers.push({ fn, ms }); return timers.length; },
    random: () => 0,
  });
  const states = [];
  c.on((m) => { if (m.kind === 'state') states.push(m.state); });
  c.want('user', ['user:7']);
  await new Promise((r) => setImmediate(r));
  const ws = FakeWS.all[0];
  assert.match(ws.url, /^wss:\/\/h\/ws\/events\?ticket=t1$/);
  ws.recv('subscribed', { channels: ['user:7'] });
  c.want('page', ['textbook:1']);
  await new Promise((r) => setImmediate(r));
  assert.equal(FakeWS.all.length, 1, 'no new connection');
  assert.deepEqual(tickets[1], ['textbook:1']);
  assert.deepEqual(ws.sent.at(-1), { action: 'subscribe', payload: { ticket: 't2' } });
  ws.recv('subscribed', { channels: ['textbook:1'] });
  assert.deepEqual(c.subscribed, ['user:7', 'textbook:1']);
  c.want('page', []);
  assert.deepEqual(ws.sent.at(-1), { action: 'unsubscribe', payload: { channels: ['textbook:1'] } });
  ws.recv('unsubscribed', { channels: ['textbook:1'] });
  assert.deepEqual(c.subscribed, ['user:7']);

  // The connection drops before any event on user:7: the resume starts at
  // the first ticket's issue time, so what happened meanwhile is replayed.
  ws.onclose({ code: 1001 });
  timers.at(-1).fn();
  await new Promise((r) => setImmediate(r));
  const ws2 = FakeWS.all[1];
  ws2.recv('subscribed', { channels: ['user:7'] });
  assert.deepEqual(ws2.sent, [{ action: 'resume', payload: { channel: 'user:7', last_event_id: `${Date.parse('2026-01-01T00:00:00Z')}-0` } }]);
  assert.equal(states.at(-1), 'open');
});
