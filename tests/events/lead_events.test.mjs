// Lead events as a business's receiver gets them: the real callgated binary
// (journal store, the simulator placing calls) delivering to a receiver
// written here, which checks every delivery's signature with the Standard
// Webhooks reference library (npm standardwebhooks) and records what came
// in what order. The receiver goes down, answers 500, hangs and closes
// connections, and the daemon is killed with SIGKILL mid-delivery: every
// change of every lead must still reach it, at least once, in order per lead.
//
//   CALLGATED=build/callgated node --test tests/events/lead_events.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';

const binary = process.env.CALLGATED;
const secret = 'whsec_' + Buffer.from('callgate lead events test secret, 40 bytes').toString('base64');
const adminToken = 'events-admin';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let scratch;
let daemon;
let daemonPort;
let daemonOutput = '';
let receiver;

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// The business's receiver. mode: ok | error (500) | hang (never answers) |
// close (drops the connection) | down (not listening at all) | huge (takes
// the event: 200 and a body far over what callgated reads).
class Receiver {
  constructor(port) {
    this.port = port;
    this.mode = 'ok';
    this.delayMs = 0;
    this.received = [];  // {id, type, leadId, timestamp} in arrival order, accepted ones only
    this.attempts = 0;   // every request, whatever the answer
    this.problems = [];  // anything a correct sender would never do
    this.hung = new Set();
    this.takenWithHugeAnswers = [];
    this.webhook = new Webhook(secret);
    this.server = http.createServer((request, response) => this.handle(request, response));
    this.server.on('connection', (socket) => {
      if (this.mode === 'close') socket.destroy();
    });
  }

  listen() {
    return new Promise((resolve) => this.server.listen(this.port, '127.0.0.1', resolve));
  }

  async setMode(mode) {
    for (const response of this.hung) response.socket?.destroy();
    this.hung.clear();
    if (mode === 'down' && this.server.listening) {
      this.server.closeAllConnections();
      await new Promise((resolve) => this.server.close(resolve));
    } else if (mode !== 'down' && !this.server.listening) {
      await this.listen();
    }
    this.mode = mode;
  }

  handle(request, response) {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', async () => {
      this.attempts += 1;
      const body = Buffer.concat(chunks).toString('utf8');
      if (request.method !== 'POST' || request.url !== '/hooks/callgate?tenant=acme')
        this.problems.push(`${request.method} ${request.url}`);
      if (request.headers['content-type'] !== 'application/json')
        this.problems.push(`content-type ${request.headers['content-type']}`);
      let payload;
      try {
        payload = this.webhook.verify(body, request.headers);  // throws unless the signature is right
      } catch (error) {
        this.problems.push(`not verified (${error.message}): ${request.headers['webhook-id']}`);
        response.writeHead(400).end();
        return;
      }
      if (this.mode === 'hang') {
        this.hung.add(response);
        return;
      }
      if (this.mode === 'error') {
        response.writeHead(500).end('receiver failing on purpose');
        return;
      }
      if (this.delayMs) await sleep(this.delayMs);
      const id = request.headers['webhook-id'];
      if (this.mode === 'huge') {
        this.takenWithHugeAnswers.push(id);
        response.writeHead(200, { 'Content-Type': 'text/plain' });
        response.end('x'.repeat(1024 * 1024));
      }
      if (payload.data?.leadId === undefined || !id.startsWith(`evt_${payload.data.leadId}_`))
        this.problems.push(`id ${id} for lead ${payload.data?.leadId}`);
      this.received.push({ id, type: payload.type, leadId: payload.data.leadId, data: payload.data });
      if (this.mode !== 'huge') response.writeHead(204).end();
    });
  }

  // Each lead's event ids, in the order they first arrived.
  firstArrivals() {
    const byLead = new Map();
    const seen = new Set();
    for (const event of this.received) {
      if (seen.has(event.id)) continue;
      seen.add(event.id);
      if (!byLead.has(event.leadId)) byLead.set(event.leadId, []);
      byLead.get(event.leadId).push(event.id);
    }
    return byLead;
  }
}

function writeConfig({ withEvents = true } = {}) {
  const events = withEvents ? `
events:
  endpoints:
    - name: acme-crm
      url: "http://127.0.0.1:${receiver.port}/hooks/callgate?tenant=acme"
      secret: "${secret}"
  retry:
    first: 200ms
    longest: 1s
  timeout: 1s
  concurrency: 4
` : '';
  const config = `
server:
  listen: "127.0.0.1:${daemonPort}"
  threads: 2
  public_base_url: "http://127.0.0.1:${daemonPort}"
log:
  level: info
  access_log: false
admin:
  token: "${adminToken}"
store:
  backend: journal
  journal:
    path: "${path.join(scratch, 'journal')}"
telephony:
  provider: simulator
  simulator:
    outcomes: {answered: 1, busy: 0, no_answer: 0, failed: 0}
    ring_time: {min: 1s, max: 3s}
    talk_time: {min: 2s, max: 6s}
    speed: 4
call_flow:
  next: hangup
intake:
  rate_per_minute: 100000
  rate_burst: 100000
${events}`;
  writeFileSync(path.join(scratch, 'callgate.yaml'), config);
}

async function startDaemon() {
  daemon = spawn(binary, ['--config', path.join(scratch, 'callgate.yaml')], { stdio: ['ignore', 'pipe', 'pipe'] });
  daemon.stdout.on('data', (chunk) => { daemonOutput += chunk; });
  daemon.stderr.on('data', (chunk) => { daemonOutput += chunk; });
  const deadline = Date.now() + 15000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`http://127.0.0.1:${daemonPort}/readyz`)).status === 200) return;
    } catch { /* not listening yet */ }
    await sleep(100);
  }
  throw new Error(`callgated did not get ready:\n${daemonOutput}`);
}

async function stopDaemon(signal) {
  if (!daemon || daemon.exitCode !== null || daemon.signalCode !== null) return;
  const exited = new Promise((resolve) => daemon.once('exit', resolve));
  daemon.kill(signal);
  await exited;
}

async function enquire(index) {
  const phone = `+9198765${String(10000 + index).padStart(5, '0')}`;
  const response = await fetch(`http://127.0.0.1:${daemonPort}/enquire`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ phone, consent: true, name: `Lead ${index}` }),
  });
  const text = await response.text();
  assert.equal(response.status, 202, text);
  return JSON.parse(text).leadId;
}

async function admin(pathAndQuery, init = {}) {
  const response = await fetch(`http://127.0.0.1:${daemonPort}${pathAndQuery}`, {
    ...init,
    headers: { Authorization: `Bearer ${adminToken}`, ...(init.headers || {}) },
  });
  return { status: response.status, body: await response.json() };
}

// The events a lead's own record says it is owed, in the order they happened:
// created; per call, placed (or not) and each status applied; completed.
function expectedIds(lead) {
  const ids = [`evt_${lead.id}_created`];
  lead.attempts.forEach((attempt, index) => {
    const call = `call${index + 1}`;
    ids.push(`evt_${lead.id}_${call}_${attempt.error ? 'not_placed' : 'placed'}`);
    for (const event of lead.events)
      if (event.outcome === 'applied' && event.callSid === attempt.callSid && attempt.callSid)
        ids.push(`evt_${lead.id}_${call}_${event.status}`);
  });
  if (lead.status === 'completed') ids.push(`evt_${lead.id}_completed`);
  return ids;
}

// Waits until every lead's expected events arrived, in order (and the leads
// in mustComplete have completed their calls); fails with what is missing.
async function everyChangeArrivedInOrder(leadIds, timeoutMs, mustComplete = leadIds) {
  const deadline = Date.now() + timeoutMs;
  let missing = '';
  while (Date.now() < deadline) {
    const arrivals = receiver.firstArrivals();
    missing = '';
    for (const leadId of leadIds) {
      const { status, body: lead } = await admin(`/leads/${leadId}`);
      assert.equal(status, 200);
      const expected = expectedIds(lead);
      const got = arrivals.get(leadId) || [];
      const unfinished = mustComplete.includes(leadId) && lead.status !== 'completed';
      if (unfinished || JSON.stringify(got) !== JSON.stringify(expected))
        missing += `\n${leadId} (${lead.status}): expected ${expected.join(' ')}; got ${got.join(' ')}`;
    }
    if (!missing) return;
    await sleep(250);
  }
  assert.fail(`events missing or out of order:${missing}`);
}

before(async () => {
  assert.ok(binary, 'set CALLGATED to the callgated binary');
  scratch = mkdtempSync(path.join(os.tmpdir(), 'callgate-events-'));
  daemonPort = await freePort();
  receiver = new Receiver(await freePort());
  await receiver.listen();
  writeConfig();
  await startDaemon();
});

after(async () => {
  await stopDaemon('SIGTERM');
  await receiver?.setMode('ok');
  await new Promise((resolve) => receiver?.server.close(resolve));
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

test('every change of every lead reaches the receiver, signed, in order per lead', async () => {
  const leadIds = [];
  for (let index = 0; index < 12; index += 1) leadIds.push(await enquire(index));
  await everyChangeArrivedInOrder(leadIds, 60000);
  assert.deepEqual(receiver.problems, []);
  const created = receiver.received.find((event) => event.id === `evt_${leadIds[0]}_created`);
  assert.equal(created.type, 'lead.created');
  assert.equal(created.data.phone, '+919876510000');
  assert.equal(created.data.name, 'Lead 0');

  const { status, body } = await admin('/events');
  assert.equal(status, 200);
  assert.equal(body.endpoints[0].name, 'acme-crm');
  assert.equal(body.endpoints[0].owed, 0);
  assert.ok(body.endpoints[0].delivered >= leadIds.length * 6, JSON.stringify(body));
  // Neither the secret nor a whole phone number is in the log.
  assert.ok(!daemonOutput.includes(secret.slice(6)), 'the secret was logged');
  assert.ok(!daemonOutput.includes('919876510000'), 'a phone number was logged');
});

test('a receiver that is down, failing, hanging or dropping connections, and a SIGKILL, lose nothing', async () => {
  const leadIds = [];
  const phases = [['huge', 2000], ['down', 2500], ['error', 2000], ['hang', 2500], ['close', 2000]];
  let index = 100;
  for (const [mode, ms] of phases) {
    await receiver.setMode(mode);
    for (let count = 0; count < 4; count += 1) leadIds.push(await enquire(index++));
    await sleep(ms);
  }
  const attemptsWhileFailing = receiver.attempts;
  // Back, but slow: deliveries are in flight when the daemon is killed.
  receiver.delayMs = 150;
  await receiver.setMode('ok');
  for (let count = 0; count < 4; count += 1) leadIds.push(await enquire(index++));
  await sleep(1500);
  const beforeKill = receiver.received.length;
  await stopDaemon('SIGKILL');
  await startDaemon();
  receiver.delayMs = 0;
  // A call the simulator was playing dies with the daemon (a real provider's
  // would go on): the leads of the last enquiries may never complete, but
  // every change they did have must have arrived.
  await everyChangeArrivedInOrder(leadIds, 60000, leadIds.slice(0, leadIds.length - 4));
  assert.deepEqual(receiver.problems, []);
  assert.ok(attemptsWhileFailing > 0, 'the failing receiver was asked');
  // A 2xx is the event taken, however long the answer's body: not sent again.
  assert.ok(receiver.takenWithHugeAnswers.length > 0, 'no event came while the answers were huge');
  for (const id of receiver.takenWithHugeAnswers)
    assert.equal(receiver.received.filter((event) => event.id === id).length, 1, `${id} was delivered again`);
  assert.ok(receiver.received.length > beforeKill);

  const metrics = await (await fetch(`http://127.0.0.1:${daemonPort}/metrics`)).text();
  assert.match(metrics, /callgate_event_deliveries_total\{endpoint="acme-crm",result="delivered"\} [1-9]/);
  assert.match(metrics, /callgate_events_owed\{endpoint="acme-crm"\} \d+/);
});

test('the admin endpoints want the token and say what is wrong', async () => {
  assert.equal((await fetch(`http://127.0.0.1:${daemonPort}/events`)).status, 401);
  let answer = await admin('/events/failed?endpoint=nobody');
  assert.equal(answer.status, 404);
  answer = await admin('/events/failed?limit=0');
  assert.equal(answer.status, 400);
  answer = await admin('/events/failed');
  assert.equal(answer.status, 200);
  assert.deepEqual(answer.body.failed, []);
  answer = await admin('/events/redeliver', { method: 'POST', body: 'not json' });
  assert.equal(answer.status, 400);
  answer = await admin('/events/redeliver', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ endpoint: 'acme-crm', id: 'evt_nothing_created' }),
  });
  assert.equal(answer.status, 404);
});

test('a daemon restarted with events.endpoints removed starts on the same journal', async () => {
  const leadId = await enquire(900);
  await everyChangeArrivedInOrder([leadId], 30000);
  await stopDaemon('SIGTERM');
  writeConfig({ withEvents: false });
  const deliveredBefore = receiver.received.length;
  await startDaemon();  // the outbox's records in the journal are passed over, not refused
  const { status, body } = await admin(`/leads/${leadId}`);
  assert.equal(status, 200);
  assert.equal(body.status, 'completed');
  assert.deepEqual((await admin('/events')).body.endpoints, []);
  await enquire(901);
  await sleep(1500);
  assert.equal(receiver.received.length, deliveredBefore, 'events were sent with no endpoint configured');
});
