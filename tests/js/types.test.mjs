/**
 * Packaging: pkg/ packed with npm and installed into a fresh consumer project, then used the
 * way a user would: type-checked with strict tsc, imported by name, and run through its bin.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { access, constants, copyFile, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { pkgDir, repoRoot } from './helpers/paths.mjs';

const run = promisify(execFile);
const fixture = new URL('./fixtures/consumer/', import.meta.url);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** @type {string} */
let scratch;
/** @type {string} */
let consumer;

/**
 * Runs a command, failing the test with its output when it exits non-zero.
 * @param {string} file
 * @param {string[]} args
 * @param {string} cwd
 */
async function mustRun(file, args, cwd) {
  try {
    return await run(file, args, { cwd, timeout: 120_000 });
  } catch (error) {
    const { stdout = '', stderr = '' } = /** @type {{ stdout?: string, stderr?: string }} */ (error);
    assert.fail(`${file} ${args.join(' ')} failed:\n${stdout}${stderr}`);
  }
}

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'cdp-pack-'));
  consumer = join(scratch, 'consumer');
  const { stdout } = await mustRun(npm, ['pack', pkgDir, '--json', '--pack-destination', scratch], scratch);
  const [{ filename }] = JSON.parse(stdout);
  await mkdir(consumer);
  for (const file of ['package.json', 'tsconfig.json', 'consumer.ts', 'use.mjs']) {
    await copyFile(new URL(file, fixture), join(consumer, file));
  }
  await mustRun(
    npm,
    ['install', join(scratch, filename), '--offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'],
    consumer,
  );
});

after(() => rm(scratch, { recursive: true, force: true }));

test('the packed package holds its entry points, types, bin and wasm', async () => {
  const installed = join(consumer, 'node_modules', 'cdp-engine');
  const manifest = JSON.parse(await readFile(join(installed, 'package.json'), 'utf8'));
  assert.equal(manifest.name, 'cdp-engine');
  assert.equal(manifest.type, 'module');
  assert.deepEqual(manifest.exports['.'], { types: './index.d.ts', default: './index.js' });
  for (const file of manifest.files) await access(join(installed, file));
  // The facade's modules are bundled into index.js; what stays a file of its own is packed.
  for (const file of manifest.files.filter((name) => name.endsWith('.js'))) {
    const text = await readFile(join(installed, file), 'utf8');
    const relative = [...text.matchAll(/(?:from|import)\s*\(?\s*['"](\.\/[^'"?]+)/g)].map((match) => match[1].slice(2));
    assert.deepEqual(relative.filter((target) => !manifest.files.includes(target)), [], `${file} imports only packed files`);
  }
  const index = await readFile(join(installed, 'index.js'), 'utf8');
  const sources = await readdir(new URL('../../js/', import.meta.url));
  const missing = sources.filter((file) => !manifest.files.includes(file) && !index.includes(`// js/${file}\n`));
  assert.deepEqual(missing, [], 'every file of js/ is packed or bundled into index.js');
  const serve = await readFile(join(installed, manifest.bin['cdp-engine-serve']), 'utf8');
  assert.ok(serve.startsWith('#!/usr/bin/env node\n'), 'the bin starts with a node shebang');
});

test("the package's own JavaScript type-checks against its JSDoc", async () => {
  const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  const sources = (await readdir(join(repoRoot, 'js'))).filter((file) => file.endsWith('.js'));
  assert.ok(sources.includes('index.js'), 'js/ holds the package sources');
  const args = ['--noEmit', '--allowJs', '--checkJs', '--target', 'es2022', '--module', 'nodenext'];
  await mustRun(process.execPath, [tsc, ...args, ...sources.map((file) => join('js', file))], repoRoot);
});

test('strict tsc accepts a consumer using the real types and rejects wrong calls', async () => {
  const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  const { stdout } = await mustRun(process.execPath, [tsc, '--noEmit', '--strict', '-p', 'tsconfig.json'], consumer);
  assert.equal(stdout, '');
});

test('the installed package imports by name and runs in Node', async () => {
  const { stdout } = await mustRun(process.execPath, ['use.mjs'], consumer);
  assert.deepEqual(JSON.parse(stdout), { storage: 'memory', created: true, count: 1, closed: 'cdp.closed' });
});

test('the installed bin runs and refuses a call without arguments with exit code 2', async () => {
  const bin = join(consumer, 'node_modules', '.bin', 'cdp-engine-serve');
  await access(bin, constants.X_OK);
  await assert.rejects(run(bin, [], { cwd: consumer }), (error) => {
    const { code, stderr } = /** @type {{ code?: number, stderr?: string }} */ (error);
    assert.equal(code, 2);
    assert.match(stderr ?? '', /^cdp-engine-serve: missing --port/);
    return true;
  });
});
