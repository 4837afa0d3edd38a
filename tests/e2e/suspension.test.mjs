// Loss and suspension in real headless Chromium and real PC/SC: a card made by the
// bureau and handed over; the resident reports it lost on the /lost page (a wrong
// report first: the same answer); within a second `openssl ocsp` says revoked with
// Reason: certificateHold and the delta CRL lists it; `maina card auth` and `maina
// verify` refuse; `maina card lift` at the counter, with the card in pcscd, signs
// the service's challenge and authentication is good again (the signature
// certificate stays revoked).
// Prints "N passed, M failed" and exits non-zero on any failure.
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';

import { maina, scratch, tool, freePort, sleep, headless, checklist } from './harness.mjs';

const { data, run, attempt } = scratch('suspension');
const work = join(data, 'work');
mkdirSync(work);
const file = (name) => join(work, name);

const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const demo = run(['demo', '--no-serve', '--residents', '20', '--listen', `127.0.0.1:${port}`]);
const PASSWORD = demo.match(/\(password: (\S+)\)/)[1];
assert.match(run(['card', 'manufacture']), /card\(s\) made/);
const newest = run(['pickup', 'shipments', '--municipality', '131016']).split('\n')[0];
const [, shipment, numbers] = newest.match(/^shipment (\d+): \d+ card\(s\), in transit: (.+)$/);
run(['pickup', 'receive', shipment], numbers.split(' ').join('\n'));
const printed = run(['pickup', 'notices', '--municipality', '131016', '--out', join(data, 'notices'), '--public-url', base]);
const [, notice] = printed.match(/^(\d{16}) \S+\.pdf$/m);

const server = spawn(maina, ['--data', data, 'serve', '--listen', `127.0.0.1:${port}`, '--public-url', base, '--insecure-cookies'], { stdio: 'ignore' });
for (let i = 0; i < 100; i++) {
  try { if ((await fetch(`${base}/healthz`)).ok) break; } catch { /* not yet */ }
  await sleep(100);
}
async function api(method, path, token, body) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: response.status, body: await response.json().catch(() => null) };
}
// The holder as the counter sees the card, and their address from the registry.
const login = await api('POST', '/api/v1/login', null, { username: 'demo-supervisor', password: PASSWORD });
const token = login.body.token;
const found = await api('POST', '/api/v1/counter/find', token, { number: notice });
assert.equal(found.status, 200, JSON.stringify(found.body));
const cardId = found.body.card_id;
const cardNumber = found.body.card_number;
const birth = found.body.birth_date;
const family = found.body.name.split(' ')[0];
const residents = await api('POST', '/api/v1/residents/search', token, { birth_date: birth, name: family });
const holder = residents.body.find((r) => found.body.name.startsWith(r.name.split(' (')[0]));
assert.ok(holder, JSON.stringify(residents.body));
const registeredName = holder.name.split(' (')[0];
// Handed over at the counter (the PINs on standard input: auth, sign, residence, support).
run(['pickup', 'hand-over', notice, '--document', 'passport', '--base-url', base], '1234\nABC123\n5678\n9012\n');

const browser = await headless();
const { check, summary } = checklist();

const attach = spawn(maina, ['--data', data, 'card', 'attach', cardId], { stdio: 'ignore' });
try {
  for (let i = 0; i < 75; i++) {
    if (tool('opensc-tool', ['-n']).text.includes('jpki')) break;
    await sleep(200);
  }
  writeFileSync(file('doc.txt'), 'a tax return\n');
  await check('before the loss: the card authenticates and signs', async () => {
    assert.match(run(['card', 'auth', '--pin', '1234']), /authenticated/);
    run(['card', 'sign', file('doc.txt'), '--pin', 'ABC123']);
    assert.match(run(['verify', file('doc.txt')]), /signature valid/);
    writeFileSync(file('auth.pem'), tool('pkcs15-tool', ['--read-certificate', '01']).text);
    run(['pki', 'ca-cert', '--ca', 'auth', '--out', file('auth-ca.pem')]);
    run(['pki', 'root-cert', '--ca', 'auth', '--out', file('auth-root.pem')]);
  });
  const ocsp = () => tool('openssl', ['ocsp', '-url', `${base}/ocsp`, '-issuer', file('auth-ca.pem'), '-CAfile', file('auth-root.pem'), '-cert', file('auth.pem')]);
  const serial = tool('openssl', ['x509', '-in', file('auth.pem'), '-noout', '-serial']).text.trim().split('=')[1];
  let answeredAt = 0;

  await check('the /lost page answers a wrong report and a right one alike, and suspends the card', async () => {
    const context = await browser.newContext({ locale: 'ja-JP' });
    const page = await context.newPage();
    const report = async (birthDate) => {
      await page.goto(`${base}/lost?lang=ja`);
      await page.locator('#name').fill(registeredName);
      await page.locator('#birth_date').fill(birthDate);
      await page.locator('#address').fill(holder.address);
      await page.locator('#number').fill(cardNumber);
      await page.locator('#police_receipt').fill('2026-0042');
      await page.locator('#police_station').fill('丸の内警察署');
      await page.locator('form.card button[type=submit]').click();
      await page.locator('[data-outcome=received]').waitFor();
      answeredAt = Date.now();
      return page.locator('[data-outcome=received]').innerText();
    };
    const wrong = await report('1900-01-01');
    const right = await report(birth);
    assert.equal(right, wrong);
    assert.match(right, /受け付けました/);
    await context.close();
  });

  await check('within a second: openssl ocsp says revoked, Reason: certificateHold; the delta CRL lists it', async () => {
    const answer = ocsp();
    assert.ok(answer.text.includes('Response verify OK') && answer.text.includes(': revoked'), answer.text);
    assert.match(answer.text, /Reason: certificateHold/);
    assert.ok(Date.now() - answeredAt < 1000, `OCSP after ${Date.now() - answeredAt} ms`);
    for (;;) {
      const crl = Buffer.from(await (await fetch(`${base}/pki/auth-delta.crl`)).arrayBuffer());
      writeFileSync(file('delta.crl'), crl);
      const text = tool('openssl', ['crl', '-inform', 'DER', '-in', file('delta.crl'), '-noout', '-text']).text;
      if (text.includes(serial) && text.includes('Certificate Hold')) break;
      assert.ok(Date.now() - answeredAt < 1000, `not on the delta CRL after a second:\n${text}`);
      await sleep(20);
    }
  });

  await check('maina card auth and maina verify refuse the suspended card', async () => {
    const auth = attempt(['card', 'auth', '--pin', '1234']);
    assert.ok(!auth.ok && /revoked/.test(auth.text), auth.text);
    const verified = attempt(['verify', file('doc.txt')]);
    assert.ok(!verified.ok && /revoked/.test(verified.text), verified.text);
  });

  await check('maina card lift at the counter makes authentication good again; the signature stays revoked', async () => {
    const lifted = run(['card', 'lift', cardId, '--pin', '1234']);
    assert.match(lifted, /active again/);
    assert.match(run(['card', 'auth', '--pin', '1234']), /authenticated/);
    assert.ok(ocsp().text.includes(': good'));
    const verified = attempt(['verify', file('doc.txt')]);
    assert.ok(!verified.ok && /revoked/.test(verified.text), verified.text);
  });
} finally {
  attach.kill('SIGTERM');
  await new Promise((ok) => attach.once('exit', ok));
}
await browser.close();
if (server.exitCode === null) {
  const stopped = new Promise((ok) => server.once('exit', ok));
  server.kill('SIGTERM');
  await stopped;
}
rmSync(data, { recursive: true, force: true });
process.exit(summary());
