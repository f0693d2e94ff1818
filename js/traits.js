/**
 * `cdp.traits`: computed traits (aggregates over events, kept up to date as events arrive),
 * through the engine's `/cdp/v1` surface. Each write resolves once durable.
 */
import { isPlainObject } from './cdp-error.js';
import { badArgument, profilePart, request, segment } from './own-api.js';

/** @typedef {import('./profiles.js').Runner} Runner */

/** Typed helpers for computed traits; every call is queued like `fetch`. */
export class Traits {
  /** @type {Runner} */
  #run;

  /** @param {Runner} run */
  constructor(run) {
    this.#run = run;
    Object.freeze(this);
  }

  /**
   * Adds a computed trait, or replaces the one of that name, and folds every stored event in.
   * @param {import('./index.js').TraitDefinition} definition the `defineTrait` command's body
   * @returns {Promise<import('./index.js').DefinitionOutcome>}
   * @throws {CdpError} `traits.invalid_definition` with the `path` of the bad node
   */
  define(definition) {
    if (!isPlainObject(definition)) return badArgument('define takes a trait definition object');
    return this.#run(async (core) => (await request(core, 'POST', '/cdp/v1/traits', definition)).body, 'write');
  }

  /**
   * Every computed trait definition, in name order.
   * @returns {Promise<import('./index.js').TraitDefinition[]>}
   */
  list() {
    return this.#run(async (core) => (await request(core, 'GET', '/cdp/v1/traits')).body.data);
  }

  /**
   * One definition, or null when no trait has that name.
   * @param {string} name
   * @returns {Promise<import('./index.js').TraitDefinition | null>}
   */
  get(name) {
    let path;
    try {
      path = `/cdp/v1/traits/${segment(name, 'a trait name')}`;
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#run(async (core) => {
      try {
        return (await request(core, 'GET', path)).body;
      } catch (error) {
        if (/** @type {{ code?: string }} */ (error).code === 'traits.unknown') return null;
        throw error;
      }
    });
  }

  /**
   * Removes a computed trait.
   * @param {string} name
   * @returns {Promise<import('./index.js').DefinitionOutcome>}
   * @throws {CdpError} `traits.unknown`
   */
  delete(name) {
    let path;
    try {
      path = `/cdp/v1/traits/${segment(name, 'a trait name')}`;
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#run(async (core) => (await request(core, 'DELETE', path)).body, 'write');
  }

  /**
   * A profile's computed trait values by name.
   * @param {string} profileId
   * @returns {Promise<Record<string, import('./index.js').JsonValue>>}
   * @throws {CdpError} `api.not_found` for an unknown profile, `model.invalid_id` for a malformed id
   */
  valuesOf(profileId) {
    return profilePart(this.#run, profileId, 'traits');
  }
}
