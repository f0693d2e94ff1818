/** Paths of the repository, resolved from this file so tests run from any directory. */
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** The built npm package (`make build` assembles it). */
export const pkgDir = fileURLToPath(new URL('../../../pkg/', import.meta.url));

/** Where tests write artifacts worth keeping, such as screenshots. */
export const buildDir = fileURLToPath(new URL('../../../build/', import.meta.url));

/** An Arrigoo config with one admin key, as `Cdp.open` and `serve --config` take it. */
export const adminConfig = Object.freeze({
  arrigoo: { apiKeys: [{ key: 'test-key', secret: 'test-secret', role: 'admin' }] },
});

/** The login body matching `adminConfig`. */
export const adminLogin = Object.freeze({ key: 'test-key', secret: 'test-secret' });
