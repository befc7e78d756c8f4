// The enquiry form in a real browser: Debian's chromium, headless, driven by
// playwright-core, against the real callgated binary with the simulator on
// a free loopback port. Screenshots go to $CALLGATE_TEST_ARTIFACTS.
//
//   CALLGATED=build/callgated node --test tests/browser/enquiry_form.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const binary = process.env.CALLGATED;
const artifacts = process.env.CALLGATE_TEST_ARTIFACTS || path.join(os.tmpdir(), 'callgate-browser-artifacts');
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const consentText = 'I agree that Acme may call me about this enquiry.';

let daemon;
let daemonPort;
let hostSite;
let hostPort;
let browser;
let scratch;
let daemonOutput = '';

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

async function waitUntilReady(port, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (response.status === 200) return;
    } catch { /* not listening yet */ }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`callgated did not get ready on port ${port}:\n${daemonOutput}`);
}

before(async () => {
  assert.ok(binary, 'set CALLGATED to the callgated binary');
  mkdirSync(artifacts, { recursive: true });
  scratch = mkdtempSync(path.join(os.tmpdir(), 'callgate-browser-'));
  daemonPort = await freePort();
  hostPort = await freePort();
  const base = `http://127.0.0.1:${daemonPort}`;
  // Every call is answered, quickly: the page must see one reach "completed".
  const config = `
server:
  listen: "127.0.0.1:${daemonPort}"
  threads: 2
  public_base_url: "${base}"
log:
  level: info
  access_log: false
admin:
  token: "browser-admin"
store:
  backend: memory
telephony:
  provider: simulator
  simulator:
    outcomes: {answered: 1, busy: 0, no_answer: 0, failed: 0}
    ring_time: {min: 1s, max: 2s}
    talk_time: {min: 10s, max: 20s}
    speed: 10
call_flow:
  next: gather
intake:
  consent_text: "${consentText}"
  rate_per_minute: 1000
  rate_burst: 1000
  cors_allowed_origins: ["http://localhost:${hostPort}"]
`;
  writeFileSync(path.join(scratch, 'callgate.yaml'), config);
  daemon = spawn(binary, ['--config', path.join(scratch, 'callgate.yaml')], { stdio: ['ignore', 'pipe', 'pipe'] });
  daemon.stdout.on('data', (chunk) => { daemonOutput += chunk; });
  daemon.stderr.on('data', (chunk) => { daemonOutput += chunk; });
  await waitUntilReady(daemonPort);

  // A business's own site, on another origin, with the embed script on it.
  hostSite = http.createServer((request, response) => {
    response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    response.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Acme Shop</title></head>
<body><h1>Acme Shop</h1><p>Questions? We call you back.</p><div id="callback"></div>
<script src="${base}/embed.js" data-target="#callback" defer></script></body></html>`);
  });
  await new Promise((resolve) => hostSite.listen(hostPort, '127.0.0.1', resolve));

  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  if (browser) await browser.close();
  if (hostSite) await new Promise((resolve) => hostSite.close(resolve));
  if (daemon) {
    daemon.kill('SIGTERM');
    await new Promise((resolve) => daemon.once('exit', resolve));
  }
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

// A page that fails the test on any script error, refused resource (a
// Content-Security-Policy violation shows as a console error) or error
// answer other than the 422 the bad number is meant to get.
async function watchedPage(options = {}) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    // The browser logs each error answer too; those are judged below.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource'))
      problems.push(`console: ${message.text()}`);
  });
  page.on('requestfailed', (request) => problems.push(`failed: ${request.url()} ${request.failure().errorText}`));
  page.on('response', (response) => {
    const expected = response.status() === 422 && new URL(response.url()).pathname === '/enquire';
    if (response.status() >= 400 && !expected) problems.push(`HTTP ${response.status()}: ${response.url()}`);
  });
  return { page, problems, close: () => context.close() };
}

async function leadStatus(leadId) {
  const response = await fetch(`http://127.0.0.1:${daemonPort}/leads/${leadId}`, {
    headers: { Authorization: 'Bearer browser-admin' },
  });
  assert.equal(response.status, 200);
  return response.json();
}

// Bad number: the server's message beside the phone field. Good number: the
// confirmation, then the live status up to the end of the call.
// Bad number: the server's message beside the phone field. Good number: the
// confirmation, then the live status up to the end of the call. Fields are
// found by their labels and the button by its name, as assistive
// technology finds them.
async function submitBadThenGood(page, scope, goodNumber, screenshotName) {
  const form = page.locator(`${scope} form[data-callgate]`);
  const phone = form.getByLabel('Phone number');
  await phone.fill('12');
  await form.getByLabel(consentText).check();
  await form.getByRole('button', { name: 'Call me back' }).click();
  const phoneError = form.locator('[data-error-for=phone]');
  await phoneError.waitFor({ state: 'visible' });
  assert.match(await phoneError.textContent(), /8 to 15 digits/);
  assert.equal(await phone.getAttribute('aria-invalid'), 'true');
  // The message is part of the field's description, so it is read out with it.
  const describedBy = (await phone.getAttribute('aria-describedby')).split(' ');
  assert.ok(describedBy.includes(await phoneError.getAttribute('id')), describedBy.join(' '));

  await phone.fill(goodNumber);
  await form.getByRole('button', { name: 'Call me back' }).click();
  const status = form.getByRole('status');
  await page.waitForFunction((element) => /calling you|ringing|on the call|completed/i.test(element.textContent),
    await status.elementHandle(), { timeout: 10000 });
  assert.equal(await phoneError.textContent(), '', 'the old error is cleared');
  assert.equal(await phone.getAttribute('aria-invalid'), null);
  const leadId = await form.getAttribute('data-lead-id');
  assert.match(leadId, /^[0-9A-HJKMNP-TV-Z]{26}$/);
  await form.locator('[data-callgate-status][data-status=completed]').waitFor({ timeout: 45000 });
  assert.match(await status.textContent(), /Call completed/);
  await page.screenshot({ path: path.join(artifacts, screenshotName), fullPage: true });
  return leadId;
}

test('the enquiry page shows a bad number\'s error, then follows the call to completed', async () => {
  const { page, problems, close } = await watchedPage();
  try {
    const response = await page.goto(`http://127.0.0.1:${daemonPort}/`);
    assert.equal(response.status(), 200);
    assert.match(response.headers()['content-security-policy'], /default-src 'none'/);
    assert.equal(await page.locator('label[for=callgate-consent]').textContent(), consentText);
    const leadId = await submitBadThenGood(page, 'main', '+91 98765 43210', 'enquiry-page.png');
    const lead = await leadStatus(leadId);
    assert.equal(lead.status, 'completed');
    assert.equal(lead.phone, '+919876543210');
    assert.deepEqual(lead.events.filter((event) => event.outcome === 'applied').map((event) => event.status),
      ['initiated', 'ringing', 'in-progress', 'completed']);
    assert.deepEqual(problems, []);
  } finally {
    await close();
  }
});

test('the embed script renders the form on a business\'s own site and posts across origins', async () => {
  const { page, problems, close } = await watchedPage();
  try {
    await page.goto(`http://localhost:${hostPort}/`);
    const form = page.locator('#callback form[data-callgate]');
    await form.waitFor();
    assert.equal((await form.locator('label').last().textContent()).trim(), consentText);
    assert.match(await form.locator('.callgate-hint').textContent(), /\+91/);
    const leadId = await submitBadThenGood(page, '#callback', '+91 98765 43212', 'enquiry-embedded.png');
    const lead = await leadStatus(leadId);
    assert.equal(lead.phone, '+919876543212');
    assert.equal(lead.source, 'localhost');
    assert.deepEqual(problems, []);
  } finally {
    await close();
  }
});

test('without JavaScript the page is a plain form that still works', async () => {
  const { page, close } = await watchedPage({ javaScriptEnabled: false });
  try {
    await page.goto(`http://127.0.0.1:${daemonPort}/`);
    await page.getByLabel('Phone number').fill('98765 43211');
    await page.getByLabel(consentText).check();
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Call me back' }).click()]);
    assert.match(await page.locator('main').textContent(), /We are calling you now/);
    const reference = await page.locator('code').textContent();
    const lead = await leadStatus(reference);
    assert.equal(lead.phone, '+919876543211');  // the national number took intake.default_country_code
    await page.screenshot({ path: path.join(artifacts, 'enquiry-without-javascript.png'), fullPage: true });
  } finally {
    await close();
  }
});
