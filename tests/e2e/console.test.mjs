// The officer console in real headless Chromium (Debian's chromium package, driven
// by playwright-core). Starts the real `maina` binary on a demo registry.
// Prints "N passed, M failed" and exits non-zero on any failure.
import { chromium } from 'playwright-core';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createServer } from 'node:net';
import assert from 'node:assert/strict';

const maina = resolve(process.env.MAINA ?? new URL('../../target/debug/maina', import.meta.url).pathname);
const data = mkdtempSync(join(tmpdir(), 'maina-e2e-'));

function run(args, input) {
  const result = spawnSync(maina, ['--data', data, ...args], { input, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`maina ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

async function freePort() {
  return new Promise((ok) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => { const { port } = server.address(); server.close(() => ok(port)); });
  });
}

// The demo prints its officers' fresh password.
const PASSWORD = run(['demo', '--no-serve', '--residents', '20']).match(/\(password: (\S+)\)/)[1];
run(['municipality', 'add', '011002', '--name-ja', '札幌市', '--name-en', 'Sapporo']);
run(['officer', 'add', 'sapporo-registrar', '--role', 'registrar', '--municipality', '011002', '--password-stdin'], PASSWORD + '\n');
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const server = spawn(maina, ['--data', data, 'serve', '--listen', `127.0.0.1:${port}`, '--insecure-cookies'], { stdio: 'ignore' });
for (let i = 0; i < 100; i++) {
  try { if ((await fetch(`${base}/healthz`)).ok) break; } catch { /* not yet */ }
  await new Promise((ok) => setTimeout(ok, 100));
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

async function login(page, user) {
  await page.goto(`${base}/login?lang=en`);
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(`${base}/console`);
}

const tests = [];
const test = (name, body, options = {}) => tests.push({ name, body, options });
let registeredCode = '';

test('the log-in page follows the browser language and the switch', async (context) => {
  const page = await context.newPage();
  await page.goto(`${base}/login`);
  assert.equal(await page.getAttribute('html', 'lang'), 'ja');
  await page.getByLabel('ユーザー名').waitFor();
  await page.getByRole('link', { name: 'English' }).click();
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  await page.getByLabel('User name').waitFor();
  await page.goto(`${base}/login`);
  assert.equal(await page.getAttribute('html', 'lang'), 'en', 'the chosen language is kept');
}, { locale: 'ja-JP' });

test('a wrong password is refused with an alert', async (context) => {
  const page = await context.newPage();
  await page.goto(`${base}/login?lang=en`);
  await page.getByLabel('User name').fill('demo-registrar');
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Log in' }).click();
  const alert = page.getByRole('alert');
  assert.match(await alert.innerText(), /wrong password/);
});

test('register a resident from the form', async (context) => {
  const page = await context.newPage();
  await login(page, 'demo-registrar');
  await page.getByRole('link', { name: 'Register a resident' }).click();
  await page.getByLabel('Family name', { exact: true }).fill('試験');
  await page.getByLabel('Given name', { exact: true }).fill('花子');
  await page.getByLabel('Family name (kana)').fill('シケン');
  await page.getByLabel('Given name (kana)').fill('ハナコ');
  await page.getByLabel('Birth date').fill('1991-05-06');
  await page.getByLabel('Female').check();
  await page.getByLabel('Address').fill('東京都千代田区霞が関1-1');
  await page.getByRole('button', { name: 'Register', exact: true }).click();
  await page.getByRole('status').waitFor();
  registeredCode = (await page.locator('#resident-code').innerText()).trim();
  assert.match(registeredCode, /^\d{11}$/);
  assert.match(await page.locator('h1').innerText(), /試験 花子/);
});

test('a bad form names the field', async (context) => {
  const page = await context.newPage();
  await login(page, 'demo-registrar');
  await page.goto(`${base}/console/register?lang=en`);
  await page.getByLabel('Family name', { exact: true }).fill('試験');
  await page.getByLabel('Given name', { exact: true }).fill('次郎');
  await page.getByLabel('Family name (kana)').fill('shiken');
  await page.getByLabel('Given name (kana)').fill('ジロウ');
  await page.getByLabel('Birth date').fill('1991-05-06');
  await page.getByLabel('Male', { exact: true }).check();
  await page.getByLabel('Address').fill('東京都千代田区');
  await page.getByRole('button', { name: 'Register', exact: true }).click();
  assert.match(await page.getByRole('alert').innerText(), /family_kana/);
});

test('search by name and birth date, open, change the address, see the history', async (context) => {
  const page = await context.newPage();
  await login(page, 'demo-registrar');
  await page.getByRole('textbox', { name: 'Name', exact: true }).fill('しけん');
  await page.getByRole('textbox', { name: 'Birth date' }).fill('1991-05-06');
  await page.getByRole('button', { name: 'Find' }).first().click();
  await page.getByRole('link', { name: registeredCode }).waitFor();
  // A post: what was searched for is in neither the URL nor the history.
  assert.ok(!page.url().includes('1991') && !page.url().includes('?'), page.url());
  await page.getByRole('link', { name: registeredCode }).click();
  await page.locator('#address-input').fill('東京都千代田区永田町1-7-1');
  await page.locator('form[action$="/address"] button').click();
  await page.getByRole('status').waitFor();
  assert.equal((await page.locator('#address').innerText()).trim(), '東京都千代田区永田町1-7-1');
  const rows = await page.locator('#history tbody tr').allInnerTexts();
  assert.equal(rows.length, 2);
  assert.match(rows[1], /change of address/);
  assert.match(rows[1], /demo-registrar/);
  if (process.env.SCREENSHOT_DIR) await page.screenshot({ path: join(process.env.SCREENSHOT_DIR, 'record-en.png'), fullPage: true });
  await page.goto(`${base}/console/residents/${registeredCode}?lang=ja`);
  await page.getByRole('heading', { name: '履歴' }).waitFor();
  assert.match((await page.locator('#history tbody tr').allInnerTexts())[1], /転居/);
  if (process.env.SCREENSHOT_DIR) await page.screenshot({ path: join(process.env.SCREENSHOT_DIR, 'record-ja.png'), fullPage: true });
});

test('change the name, then record a departure; the history shows both', async (context) => {
  const page = await context.newPage();
  await login(page, 'demo-registrar');
  await page.goto(`${base}/console/residents/${registeredCode}?lang=en`);
  await page.locator('#rn_family_name').fill('改姓');
  await page.locator('#rn_family_kana').fill('カイセイ');
  await page.locator('form[action$="/rename"] button').click();
  await page.getByRole('status').waitFor();
  assert.match(await page.locator('h1').innerText(), /改姓 花子/);
  await page.getByRole('button', { name: 'Record the departure' }).click();
  await page.getByRole('status').waitFor();
  const rows = await page.locator('#history tbody tr').allInnerTexts();
  assert.match(rows.at(-2), /change of name/);
  assert.match(rows.at(-1), /departure abroad/);
  // A departed resident's address can no longer change: the refusal says why.
  await page.locator('#address-input').fill('どこか');
  await page.locator('form[action$="/address"] button').click();
  assert.match(await page.getByRole('alert').innerText(), /departed/);
});

test('keyboard and labels: skip link first, every field labelled', async (context) => {
  const page = await context.newPage();
  await login(page, 'demo-registrar');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.className), 'skip');
  const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input, select')]
    .filter((e) => e.type !== 'hidden' && e.labels.length === 0).map((e) => e.name));
  assert.deepEqual(unlabelled, []);
});

test("another municipality's officer cannot see the record", async (context) => {
  const page = await context.newPage();
  await login(page, 'sapporo-registrar');
  const response = await page.goto(`${base}/console/residents/${registeredCode}?lang=en`);
  assert.equal(response.status(), 404);
  assert.match(await page.getByRole('alert').innerText(), /No such resident in your municipality/);
});

test('pages without a session go to the log-in page', async (context) => {
  const page = await context.newPage();
  await page.goto(`${base}/console/residents/${registeredCode}`);
  assert.equal(new URL(page.url()).pathname, '/login');
});

let passed = 0;
let failed = 0;
for (const { name, body, options } of tests) {
  const context = await browser.newContext({ locale: 'en-US', ...options });
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
// Wait for the server to stop: it writes its last audit checkpoint on the way out.
if (server.exitCode === null) {
  const stopped = new Promise((ok) => server.once('exit', ok));
  server.kill('SIGTERM');
  await stopped;
}
rmSync(data, { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
