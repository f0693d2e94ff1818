/**
 * Debian's Chromium driven by playwright-core (flags from TOOLCHAIN.md, section 4), and the
 * repository's static server in front of it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { repoRoot } from './paths.mjs';
import { startNode, stopChild } from './processes.mjs';

const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Launches headless Chromium with a fresh profile directory.
 * @returns {Promise<{ context: import('playwright-core').BrowserContext, close: () => Promise<void> }>}
 */
export async function launchChromium() {
  const userDataDir = await mkdtemp(join(tmpdir(), 'cdp-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1200, height: 900 },
  });
  return {
    context,
    async close() {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Starts scripts/static-server.mjs on a free port.
 * @param {string} root directory served at `/`, relative to the repository root
 * @param {string[]} mounts `/prefix=dir` specs, relative to the repository root
 * @returns {Promise<{ origin: string, stop: () => Promise<unknown> }>}
 */
export async function startStaticServer(root, mounts = ['/pkg=pkg']) {
  const args = ['scripts/static-server.mjs', '--port', '0', '--root', root];
  for (const mount of mounts) args.push('--mount', mount);
  const { child, match } = await startNode(args, /^demo: http:\/\/localhost:(\d+)\/$/, { cwd: repoRoot });
  return { origin: `http://127.0.0.1:${match[1]}`, stop: () => stopChild(child) };
}

/**
 * Sends page errors and failed requests to the test output, so a broken page explains itself.
 * @param {import('playwright-core').Page} page
 * @returns {string[]} the errors seen so far (filled as they happen)
 */
export function collectPageErrors(page) {
  /** @type {string[]} */
  const errors = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  page.on('requestfailed', (request) => {
    errors.push(`requestfailed: ${request.url()} (${request.failure()?.errorText})`);
  });
  return errors;
}
