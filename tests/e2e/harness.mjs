// What the end-to-end tests share: the maina binary under test, a scratch data
// directory, running maina (and other tools) as a user would, a free port.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createServer } from 'node:net';

export const maina = resolve(process.env.MAINA ?? new URL('../../target/debug/maina', import.meta.url).pathname);

/** A fresh data directory for one test file, and the ways to run maina on it. */
export function scratch(name) {
  const data = mkdtempSync(join(tmpdir(), `maina-${name}-`));
  // maina ARGS must succeed: its standard output.
  function run(args, input) {
    const result = spawnSync(maina, ['--data', data, ...args], { input, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`maina ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  }
  // maina ARGS may fail: whether it succeeded, and everything it printed.
  function attempt(args, input) {
    const result = spawnSync(maina, ['--data', data, ...args], { input, encoding: 'utf8' });
    return { ok: result.status === 0, text: `${result.stdout ?? ''}${result.stderr ?? ''}` };
  }
  // maina ARGS as a child process, asynchronously (e.g. `maina card login` while
  // the browser waits): whether it succeeded, and everything it printed.
  function background(args) {
    return new Promise((ok) => {
      const child = spawn(maina, ['--data', data, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      child.stdout.on('data', (chunk) => { text += chunk; });
      child.stderr.on('data', (chunk) => { text += chunk; });
      child.on('exit', (code) => ok({ ok: code === 0, text }));
    });
  }
  return { data, run, attempt, background };
}

/** Another program (openssl, pkcs11-tool, ...): whether it succeeded, and its output. */
export function tool(program, args) {
  const result = spawnSync(program, args, { encoding: 'utf8' });
  return { ok: result.status === 0, text: `${result.stdout ?? ''}${result.stderr ?? ''}` };
}

export async function freePort() {
  return new Promise((ok) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => { const { port } = server.address(); server.close(() => ok(port)); });
  });
}

export const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

/** Headless Chromium (Debian's, or $CHROMIUM), quiet: no background traffic. */
export async function headless() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Named checks that go on after a failure; `summary()` prints "N passed, M failed"
 *  and answers the exit code. */
export function checklist() {
  let passed = 0;
  let failed = 0;
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
  const summary = () => {
    console.log(`${passed} passed, ${failed} failed`);
    return failed === 0 ? 0 : 1;
  };
  return { check, summary };
}
