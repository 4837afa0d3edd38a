// Applying online in real headless Chromium, as a resident on a phone: the form ID
// from the notice's QR code, the link from the real e-mail (a real SMTP server,
// aiosmtpd from the venv), the photo from the camera input, the receipt; then the
// status page, before and after the card bureau starts the review.
// Prints "N passed, M failed" and exits non-zero on any failure.
import { chromium } from 'playwright-core';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createServer } from 'node:net';
import assert from 'node:assert/strict';

const maina = resolve(process.env.MAINA ?? new URL('../../target/debug/maina', import.meta.url).pathname);
const python = process.env.MAINA_PYTHON ?? resolve(new URL('../../.venv/bin/python', import.meta.url).pathname);
const testdata = process.env.MAINA_TESTDATA ?? resolve(new URL('../../.venv/testdata', import.meta.url).pathname);
const data = mkdtempSync(join(tmpdir(), 'maina-apply-'));
const maildir = join(data, 'mail');
for (const sub of ['tmp', 'new', 'cur']) mkdirSync(join(maildir, sub), { recursive: true });

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

const MAILS = `
import email, email.header, glob, os, sys, json
files = sorted(glob.glob(os.path.join(sys.argv[1], 'new', '*')), key=os.path.getmtime)
out = []
for f in files:
    m = email.message_from_binary_file(open(f, 'rb'))
    out.append(str(email.header.make_header(email.header.decode_header(m['Subject']))) + '\\n' + m.get_payload(decode=True).decode('utf-8'))
print(json.dumps(out))
`;
function mails() {
  const result = spawnSync(python, ['-c', MAILS, maildir], { encoding: 'utf8' });
  return JSON.parse(result.stdout || '[]');
}
async function waitForMails(count) {
  for (let i = 0; i < 150; i++) {
    const found = mails();
    if (found.length >= count) return found;
    await new Promise((ok) => setTimeout(ok, 200));
  }
  throw new Error(`only ${mails().length} e-mails arrived`);
}

// A 35:45 portrait from NASA's public-domain astronaut.png (scripts/test.sh).
const photo = join(data, 'me.jpg');
const made = spawnSync(python, ['-c', `from PIL import Image
Image.open('${testdata}/astronaut.png').convert('RGB').crop((100, 0, 345, 315)).resize((700, 900)).save('${photo}', quality=90)`]);
if (made.status !== 0) throw new Error(`portrait: ${made.stderr}`);

// The demo prints its officers' fresh password.
const PASSWORD = run(['demo', '--no-serve', '--residents', '3']).match(/\(password: (\S+)\)/)[1];
const letters = join(data, 'letters');
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
run(['notice', 'print', '--out', letters, '--limit', '1', '--base-url', base]);
const code = readdirSync(letters)[0].replace('.pdf', '');
const form = run(['notice', 'show', code]).match(/form ID ([\d ]+?)  mail/)[1].replace(/ /g, '');

const smtpPort = await freePort();
const smtpd = spawn(python, ['-m', 'aiosmtpd', '-n', '-l', `127.0.0.1:${smtpPort}`, '-c', 'aiosmtpd.handlers.Mailbox', maildir], { stdio: 'ignore' });
const config = join(data, 'maina.toml');
writeFileSync(config, `smtp_url = "smtp://127.0.0.1:${smtpPort}"\nmail_retry_seconds = 1\npublic_url = "${base}"\n`);
const server = spawn(maina, ['--data', data, 'serve', '--config', config, '--listen', `127.0.0.1:${port}`, '--insecure-cookies'], { stdio: 'ignore' });
for (let i = 0; i < 100; i++) {
  try { if ((await fetch(`${base}/healthz`)).ok) break; } catch { /* not yet */ }
  await new Promise((ok) => setTimeout(ok, 100));
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

const tests = [];
const test = (name, body, options = {}) => tests.push({ name, body, options });
let receipt = '';
const phone = {
  locale: 'ja-JP',
  viewport: { width: 390, height: 844 },
  userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1',
};

test('apply on a phone: QR link, e-mailed link, camera photo, receipt', async (context) => {
  const page = await context.newPage();
  await page.goto(`${base}/apply?form=${form}`);
  assert.equal(await page.getAttribute('html', 'lang'), 'ja');
  assert.equal(await page.getByLabel('申請書ID（23桁）').inputValue(), form);
  await page.getByLabel('氏名').fill('山田 花子');
  await page.getByLabel('メールアドレス').fill('hanako@example.jp');
  const question = await page.locator('label[for=captcha]').innerText();
  const [a, b] = question.match(/(\d+) \+ (\d+)/).slice(1).map(Number);
  await page.getByLabel(/計算の答え/).fill(String(a + b));
  await page.getByRole('button', { name: 'リンクを送る' }).click();
  await page.locator('#sent').waitFor();
  const [first] = await waitForMails(1);
  const link = first.split('\n').find((line) => line.includes('/apply/continue?token=')).trim();
  await page.goto(link);
  assert.equal(await page.getAttribute('#photo', 'capture'), 'user');
  await page.setInputFiles('#photo', photo);
  await page.getByLabel('生年月日').fill('1990-04-01');
  await page.getByRole('button', { name: '申請する' }).click();
  receipt = (await page.locator('#receipt').innerText()).replace(/ /g, '');
  assert.equal(receipt.length, 16);
  const confirmation = (await waitForMails(2))[1];
  assert.ok(confirmation.includes(receipt.slice(0, 4)) && confirmation.includes('受付済み'), confirmation);
  // The link worked once.
  const again = await page.goto(link);
  assert.equal(again.status(), 410);
}, phone);

test('see the status, then its change, in English', async (context) => {
  const page = await context.newPage();
  const check = async () => {
    await page.goto(`${base}/status?lang=en`);
    await page.getByLabel('Application form ID or receipt number').fill(receipt);
    await page.getByLabel('Birth date').fill('1990-04-01');
    await page.getByRole('button', { name: 'Check' }).click();
    return page.locator('p.status').getAttribute('data-status');
  };
  assert.equal(await check(), 'received');
  const login = await (await fetch(`${base}/api/v1/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'demo-supervisor', password: PASSWORD }),
  })).json();
  const moved = await fetch(`${base}/api/v1/applications/${receipt}/events`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${login.token}`, 'x-purpose': 'review' },
    body: JSON.stringify({ event: 'start-review' }),
  });
  assert.equal(moved.status, 200);
  assert.equal(await check(), 'under-review');
  assert.match(await page.locator('p.status').innerText(), /Under review/);
  const told = (await waitForMails(3))[2];
  assert.ok(told.includes('審査中'), told);
});

test('the status in Japanese, dated in the era calendar', async (context) => {
  const page = await context.newPage();
  await page.goto(`${base}/status?lang=ja`);
  await page.getByLabel('申請書IDまたは受付番号').fill(receipt);
  await page.getByLabel('生年月日').fill('1990-04-01');
  await page.getByRole('button', { name: '確認する' }).click();
  assert.equal(await page.locator('p.status').getAttribute('data-status'), 'under-review');
  const answer = await page.locator('section.card').innerText();
  assert.match(answer, /審査中/);
  assert.match(answer, /更新日: 令和(元|\d+)年\d+月\d+日 \(\d{4}-\d{2}-\d{2}\)/);
});

test('a wrong birth date gets the same answer as an unknown number', async (context) => {
  const page = await context.newPage();
  await page.goto(`${base}/status?lang=en`);
  await page.getByLabel('Application form ID or receipt number').fill(receipt);
  await page.getByLabel('Birth date').fill('1990-04-02');
  await page.getByRole('button', { name: 'Check' }).click();
  assert.match(await page.getByRole('alert').innerText(), /No application matches/);
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
smtpd.kill('SIGTERM');
rmSync(data, { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
