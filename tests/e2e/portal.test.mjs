// The resident portal (issue 14) in real headless Chromium and real PC/SC: a card
// made by the bureau and handed over; the resident opens /portal, is sent through
// the provider's card sign-in (`maina card login` with the card in pcscd), and sees
// their record; an officer reads the record through the API and, a second later,
// the portal's record of who used my data shows the read (role, municipality,
// purpose, its verified audit-chain position — never the officer's name); the CSV
// export has it; the My Number is shown after the signature PIN (`--facts`), on
// that page only, and the showing is in the record; the resident suspends the card from the portal; signing in again
// is refused because the card is suspended.
// Prints "N passed, M failed" and exits non-zero on any failure.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';

import { maina, scratch, tool, freePort, sleep, headless, checklist } from './harness.mjs';

const { data, run, background } = scratch('portal');
// `maina card login` as the resident runs it: a child process, asynchronously.
const cardLogin = (args) => background(['card', 'login', ...args]);

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
async function api(method, path, token, body, purpose) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(purpose ? { 'x-purpose': purpose } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: response.status, body: await response.json().catch(() => null) };
}
// The holder as the counter sees the card, and their record code from a search.
const login = await api('POST', '/api/v1/login', null, { username: 'demo-supervisor', password: PASSWORD });
const token = login.body.token;
const found = await api('POST', '/api/v1/counter/find', token, { number: notice });
assert.equal(found.status, 200, JSON.stringify(found.body));
const cardId = found.body.card_id;
const family = found.body.name.split(' ')[0];
const residents = await api('POST', '/api/v1/residents/search', token, { birth_date: found.body.birth_date, name: family });
const holder = residents.body.find((r) => found.body.name.startsWith(r.name.split(' (')[0]));
assert.ok(holder, JSON.stringify(residents.body));
run(['pickup', 'hand-over', notice, '--document', 'passport', '--base-url', base], '1234\nABC123\n5678\n9012\n');

const browser = await headless();
const { check, summary } = checklist();

// /portal sends a browser without a session through the provider's card page; the
// card answers over PC/SC; the page continues by itself back to /portal.
async function signIn(page) {
  await page.goto(`${base}/portal`);
  await page.waitForURL((url) => url.pathname.startsWith('/oidc/authorize'));
  const command = await page.locator('#command').innerText();
  const challengeUrl = command.match(/maina card login (\S+)/)[1];
  const answered = await cardLogin([challengeUrl, '--pin', '1234']);
  if (!answered.ok) return answered.text;
  await page.waitForURL((url) => url.pathname === '/portal', { timeout: 15000 });
  return null;
}

const attach = spawn(maina, ['--data', data, 'card', 'attach', cardId], { stdio: 'ignore' });
const context = await browser.newContext({ locale: 'en-US', acceptDownloads: true });
const page = await context.newPage();
try {
  for (let i = 0; i < 75; i++) {
    if (tool('opensc-tool', ['-n']).text.includes('jpki')) break;
    await sleep(200);
  }

  await check('sign in with the card: the portal shows the record, the number masked, the card active', async () => {
    const refused = await signIn(page);
    assert.equal(refused, null, refused);
    assert.equal(await page.locator('#address').innerText(), holder.address);
    assert.match(await page.locator('#my-number').innerText(), /^\*\*\*\* \*\*\*\* \d{4}$/);
    assert.equal(await page.locator(`[data-card-id="${cardId}"]`).getAttribute('data-state'), 'active');
    // The sign-in itself is in the record (a sign-in at the portal).
    assert.ok(await page.locator('tr.entry[data-kind="signin"]').count() >= 1);
  });

  await check("an officer's read a second earlier is in the record: role, municipality, purpose, verified position; no name", async () => {
    const read = await api('GET', `/api/v1/residents/${holder.resident_code}`, token, null, 'benefit check');
    assert.equal(read.status, 200);
    await sleep(1000);
    await page.goto(`${base}/portal`);
    const entry = page.locator('tr.entry[data-action="read"]').first();
    assert.match(await entry.innerText(), /benefit check/);
    assert.match(await entry.innerText(), /Supervisor/);
    assert.match(await entry.innerText(), /131016/);
    assert.equal(await entry.getAttribute('data-verified'), 'true');
    assert.ok(Number(await entry.getAttribute('data-seq')) > 0);
    assert.doesNotMatch(await page.locator('table.access').innerText(), /demo-supervisor/);
    assert.match(await page.locator('p.chain').innerText(), /verifies/);
  });

  await check('the record exports as CSV with the same read', async () => {
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('a.csv').first().click(),
    ]);
    const path = await download.path();
    const text = (await import('node:fs')).readFileSync(path, 'utf8');
    assert.ok(text.startsWith('\ufeffWhen,'), text.slice(0, 80));
    assert.match(text, /Your record was read,read,supervisor,131016,benefit check,/);
    assert.doesNotMatch(text, /demo-supervisor/);
  });

  await check('the My Number after the signature PIN: shown folded on that page only, the showing in the record', async () => {
    await page.goto(`${base}/portal`);
    const masked = await page.locator('#my-number').innerText();
    await page.locator('#reveal-my-number').click();
    await page.waitForURL((url) => url.pathname.startsWith('/oidc/authorize'));
    const command = await page.locator('#command').innerText();
    assert.match(command, /--facts/);
    const challengeUrl = command.match(/maina card login (\S+)/)[1];
    const answered = await cardLogin([challengeUrl, '--facts', '--pin', 'ABC123']);
    assert.ok(answered.ok, answered.text);
    await page.waitForURL((url) => url.pathname === '/portal/reveal/callback', { timeout: 15000 });
    assert.doesNotMatch(page.url(), /\d{12}/);
    const clear = page.locator('#my-number-clear');
    assert.equal(await clear.isVisible(), false, 'folded away until opened');
    await page.locator('#my-number-revealed summary').click();
    const number = await clear.innerText();
    assert.match(number, /^\d{12}$/);
    assert.equal(number.slice(-4), masked.slice(-4));
    const cookies = (await context.cookies()).map((c) => c.value).join(' ');
    assert.ok(!cookies.includes(number), 'not in a cookie');
    assert.ok(await page.locator('tr.entry[data-action="portal.reveal-my-number"]').count() >= 1);
    await page.goto(`${base}/portal`);
    assert.match(await page.locator('#my-number').innerText(), /^\*\*\*\* \*\*\*\* \d{4}$/);
  });

  await check('the resident suspends the lost card from the portal; the record shows it', async () => {
    await page.locator(`#suspend-${cardId}`).click();
    await page.locator('p.notice').waitFor();
    assert.equal(await page.locator(`[data-card-id="${cardId}"]`).getAttribute('data-state'), 'suspended');
    assert.ok(await page.locator('tr.entry[data-action="card.suspend"]').count() >= 1);
  });

  await check('signing in again is refused: the card is suspended', async () => {
    await page.locator('form.logout button').first().click();
    await page.waitForURL((url) => url.pathname === '/');
    const refused = await signIn(page);
    assert.ok(refused, 'refused');
    assert.match(refused, /suspended/);
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
