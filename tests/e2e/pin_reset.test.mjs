// The chip at the counter, in real PC/SC and headless Chromium: a card handed over
// (the bureau's job, the shipment, the counter with its PINs) is attached to pcscd;
// three wrong PINs block it (OpenSC shows 0 tries); the officer opens the PIN pad in
// reset mode, the resident types the new PIN in Chromium, and `maina card reset-pin`
// writes it through the issuer's protected command: the new PIN signs with
// pkcs11-tool, the old one fails. Then an address change in the registry and
// `maina card update-chip` (after the residence PIN): `maina card read` shows the new
// address with the issuer's signature valid; and a new signature certificate on the
// same chip signs. Prints "N passed, M failed" and exits non-zero on any failure.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';

import { maina, tool, freePort, sleep, headless, checklist } from './harness.mjs';

const P11 = '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so';
const data = mkdtempSync(join(tmpdir(), 'maina-chip-'));
const work = join(data, 'work');
mkdirSync(work);
const file = (name) => join(work, name);

function attempt(args, input) {
  const result = spawnSync(maina, ['--data', data, ...args], { input, encoding: 'utf8' });
  return { ok: result.status === 0, out: result.stdout ?? '', err: result.stderr ?? '' };
}
function run(args, input) {
  const result = attempt(args, input);
  if (!result.ok) throw new Error(`maina ${args.join(' ')}: ${result.err}`);
  return result.out;
}
// The counter's commands over pcscd are timed (printed, not asserted).
const figures = [];
function timed(label, args) {
  const started = process.hrtime.bigint();
  const out = run(args);
  figures.push(`${label}: ${Number(process.hrtime.bigint() - started) / 1e6} ms`);
  return out;
}

const port = await freePort();
const base = `http://127.0.0.1:${port}`;
run(['demo', '--no-serve', '--residents', '20', '--listen', `127.0.0.1:${port}`]);
run(['card', 'manufacture']);
const newest = run(['pickup', 'shipments', '--municipality', '131016']).split('\n')[0];
const [, shipment, numbers] = newest.match(/^shipment (\d+): \d+ card\(s\), in transit: (.+)$/);
run(['pickup', 'receive', shipment], numbers.split(' ').join('\n'));
const printed = run(['pickup', 'notices', '--municipality', '131016', '--out', join(data, 'notices'), '--public-url', base]);
const [, notice] = printed.match(/^(\d{16}) (\S+\.pdf)$/m);
// The counter: PINs auth 1234, sign ABC123, residence 5678, support 9012.
const cardId = run(['pickup', 'hand-over', notice, '--document', 'passport', '--base-url', base],
  '1234\nABC123\n5678\n9012\n').trim();
const holder = run(['card', 'list']).split('\n').find((line) => line.startsWith(cardId)).split(/\s+/)[2];

const server = spawn(maina, ['--data', data, 'serve', '--listen', `127.0.0.1:${port}`, '--public-url', base, '--insecure-cookies'], { stdio: 'ignore' });
for (let i = 0; i < 100; i++) {
  try { if ((await fetch(`${base}/healthz`)).ok) break; } catch { /* not yet */ }
  await sleep(100);
}
const browser = await headless();
const { check, summary } = checklist();

writeFileSync(file('doc.txt'), 'a tax return\n');
const sign = (pin, id, slot) => tool('pkcs11-tool', ['--module', P11, ...(slot ? ['--slot-index', slot] : []), '--login', '--pin', pin,
  '--sign', '-m', 'SHA256-RSA-PKCS', '--id', id, '-i', file('doc.txt'), '-o', file(`${id}.sig`)]);

const attach = spawn(maina, ['--data', data, 'card', 'attach', cardId], { stdio: 'ignore' });
try {
  for (let i = 0; i < 75; i++) {
    if (tool('opensc-tool', ['-n']).text.includes('jpki')) break;
    await sleep(200);
  }
  await check('three wrong user PINs: OpenSC shows 0 tries left', async () => {
    for (let i = 0; i < 3; i++) assert.ok(!sign('0000', '01').ok, 'a wrong PIN signs nothing');
    const pins = tool('pkcs15-tool', ['--list-pins']).text;
    assert.match(pins, /Tries left\s*:\s*0/, pins);
    assert.ok(!sign('1234', '01').ok, 'blocked: not even the right PIN');
    // The signature password is not blocked by it.
    assert.ok(sign('ABC123', '02', '1').ok, 'the signature password still signs');
  });

  await check('the PIN pad in reset mode takes the new PIN (rule named as typed); reset-pin writes it', async () => {
    const code = run(['card', 'pin-reset-pad', cardId, '--pin', 'auth', '--document', 'passport']).trim();
    const context = await browser.newContext({ locale: 'en-US' });
    const pad = await context.newPage();
    await pad.goto(`${base}/pinpad?lang=en`);
    await pad.locator('#code').fill(code);
    await pad.locator('button[type=submit]').click();
    await pad.locator('#pinpad-form').waitFor();
    assert.equal(await pad.locator('#pinpad-form').getAttribute('data-reset'), 'auth');
    await pad.locator('#pin').fill('24a8');
    await pad.locator('#pin').blur();
    assert.match(await pad.locator('#pin_rule').innerText(), /4 digits|4桁/);
    await pad.locator('#pin').fill('2468');
    await pad.locator('#pin_again').fill('2468');
    await pad.locator('#pinpad-form button[type=submit]').click();
    await pad.locator('#pinpad-done').waitFor();
    assert.equal(await pad.locator('#pinpad-done').getAttribute('data-state'), 'pin-held');
    await context.close();
    // Without the documents checked: refused, nothing written.
    assert.ok(!attempt(['card', 'reset-pin', cardId, '--pin', 'auth']).ok);
    const done = timed('maina card reset-pin (pcscd + vpcd, PIN from the pad)', ['card', 'reset-pin', cardId, '--pin', 'auth', '--document', 'passport']);
    assert.match(done, /auth PIN reset to the new PIN/);
    const pins = tool('pkcs15-tool', ['--list-pins']).text;
    assert.doesNotMatch(pins, /Tries left\s*:\s*0/, pins);
    // The held PIN was erased: a second run finds none.
    assert.match(attempt(['card', 'reset-pin', cardId, '--pin', 'auth', '--document', 'passport']).err, /no new auth PIN/);
  });

  await check('the new PIN signs with pkcs11-tool, the old one fails', async () => {
    assert.ok(sign('2468', '01').ok, 'the new PIN signs');
    assert.ok(!sign('1234', '01').ok, 'the old PIN does not');
  });

  await check('an address change in the registry, then update-chip: card read shows the new address, signed', async () => {
    const address = '東京都千代田区永田町1-7-1';
    run(['resident', 'address', holder, '--address', address]);
    // The wrong residence PIN: refused, nothing written.
    assert.match(attempt(['card', 'update-chip', cardId, '--residence-pin', '0000']).err, /tries left/);
    const updated = timed('maina card update-chip (4 files, signed)', ['card', 'update-chip', cardId, '--residence-pin', '5678']);
    assert.ok(updated.includes(address), updated);
    const read = run(['card', 'read', '--support-pin', '9012']);
    assert.ok(read.includes(`address: ${address}`), read);
    assert.match(read, /issuer signature: valid/);
  });

  await check('a new signature certificate on the same chip signs; the old one is revoked (renewed)', async () => {
    const renewed = timed('maina card renew-certificates --signature-only (key pair generated on the chip)', ['card', 'renew-certificates', cardId, '--signature-only', '--base-url', base]);
    assert.match(renewed, /signature [0-9A-F]+/);
    assert.ok(sign('ABC123', '02', '1').ok, 'the password signs with the new key');
    const shown = run(['card', 'show', cardId]);
    assert.match(shown, /REVOKED \((renewed|facts-changed)\)/, shown);
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
for (const figure of figures) console.log(`figure ${figure}`);
process.exit(summary());
