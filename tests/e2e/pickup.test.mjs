// The card's whole path in real headless Chromium and real PC/SC: approved
// applications → the bureau's job → the shipment received → issue notices (read back
// with pdftotext, the QR code decoded with zbarimg) → a booking on the public page →
// the counter (the officer's console in one browser context, the resident's PIN pad
// in another) → the card in pcscd: OpenSC lists both certificates, pkcs11-tool signs
// with the PINs typed on the PIN pad and not with others, openssl verifies the
// certificates to the root and the OCSP responder says good.
// Prints "N passed, M failed" and exits non-zero on any failure.
import { chromium } from 'playwright-core';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createServer } from 'node:net';
import assert from 'node:assert/strict';

const maina = resolve(process.env.MAINA ?? new URL('../../target/debug/maina', import.meta.url).pathname);
const P11 = '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so';
const data = mkdtempSync(join(tmpdir(), 'maina-pickup-'));
const work = join(data, 'work');
mkdirSync(work);
const file = (name) => join(work, name);

function run(args, input) {
  const result = spawnSync(maina, ['--data', data, ...args], { input, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`maina ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}
function tool(program, args) {
  const result = spawnSync(program, args, { encoding: 'utf8' });
  return { ok: result.status === 0, text: `${result.stdout ?? ''}${result.stderr ?? ''}` };
}
async function freePort() {
  return new Promise((ok) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => { const { port } = server.address(); server.close(() => ok(port)); });
  });
}
const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

const port = await freePort();
const base = `http://127.0.0.1:${port}`;
// The demo: applications in every state; two approved ones wait for their cards.
const demo = run(['demo', '--no-serve', '--residents', '20', '--listen', `127.0.0.1:${port}`]);
const PASSWORD = demo.match(/\(password: (\S+)\)/)[1];

// The card bureau makes them and ships them; the municipality counts them in.
const made = run(['card', 'manufacture']);
assert.match(made, /2 card\(s\) made in 1 shipment\(s\)/);
const newest = run(['pickup', 'shipments', '--municipality', '131016']).split('\n')[0];
const [, shipment, numbers] = newest.match(/^shipment (\d+): 2 card\(s\), in transit: (.+)$/);
run(['pickup', 'receive', shipment], numbers.split(' ').join('\n'));
const notices = join(data, 'notices');
const printed = run(['pickup', 'notices', '--municipality', '131016', '--out', notices, '--public-url', base]);
const [, notice, pdf] = printed.match(/^(\d{16}) (\S+\.pdf)$/m);

const server = spawn(maina, ['--data', data, 'serve', '--listen', `127.0.0.1:${port}`, '--public-url', base, '--insecure-cookies'], { stdio: 'ignore' });
for (let i = 0; i < 100; i++) {
  try { if ((await fetch(`${base}/healthz`)).ok) break; } catch { /* not yet */ }
  await sleep(100);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const tests = [];
const test = (name, body) => tests.push({ name, body });
let birth = '';
let cardId = '';

test('the issue notice reads back: office, deadline, and a QR code of the booking page', async () => {
  const text = tool('pdftotext', [pdf, '-']).text;
  assert.ok(text.includes(notice.slice(0, 6)), text);
  assert.match(text, /千代田区|Chiyoda/);
  // Collect by: three months from today (the end of the month when that day is
  // missing), printed with its ISO date in both languages.
  const now = new Date();
  let [y, m] = [now.getFullYear(), now.getMonth() + 3];
  y += Math.floor(m / 12);
  m %= 12;
  const day = Math.min(now.getDate(), new Date(y, m + 1, 0).getDate());
  const deadline = `${y}-${String(m + 1).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
  assert.ok(text.includes(deadline), `${deadline} not in:\n${text}`);
  const page = file('notice');
  tool('pdftoppm', ['-r', '150', '-png', '-f', '1', '-l', '1', pdf, page]);
  const qr = tool('zbarimg', ['-q', '--raw', `${page}-1.png`]);
  qr.text = qr.text.split('\n')[0];
  assert.equal(qr.text.trim(), `${base}/pickup/book`);
});

async function officer(context) {
  const page = await context.newPage();
  await page.goto(`${base}/login?lang=en`);
  await page.getByLabel('User name').fill('demo-counter');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(/\/console/);
  return page;
}

async function findCard(page) {
  await page.goto(`${base}/console/counter?lang=en`);
  await page.getByLabel('Issue notice number or card ID').fill(notice);
  await page.getByRole('button', { name: 'Open' }).click();
  await page.locator('#card-view').waitFor();
}

test('the counter finds the card by its notice number', async (context) => {
  const page = await officer(context);
  await findCard(page);
  cardId = await page.locator('#card-view').getAttribute('data-card');
  assert.equal(cardId.length, 16);
  birth = (await page.locator('#card-view').innerText()).match(/(\d{4}-\d{2}-\d{2})/)[1];
  assert.equal(await page.locator('#pins-state').getAttribute('data-set'), 'false');
});

test('the resident books a time with the notice number and birth date', async (context) => {
  const page = await context.newPage();
  await page.goto(`${base}/pickup/book?lang=ja`);
  await page.locator('#number').fill(notice);
  await page.locator('#birth_date').fill('1900-01-01');
  await page.locator('form.card button[type=submit]').first().click();
  // A wrong birth date: the status inquiry's own answer.
  assert.match(await page.getByRole('alert').innerText(), /一致する|ありません/);
  await page.locator('#number').fill(notice);
  await page.locator('#birth_date').fill(birth);
  await page.locator('form.card button[type=submit]').first().click();
  await page.locator('#slots').waitFor();
  await page.locator('#slots input[type=radio]').first().check();
  await page.locator('#book').click();
  await page.locator('#done').waitFor();
  assert.ok(await page.locator('#appointment').getAttribute('data-starts-at'));
});

test('the PIN pad sets the PINs (rules named as typed); the officer never sees them; the card is handed over', async (context) => {
  const desk = await officer(context);
  await findCard(desk);
  await desk.locator('#open-pinpad').click();
  const code = (await desk.locator('#pinpad-code').innerText()).trim();
  // The PIN pad: its own browser context, as its own screen would be.
  const padContext = await browser.newContext({ locale: 'en-US' });
  const pad = await padContext.newPage();
  await pad.goto(`${base}/pinpad?lang=en`);
  await pad.locator('#code').fill(code);
  await pad.locator('button[type=submit]').click();
  await pad.locator('#pinpad-form').waitFor();
  await pad.locator('#auth_pin').fill('12a4');
  await pad.locator('#auth_pin').blur();
  assert.match(await pad.locator('#auth_pin_rule').innerText(), /4 digits|4桁/);
  for (const [id, value] of [['auth_pin', '1234'], ['sign_pin', 'ABC123'], ['residence_pin', '5678'], ['support_pin', '9012']]) {
    await pad.locator(`#${id}`).fill(value);
    await pad.locator(`#${id}_again`).fill(value);
  }
  await pad.locator('#pinpad-form button[type=submit]').click();
  await pad.locator('#pinpad-done').waitFor();
  await padContext.close();
  // The officer's page: PINs set, never their values.
  await findCard(desk);
  assert.equal(await desk.locator('#pins-state').getAttribute('data-set'), 'true');
  const shown = await desk.content();
  assert.ok(!shown.includes('ABC123') && !shown.includes('9012'));
  // No document checked: refused, nothing changes.
  await desk.locator('#hand-over').click();
  assert.equal(await desk.locator('#card-status').innerText(), 'received');
  await desk.locator('input[name=documents][value=passport]').check();
  await desk.locator('#hand-over').click();
  await desk.locator('#handed-over').waitFor();
  assert.notEqual((await desk.locator('#sign-serial').innerText()).trim(), '—');
});

let passed = 0;
let failed = 0;
for (const { name, body } of tests) {
  const context = await browser.newContext({ locale: 'en-US' });
  try {
    await body(context);
    passed++;
    console.log(`ok   ${name}`);
  } catch (error) {
    failed++;
    console.log(`FAIL ${name}\n     ${error.message.split('\n').join('\n     ')}`);
  } finally {
    await context.close();
  }
}
await browser.close();

// The card in a real PC/SC reader.
async function withCard(body) {
  const attach = spawn(maina, ['--data', data, 'card', 'attach', cardId], { stdio: 'ignore' });
  try {
    for (let i = 0; i < 75; i++) {
      if (tool('opensc-tool', ['-n']).text.includes('jpki')) break;
      await sleep(200);
    }
    await body();
  } finally {
    attach.kill('SIGTERM');
    await new Promise((ok) => attach.once('exit', ok));
  }
}
const check = async (name, body) => {
  try {
    await body();
    passed++;
    console.log(`ok   ${name}`);
  } catch (error) {
    failed++;
    console.log(`FAIL ${name}\n     ${error.message.split('\n').join('\n     ')}`);
  }
};
if (cardId) {
  await withCard(async () => {
    await check('OpenSC lists both certificates; the PIN pad\'s PINs sign, others do not', async () => {
      const certs = tool('pkcs15-tool', ['--list-certificates']).text;
      assert.match(certs, /Digital Signature Certificate CA|CA/);
      assert.equal((certs.match(/X\.509 Certificate \[/g) ?? []).length >= 2, true, certs);
      writeFileSync(file('doc.txt'), 'a tax return\n');
      const sign = (pin, id, slot) => tool('pkcs11-tool', ['--module', P11, ...(slot ? ['--slot-index', slot] : []), '--login', '--pin', pin,
        '--sign', '-m', 'SHA256-RSA-PKCS', '--id', id, '-i', file('doc.txt'), '-o', file(`${id}.sig`)]);
      assert.ok(sign('1234', '01').ok, 'the authentication PIN set on the PIN pad signs');
      assert.ok(!sign('4321', '01').ok, 'another PIN does not');
      assert.ok(sign('ABC123', '02', '1').ok, 'the signature password set on the PIN pad signs');
      assert.ok(!sign('XYZ789', '02', '1').ok, 'another password does not');
    });
    await check('openssl verifies the certificates to the root; OCSP says good', async () => {
      writeFileSync(file('auth.pem'), tool('pkcs15-tool', ['--read-certificate', '01']).text);
      run(['pki', 'ca-cert', '--ca', 'auth', '--out', file('auth-ca.pem')]);
      run(['pki', 'root-cert', '--ca', 'auth', '--out', file('auth-root.pem')]);
      const verified = tool('openssl', ['verify', '-CAfile', file('auth-root.pem'), '-untrusted', file('auth-ca.pem'), file('auth.pem')]);
      assert.ok(verified.ok, verified.text);
      const ocsp = tool('openssl', ['ocsp', '-url', `${base}/ocsp`, '-issuer', file('auth-ca.pem'), '-CAfile', file('auth-root.pem'), '-cert', file('auth.pem')]);
      assert.ok(ocsp.text.includes('Response verify OK') && ocsp.text.includes(': good'), ocsp.text);
    });
  });
} else {
  failed++;
  console.log('FAIL the card in pcscd: no card was handed over');
}

if (server.exitCode === null) {
  const stopped = new Promise((ok) => server.once('exit', ok));
  server.kill('SIGTERM');
  await stopped;
}
rmSync(data, { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
