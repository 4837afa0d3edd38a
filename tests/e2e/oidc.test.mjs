// Signing in with the card (issue 14), end to end: a relying party written with
// the certified `openid-client` library (npm) signs a resident in through a real
// `maina serve` — discovery, PKCE, the authorization page in headless Chromium,
// the card attached through vpcd/pcscd answering the challenge with `maina card
// login` run as a child process, the page continuing by itself, consent, the token
// exchange with client_secret_basic, and the ID token validated by the library
// (signature against the JWKS included). A second party gets another `sub`; a
// replayed challenge, a wrong PIN and a suspended card are refused (the page, polling,
// shows why).
// Prints "N passed, M failed" and exits non-zero on any failure.
import * as oidc from 'openid-client';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createServer as createHttpServer } from 'node:http';
import assert from 'node:assert/strict';

import { maina, scratch, tool, freePort, sleep, headless, checklist } from './harness.mjs';

const { data, run, background } = scratch('oidc');
// `maina card login` as the resident runs it: a child process, asynchronously.
const cardLogin = (args) => background(['card', 'login', ...args]);

const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const demo = run(['demo', '--no-serve', '--residents', '20', '--listen', `127.0.0.1:${port}`]);
assert.ok(demo.length > 0);
assert.match(run(['card', 'manufacture']), /card\(s\) made/);
const newest = run(['pickup', 'shipments', '--municipality', '131016']).split('\n')[0];
const [, shipment, numbers] = newest.match(/^shipment (\d+): \d+ card\(s\), in transit: (.+)$/);
run(['pickup', 'receive', shipment], numbers.split(' ').join('\n'));
const printed = run(['pickup', 'notices', '--municipality', '131016', '--out', join(data, 'notices'), '--public-url', base]);
const [, notice] = printed.match(/^(\d{16}) \S+\.pdf$/m);
run(['pickup', 'hand-over', notice, '--document', 'passport', '--base-url', base], '1234\nABC123\n5678\n9012\n');
const cardId = run(['card', 'list']).split('\n').map((line) => line.trim().split(/\s+/))
  .find((cells) => cells.includes('active'))?.[0];
assert.ok(cardId, 'an active card');

// The relying parties' own server: its callback only records where it was sent.
const rpPort = await freePort();
const callback = `http://127.0.0.1:${rpPort}/cb`;
const rp = createHttpServer((request, response) => {
  response.writeHead(200, { 'content-type': 'text/plain' });
  response.end('relying party callback');
});
await new Promise((ok) => rp.listen(rpPort, '127.0.0.1', ok));
const register = (name, sector) => {
  const out = run(['rp', 'add', name, '--redirect-uri', callback, '--sector', sector]);
  return { id: out.match(/client_id\s+(\S+)/)[1], secret: out.match(/client_secret\s+(\S+)/)[1] };
};
const bank = register('Example Bank', 'bank.example');
const shop = register('Example Shop', 'shop.example');

const server = spawn(maina, ['--data', data, 'serve', '--listen', `127.0.0.1:${port}`, '--public-url', base, '--insecure-cookies'], { stdio: 'ignore' });
for (let i = 0; i < 100; i++) {
  try { if ((await fetch(`${base}/healthz`)).ok) break; } catch { /* not yet */ }
  await sleep(100);
}

const browser = await headless();
const { check, summary } = checklist();

// The relying party's side, all by openid-client: discovery, PKCE, the URL.
async function startSignIn(party) {
  const config = await oidc.discovery(new URL(base), party.id,
    { client_secret: party.secret, id_token_signed_response_alg: 'ES256' },
    oidc.ClientSecretBasic(party.secret),
    { execute: [oidc.allowInsecureRequests, oidc.enableNonRepudiationChecks] });
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: callback, scope: 'openid', state, nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  return { config, verifier, state, nonce, url };
}

// The resident's side: the page in Chromium, the card answering over PC/SC.
async function signIn(party, { pin = '1234', consent = true, pageReason = false } = {}) {
  const flow = await startSignIn(party);
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  try {
    await page.goto(flow.url.href);
    assert.equal(await page.locator('#client-name').innerText(), party.name);
    assert.ok(await page.locator('.qr svg').count() === 1, 'a QR code');
    const command = await page.locator('#command').innerText();
    const challengeUrl = command.match(/maina card login (\S+)/)[1];
    const answered = await cardLogin([challengeUrl, '--pin', pin]);
    if (!answered.ok) {
      // The page, polling, says why (only this browser's page learns it).
      let shown = null;
      if (pageReason) {
        await page.locator('#signin-refusal').waitFor({ state: 'visible', timeout: 5000 });
        shown = await page.locator('#signin-refusal-text').innerText();
      }
      return { refused: answered.text, challengeUrl, shown };
    }
    if (consent) {
      await page.locator('#approve').click();
    }
    await page.waitForURL((url) => url.href.startsWith(callback), { timeout: 15000 });
    const tokens = await oidc.authorizationCodeGrant(flow.config, new URL(page.url()), {
      pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce,
    });
    return { tokens, claims: tokens.claims(), challengeUrl, config: flow.config };
  } finally {
    await context.close();
  }
}

const attach = spawn(maina, ['--data', data, 'card', 'attach', cardId], { stdio: 'ignore' });
let bankSub;
try {
  for (let i = 0; i < 75; i++) {
    if (tool('opensc-tool', ['-n']).text.includes('jpki')) break;
    await sleep(200);
  }
  bank.name = 'Example Bank';
  shop.name = 'Example Shop';

  await check('openid-client signs in at the bank: discovery, PKCE, the card, consent, tokens, ID token validated', async () => {
    const done = await signIn(bank);
    assert.ok(done.tokens, done.refused);
    assert.equal(done.claims.iss, base);
    assert.equal(done.claims.aud, bank.id);
    assert.ok(done.claims.sub.length >= 40, done.claims.sub);
    assert.equal(done.claims.name, undefined, 'an auth party gets no facts');
    bankSub = done.claims.sub;
    const info = await oidc.fetchUserInfo(done.config, done.tokens.access_token, done.claims.sub);
    assert.equal(info.sub, bankSub);
    // The challenge was used: answering it again is refused.
    const again = await cardLogin([done.challengeUrl, '--pin', '1234']);
    assert.ok(!again.ok && /challenge/.test(again.text), again.text);
  });

  await check('the bank again (consent kept) gets the same sub; the shop gets another', async () => {
    const again = await signIn(bank, { consent: false });
    assert.ok(again.tokens, again.refused);
    assert.equal(again.claims.sub, bankSub);
    const atShop = await signIn(shop);
    assert.ok(atShop.tokens, atShop.refused);
    assert.notEqual(atShop.claims.sub, bankSub);
  });

  await check('a wrong PIN is refused by the card', async () => {
    const wrong = await signIn(bank, { pin: '9999', consent: false });
    assert.ok(wrong.refused, 'refused');
    assert.doesNotMatch(wrong.refused, /signed in/);
  });

  await check('a suspended card is refused with the reason', async () => {
    run(['card', 'suspend', cardId]);
    const suspended = await signIn(bank, { consent: false, pageReason: true });
    assert.ok(suspended.refused, 'refused');
    assert.match(suspended.refused, /suspended/);
    assert.match(suspended.shown, /suspended/);
  });
} finally {
  attach.kill('SIGTERM');
  await new Promise((ok) => attach.once('exit', ok));
}
await browser.close();
rp.close();
if (server.exitCode === null) {
  const stopped = new Promise((ok) => server.once('exit', ok));
  server.kill('SIGTERM');
  await stopped;
}
rmSync(data, { recursive: true, force: true });
process.exit(summary());
