/**
 * cdp-engine: a Customer Data Platform that runs in the browser (and in Node).
 *
 * ```ts
 * import { Cdp, CdpError } from 'cdp-engine';
 * const cdp = await Cdp.open({ name: 'shop', config: { arrigoo: { apiKeys: [] } } });
 * const { id } = await cdp.profiles.upsert({ identities: { email: ['bob@bib.dk'] } });
 * ```
 */

/** Where an engine keeps its data: IndexedDB (browser), a data directory (Node), or memory. */
export type StorageKind = 'indexeddb' | 'memory' | 'files';

/**
 * When a write's promise resolves: `'strict'` once IndexedDB has flushed it to disk (survives a
 * crash of the machine), `'relaxed'` once the browser has it (faster; a machine crash right
 * after may lose it).
 */
export type Durability = 'strict' | 'relaxed';

/** Any JSON value. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** What an Arrigoo key may do; each role may do what the ones before it may. */
export type ArrigooRole = 'viewer' | 'editor' | 'admin' | 'owner';

/** One Arrigoo API key: exchanged at `POST /auth/api` for access and refresh tokens. */
export interface ArrigooApiKey {
  /** The key name the client sends as `key`. */
  key: string;
  /** The secret the client sends as `secret`. */
  secret: string;
  /** Writes such as `PUT /v1/customer` need `admin` or above. */
  role: ArrigooRole;
}

/** The Arrigoo dialect (`/auth/api…`, `/v1/customer…`). */
export interface ArrigooConfig {
  apiKeys?: ArrigooApiKey[];
  /** Lifetime of an access token in seconds. Default one hour. */
  accessTokenTtlSeconds?: number;
  /** Lifetime of a refresh token in seconds. Default 30 days. */
  refreshTokenTtlSeconds?: number;
  /** Profiles per page of `GET /v1/customer`. Default 100. */
  pageSize?: number;
  /** Also mount the dialect under this path prefix. */
  prefix?: string;
}

/** The ChartMogul dialect: accounts calling with HTTP Basic `token:secret`. */
export interface ChartMogulConfig {
  accounts?: Array<{ token: string; secret?: string }>;
  /** API keys sent as the Basic user with an empty password. */
  apiKeys?: string[];
  /** Also mount the dialect under this path prefix. */
  prefix?: string;
}

/** The PrimeData dialect: accepted `x-api-key` values and searchable identity types. */
export interface PrimeDataConfig {
  apiKeys?: string[];
  /** Default: the declared identity types. */
  identityTypes?: string[];
  /** Per-key limit; over it, 429 `rate_limit_error`. */
  rateLimit?: { requests: number; perSeconds: number };
  /** Also mount the dialect under this path prefix. */
  prefix?: string;
}

/** The FollowAnalytics dialect: accepted API keys. */
export interface FollowAnalyticsConfig {
  /** Account keys (reads and management). */
  apiKeys?: string[];
  /** Sources of record and the keys that may upload to them. */
  sources?: Array<{ identifier: string; apiKeys?: string[] }>;
  /** Also mount the dialect under this path prefix. */
  prefix?: string;
}

/** What `setCredentials` takes: the credential keys of the config, per dialect named. */
export interface Credentials {
  arrigoo?: { apiKeys?: ArrigooApiKey[] };
  chartmogul?: { accounts?: Array<{ token: string; secret?: string }>; apiKeys?: string[] };
  primedata?: { apiKeys?: string[] };
  followanalytics?: { apiKeys?: string[]; sources?: Array<{ identifier: string; apiKeys?: string[] }> };
  /** Bearer keys of the engine's own `/cdp/v1` surface; an empty list opens it. */
  cdp?: { apiKeys?: string[] };
}

/** One identifier type and its resolution rules. */
export interface IdentifierTypeConfig {
  /** As the APIs spell it: `email`, `phone`, `crm_user_id`. */
  name: string;
  /** How raw values are canonicalized. Default `'verbatim'`. */
  normalization?: 'email' | 'phone' | 'lowercase' | 'verbatim';
  /** Whether a value identifies one person. Default true. */
  unique?: boolean;
  /** Most values of this type one profile may hold. */
  limit?: number | null;
  /** What happens over the limit. Default `'dropOldest'`. */
  onLimit?: 'dropOldest' | 'reject';
  /** Higher wins when types disagree about a write's profile. */
  priority?: number;
}

/** Identity resolution: the identifier types and the conflict policy. */
export interface IdentityConfig {
  /** Default: `email` and `phone`; undeclared types are unique and verbatim. */
  types?: IdentifierTypeConfig[];
  /** When one write's identifiers match two profiles. Default `'reject'`. */
  policy?: 'reject' | 'merge';
}

/**
 * Engine configuration: what `Cdp.open` takes as `config` and `serve --config` reads.
 * Every part is optional; unknown keys are rejected with `config.invalid`.
 */
export interface CdpConfig {
  identity?: IdentityConfig;
  arrigoo?: ArrigooConfig;
  chartmogul?: ChartMogulConfig;
  primedata?: PrimeDataConfig;
  followanalytics?: FollowAnalyticsConfig;
  /**
   * The engine's own REST surface `/cdp/v1`: open while `apiKeys` is empty, then every
   * request needs `Authorization: Bearer <key>`. The typed helpers need no key.
   */
  cdp?: { apiKeys?: string[] };
  /** Largest request body accepted, in bytes. Default 1 000 000. */
  maxBodyBytes?: number;
}

/** Options of `Cdp.open`. */
export interface CdpOptions {
  /** Database name; engines with the same name share their data. Default `'cdp'`. */
  name?: string;
  /** Engine configuration. Default `{}`. */
  config?: CdpConfig;
  /**
   * Default: `'indexeddb'` where `globalThis.indexedDB` exists, else `'memory'`. Asking for
   * `'indexeddb'` where there is none rejects with `cdp.storage_unavailable`. `'files'` goes
   * with `directory`.
   */
  storage?: StorageKind;
  /** IndexedDB write durability. Default `'strict'`. */
  durability?: Durability;
  /**
   * Node only: keep the data in this directory (snapshot + log files, fsync'ed before a write
   * resolves), as `serve --data DIR` does. Implies `storage: 'files'`.
   */
  directory?: string;
}

/** What `cdp.storageInfo()` reports. */
export interface StorageInfo {
  /** The length of the change log: the offset the next change gets. */
  offset: number;
  /** The offset the newest snapshot covers up to, or null before the first snapshot. */
  snapshotOffset: number | null;
  /** Snapshots the last load found corrupt and skipped, falling back to an older one plus the log. */
  skippedSnapshots: Array<{ code: string; message: string }>;
}

/** What `cdp.import()` resolves to. */
export interface ImportOutcome {
  /** How many profiles were imported. */
  profiles: number;
}

/** What `cdp.import()` reads: the NDJSON text, whole or in pieces of text or UTF-8 bytes. */
export type ImportSource =
  | string
  | ReadableStream<string | Uint8Array>
  | AsyncIterable<string | Uint8Array>
  | Iterable<string | Uint8Array>;

/** Identifier type (e.g. `email`) to its values. */
export type Identities = Record<string, string[]>;

/** Attribute name to its typed value. */
export type Attributes = Record<string, JsonValue>;

/** A canonical profile. */
export interface Profile {
  /** Stable uuid (v4). */
  id: string;
  identities: Identities;
  attributes: Attributes;
  /** Tags set by rules (`auto`) and by hand or through an API (`manual`). */
  tags: { auto: string[]; manual: string[] };
  /** Consents by purpose. */
  consents: Record<string, JsonValue>;
  /** RFC 3339 timestamp in UTC. */
  created: string;
  /** RFC 3339 timestamp in UTC. */
  updated: string;
  /** Grows with every change to the profile. */
  version: number;
  /** Ids of profiles merged into this one; they resolve here. */
  aliases: string[];
}

/** What `profiles.upsert` takes. */
export interface ProfileInput {
  /** Identifiers that find the profile, or create it when none matches. */
  identities: Identities;
  /** Attributes to set. */
  attributes?: Attributes;
}

/** What `profiles.upsert` resolves to. */
export interface UpsertOutcome {
  /** The profile written. */
  id: string;
  /** True when no profile matched and a new one was created. */
  created: boolean;
}

/** Typed helpers for profiles. Calls are queued behind every earlier call on the engine. */
export interface Profiles {
  /**
   * Creates a profile, or updates the one its identities resolve to. Resolves once durable.
   * Rejects with e.g. `identity.conflict` when the identities belong to two profiles.
   */
  upsert(input: ProfileInput): Promise<UpsertOutcome>;
  /**
   * Creates or updates many profiles as one write: records apply in order (a record sees the
   * profiles earlier ones created), all or none, durable together in one transaction.
   * Resolves to one outcome per record. Rejects with the refused record's code (e.g.
   * `identity.conflict`) and its `index`; nothing of the batch is stored then.
   */
  upsertMany(records: ProfileInput[]): Promise<UpsertOutcome[]>;
  /** The profile with this uuid, or null when there is none. Rejects for a malformed id. */
  get(id: string): Promise<Profile | null>;
  /** Number of stored profiles. */
  count(): Promise<number>;
}

/** Where an event happened. */
export type EventContext =
  | 'WEB'
  | 'MOBILE'
  | 'ECOMMERCE'
  | 'RETAIL'
  | 'SOCIAL'
  | 'DIGITAL_CAMPAIGN'
  | 'CONTACT_CENTER'
  | 'IOT'
  | 'OTHER';

/** What `events.record` takes: the `recordEvent` command's body. */
export type EventInput = (
  | { profileId: string; identities?: never }
  | { identities: Record<string, string | string[]>; profileId?: never }
) & {
  /** The event's name (`purchase`, `viewedPage`). */
  name: string;
  /** Your id for the event (a uuid); a fresh one is made when absent. */
  id?: string;
  /** Default `'OTHER'`. */
  context?: EventContext;
  /** Default `'ACTIVE'`. */
  mode?: 'ACTIVE' | 'PASSIVE';
  /** When it happened (RFC 3339 or a Date); now when absent. */
  happened?: string | Date;
  /** When the sender sent it. */
  sent?: string | Date;
  /** Typed like undeclared attributes; `null` values are dropped. */
  properties?: Record<string, JsonValue>;
  schemaVersion?: string;
};

/** What recording an event resolves to. */
export interface EventOutcome {
  /** The event's id. */
  event: string;
  /** The profile it landed on. */
  profile: string;
  /** Whether recording it created the profile. */
  created: boolean;
}

/** A stored event, in the shape `events.record` takes plus the time it was received. */
export interface CdpEvent {
  id: string;
  profileId: string;
  name: string;
  context: EventContext;
  mode: 'ACTIVE' | 'PASSIVE';
  /** RFC 3339 in UTC. */
  happened: string;
  sent: string | null;
  received: string;
  properties: Record<string, JsonValue>;
  schemaVersion: string | null;
}

/** What `events.query` takes: whose events, which, and which page. */
export type EventQuery = ({ profileId: string; identity?: never } | { identity: { type: string; value: string }; profileId?: never }) & {
  /** Only events of these names (each must have been recorded at least once). */
  names?: string[];
  /** Only events after this time (exclusive). */
  start?: string | Date;
  /** Only events before this time (exclusive). */
  end?: string | Date;
  /** Default `'desc'`: newest first. */
  sort?: 'asc' | 'desc';
  /** 1 to 100; default 25. */
  limit?: number;
  /** The `next` of the previous page. */
  cursor?: string | null;
};

/** One page of a list; `next` is the cursor of the following page, null on the last. */
export interface Page<T> {
  data: T[];
  next: string | null;
  /** The whole list's length, where it is known. */
  total?: number;
}

/** A computed trait: the `defineTrait` command's body. */
export interface TraitDefinition {
  name: string;
  aggregate: 'count' | 'sum' | 'min' | 'max' | 'avg' | 'first' | 'last' | 'distinctCount';
  /** The event name it folds. */
  event: string;
  /** The property it reads; needed by `sum`, `avg` and `distinctCount`. */
  property?: string;
  /** Only events of the last N seconds (or `windowDays` days). */
  windowSeconds?: number;
  windowDays?: number;
  /** Property filters: `[{ property, op, value }]`. */
  where?: Array<{ property: string; op: string; value?: JsonValue }>;
}

/** What defining, deleting or switching a trait or segment resolves to. */
export interface DefinitionOutcome {
  /** The trait's name or the segment's system title. */
  name: string;
  /** False when the state asked for was already in force. */
  changed: boolean;
}

/** A node of a segment rule (`{ op: 'and', rules: [...] }`, `{ op: 'equals', attribute, value }`, …; docs/config.md). */
export interface SegmentRule {
  op: string;
  [field: string]: JsonValue | undefined;
}

/** A segment: the `defineSegment` command's body. */
export interface SegmentDefinition {
  /** Letters, digits, `_`, `-` and `.`. */
  systemTitle: string;
  /** Default: the system title. */
  name?: string;
  description?: string;
  /** Default true. */
  active?: boolean;
  rule: SegmentRule;
}

/** A segment as `segments.list` and `segments.get` give it. */
export interface Segment extends Required<Omit<SegmentDefinition, 'rule'>> {
  rule: SegmentRule;
  /** Current members. */
  members: number;
  /** History counts (`segments.get` only). */
  counts?: { members: number; formerMembers: number; entries: number; exits: number };
}

/** A profile entering or leaving a segment. */
export interface MembershipEvent {
  type: 'enter' | 'exit';
  /** The segment's system title. */
  segment: string;
  /** The profile's id. */
  profile: string;
  /** RFC 3339 in UTC. */
  at: string;
}

/** Typed helpers for events. Each write resolves once durable. */
export interface Events {
  /** Records one event. Rejects with e.g. `events.invalid_event` (with `path`) or `events.unknown_profile`. */
  record(event: EventInput): Promise<EventOutcome>;
  /**
   * Records several events as one durable write, all or nothing; a refusal names the event by
   * `path` or `index`. 1 to 1,000 events a call, within the body limit (`maxBodyBytes`), as
   * `POST /cdp/v1/events`; `cdp.execute({ batch })` takes more.
   */
  recordMany(events: EventInput[]): Promise<EventOutcome[]>;
  /** One page of a profile's events. */
  query(query: EventQuery): Promise<Page<CdpEvent>>;
}

/** Typed helpers for computed traits. Each write resolves once durable. */
export interface Traits {
  /** Adds or replaces a trait. Rejects with `traits.invalid_definition` (with `path`). */
  define(definition: TraitDefinition): Promise<DefinitionOutcome>;
  list(): Promise<TraitDefinition[]>;
  /** The definition, or null when no trait has that name. */
  get(name: string): Promise<TraitDefinition | null>;
  /** Rejects with `traits.unknown`. */
  delete(name: string): Promise<DefinitionOutcome>;
  /** A profile's trait values by name. Rejects with `api.not_found` for an unknown profile. */
  valuesOf(profileId: string): Promise<Record<string, JsonValue>>;
}

/** Typed helpers for segments. Each write resolves once durable. */
export interface Segments {
  /** Adds or replaces a segment. Rejects with `segments.invalid_rule` naming the bad node's `path`. */
  define(definition: SegmentDefinition): Promise<DefinitionOutcome>;
  list(): Promise<Segment[]>;
  /** The segment, or null when none has that system title. */
  get(systemTitle: string): Promise<Segment | null>;
  /** The system titles of the segments a profile is a member of now. Rejects with `api.not_found` for an unknown profile. */
  of(profileId: string): Promise<string[]>;
  activate(systemTitle: string): Promise<DefinitionOutcome>;
  deactivate(systemTitle: string): Promise<DefinitionOutcome>;
  /** Rejects with `segments.unknown`. */
  delete(systemTitle: string): Promise<DefinitionOutcome>;
  /** Member profile ids, in creation order. */
  members(systemTitle: string, options?: { limit?: number; cursor?: string | null }): Promise<Page<string>>;
  /** Entries and exits, oldest first. */
  history(systemTitle: string, options?: { limit?: number; cursor?: string | null }): Promise<Page<MembershipEvent>>;
  /**
   * Calls `listener` for every entry and exit (of the titled segment, or of any) once the
   * write that caused it is durable: this engine's writes, and other tabs' with IndexedDB.
   * Returns the function that ends the subscription.
   */
  subscribe(listener: (event: MembershipEvent) => void): () => void;
  subscribe(systemTitle: string, listener: (event: MembershipEvent) => void): () => void;
}

/** An open engine. */
export declare class Cdp {
  private constructor();
  /**
   * Loads the engine (once per page or process), opens the named database and replays it.
   * Rejects with a CdpError: `cdp.invalid_argument`, `cdp.storage_unavailable`,
   * `cdp.load_failed`, or the engine's own code such as `config.invalid`.
   */
  static open(options?: CdpOptions): Promise<Cdp>;
  /** The database name this engine was opened with. */
  readonly name: string;
  /** Where this engine keeps its data. */
  readonly storage: StorageKind;
  /** Typed helpers for profiles. */
  readonly profiles: Profiles;
  /** Typed helpers for events. */
  readonly events: Events;
  /** Typed helpers for computed traits. */
  readonly traits: Traits;
  /** Typed helpers for segments and their entry/exit subscriptions. */
  readonly segments: Segments;
  /**
   * Sends one REST request to the engine: takes exactly what `fetch` takes (only the path
   * and query of the URL are used) and resolves with a real Response once any write is
   * durable. HTTP errors resolve as responses; only a call that cannot run rejects.
   */
  fetch(input: Request | string | URL, init?: RequestInit): Promise<Response>;
  /**
   * Answers one REST request given as plain strings: what `fetch` does without building
   * Request and Response objects, for code that speaks HTTP itself (`serve` uses it). The
   * headers are flat name/value pairs. Resolves once any write is durable with
   * `[status, headers, body]`, headers as flat pairs with lower-case names.
   */
  handle(method: string, target: string, headers?: string[], body?: string): Promise<[number, string[], string]>;
  /**
   * Runs one engine command given as its JSON object with exactly one key, the command's name
   * (`recordEvent`, `defineTrait`, `defineSegment`, `setSegmentActive`, `tick`,
   * `mergeProfiles`, `unmergeProfile`, `declareAttribute`, `writeAttributes`, …; see
   * docs/config.md), or a batch `{ batch: [command, …] }` applied as one write, all or none,
   * resolving to `{ results: [outcome, …] }`. Resolves with the outcome once the changes it
   * made are durable; rejects with the engine's code (e.g. `segments.invalid_rule`,
   * `identity.conflict`), plus `index` for the refused record of a batch.
   */
  execute(command: Record<string, unknown>): Promise<Record<string, unknown>>;
  /**
   * Replaces, at run time, the credentials of each dialect named. Tokens issued to removed or
   * changed keys stop working. Rejects with `config.invalid` for an unknown key.
   */
  setCredentials(credentials: Credentials): Promise<void>;
  /**
   * Exports all data as one NDJSON document streamed in pieces of whole lines: a header line
   * (`{"type":"header","format":1,"profiles":N,"offset":O}`), then one
   * `{"type":"profile",…}` line per profile.
   */
  export(options?: { profilesPerPiece?: number }): ReadableStream<string>;
  /**
   * Imports a document `export()` wrote, all or nothing. Rejects with `import.malformed_line`,
   * `import.unsupported_format` or `import.conflict` (with `line`), importing nothing.
   */
  import(source: ImportSource): Promise<ImportOutcome>;
  /** Where the stored data stands, and any corrupt snapshot the last load skipped. */
  storageInfo(): Promise<StorageInfo>;
  /** Writes a snapshot now and compacts the log (also happens on its own as the log grows). */
  snapshot(): Promise<void>;
  /** Closes the engine after the calls already issued; later calls reject with `cdp.closed`. */
  close(): Promise<void>;
  /**
   * Deletes a database (or, with `directory`, a Node data directory). Engines open on it
   * close themselves. Rejects with `storage.blocked` when a foreign connection holds it open.
   */
  static deleteDatabase(name: string, options?: { directory?: string }): Promise<void>;
}

/** Storage codes an engine call may reject with (or answer as 503 through `fetch`). */
export type CdpStorageErrorCode =
  | 'storage.unavailable'
  | 'storage.quota_exceeded'
  | 'storage.blocked'
  | 'storage.closed'
  | 'storage.corrupt'
  | 'storage.offset_expired'
  | 'storage.conflict'
  | 'storage.failed';

/** Codes the facade itself raises; the engine's own codes (e.g. `identity.conflict`) pass through. */
export type CdpFacadeErrorCode =
  | 'cdp.closed'
  | 'cdp.trapped'
  | 'cdp.invalid_argument'
  | 'cdp.storage_unavailable'
  | 'cdp.invalid_request'
  | 'cdp.aborted'
  | 'cdp.load_failed'
  | 'cdp.internal';

/** The one error type the package throws and rejects with. Match on `code`, not on `message`. */
export declare class CdpError extends Error {
  constructor(code: string, message: string, details?: { status?: number; line?: number; path?: string; index?: number; cause?: unknown });
  readonly name: 'CdpError';
  /** Stable machine code, e.g. `config.invalid`, `storage.failed`, `cdp.closed`. */
  readonly code: CdpFacadeErrorCode | CdpStorageErrorCode | (string & {});
  /** The line of an import document the error is about. */
  readonly line?: number;
  /** The JSON path of the node a refused document was refused at (`$.rule.rules[1].op`). */
  readonly path?: string;
  /** The record of a batch (`upsertMany`, `execute({ batch })`) the error is about, from 0. */
  readonly index?: number;
  /** HTTP status, when the error describes a response. */
  readonly status?: number;
}
