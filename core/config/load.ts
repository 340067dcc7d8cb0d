/**
 * Loads and validates the YAML configuration. An error names the file, the key path and the reason,
 * e.g. `config.yaml: sources.opcua[0].endpoint: must start with opc.tcp://`.
 */
import { readFileSync, existsSync } from 'node:fs';
import { dirname, resolve, isAbsolute } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { configSchema, topologySchema, type Config, type TopologyConfig } from './schema.ts';
import { buildConfigSchema, buildTopologySchema, duplicateAddresses, type SourceConfigDescriptor } from './sources.ts';

export class ConfigError extends Error {
  constructor(readonly file: string, readonly issues: string[]) {
    super(`${file}: ${issues.join('; ')}`);
    this.name = 'ConfigError';
  }
}

/** A loaded configuration: validated, secrets substituted, topology resolved, paths absolute. */
export interface LoadedConfig extends Omit<Config, 'topology'> {
  topology: TopologyConfig;
  /** The file it came from, or '(defaults)'. */
  file: string;
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || '(root)';
}

export function formatZodIssues(error: z.ZodError): string[] {
  return error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`);
}

/** Replace `${NAME}` in every string with the environment variable NAME; a missing one is an error (parseConfig: not in the topology). */
export function substituteEnv(value: unknown, env: NodeJS.ProcessEnv, path: PropertyKey[] = [], missing: string[] = []): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
      const v = env[name];
      if (v === undefined) {
        missing.push(`${formatPath(path)}: environment variable ${name} is not set`);
        return '';
      }
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, env, [...path, i], missing));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = substituteEnv(v, env, [...path, k], missing);
    return out;
  }
  return value;
}

const ENV_REFERENCE = /\$\{[A-Za-z_][A-Za-z0-9_]*\}/;

/**
 * Every string of a topology that names a variable, as a refusal naming its key. The topology is not
 * substituted (review L7): one prepared elsewhere (a GIS export) could pull `${INFLUXDB_TOKEN}` into a
 * sensor name that every viewer sees.
 */
function envReferencesInTopology(value: unknown, path: PropertyKey[] = ['topology']): string[] {
  if (typeof value === 'string') {
    const ref = ENV_REFERENCE.exec(value);
    return ref ? [`${formatPath(path)}: ${ref[0]} is not substituted in the topology (variables are for the config's secrets); write the value itself`] : [];
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => envReferencesInTopology(v, [...path, i]));
  if (isObject(value)) return Object.entries(value).flatMap(([k, v]) => envReferencesInTopology(v, [...path, k]));
  return [];
}

/** `${NAME}` references in a section left unsubstituted whose variable is not set. */
function unsetReferences(value: unknown, env: NodeJS.ProcessEnv, path: PropertyKey[]): string[] {
  const missing: string[] = [];
  substituteEnv(value, env, path, missing);
  return missing;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

function readYaml(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(file, [`cannot read: ${(e as Error).message}`]);
  }
  try {
    // JSON is YAML, and JSON.parse reads a 100,000-meter topology (14 MB) some 20 times faster
    return (/\.json$/i.test(file) ? JSON.parse(text) : parseYaml(text)) ?? {};
  } catch (e) {
    throw new ConfigError(file, [(e as Error).message.split('\n')[0]]);
  }
}

/** Validate a topology; with `sources`, each sensor address is checked by its source's schema. */
export function parseTopology(raw: unknown, file: string, sources?: readonly SourceConfigDescriptor[]): TopologyConfig {
  const r = (sources ? buildTopologySchema(sources) : topologySchema).safeParse(raw);
  if (!r.success) throw new ConfigError(file, formatZodIssues(r.error).map((m) => `topology.${m}`));
  return r.data;
}

/**
 * Validate a configuration object (already read from a file, or built in code). `sources` are the
 * source descriptors (ingest/sources/registry.ts) that check `sources.*` and the sensor addresses;
 * without them only the platform's own keys are checked, and ingest checks its part when it starts.
 * `detectors` (with `sources`) is the schema of `analytics.detectors` (analytics/detectors/options.ts);
 * without it analytics checks the sections when it builds the detectors.
 */
export function parseConfig(raw: unknown, file = '(inline)', env: NodeJS.ProcessEnv = process.env, sources?: readonly SourceConfigDescriptor[],
  detectors?: z.ZodType<Record<string, unknown>>): LoadedConfig {
  const missing: string[] = [];
  // `notify:` keeps its `${NAME}` secrets as references (the notifier resolves them when built, so
  // no key sits in the loaded config); a variable it names must still be set. An inline topology is
  // not substituted at all, and refused when it names a variable.
  const { notify, topology: rawTopology, ...rest } = isObject(raw) ? raw : {} as Record<string, unknown>;
  const inlineRaw = isObject(rawTopology) ? rawTopology : undefined;
  // not an object (a YAML scalar or list): left to the schema to refuse
  const substituted: unknown = !isObject(raw) ? substituteEnv(raw ?? {}, env, [], missing) : {
    ...substituteEnv(rest, env, [], missing) as object,
    ...(rawTopology === undefined ? {} : { topology: inlineRaw ?? substituteEnv(rawTopology, env, ['topology'], missing) }),
    ...(notify === undefined ? {} : { notify }),
  };
  if (notify !== undefined) missing.push(...unsetReferences(notify, env, ['notify']));
  if (inlineRaw) missing.push(...envReferencesInTopology(inlineRaw));
  if (missing.length) throw new ConfigError(file, missing);
  // An inline topology is checked on its own: inside the file-or-object union zod would report
  // only "topology: Invalid input", not which sensor is wrong.
  const inline = inlineRaw;
  const r = (sources ? buildConfigSchema(sources, detectors) : configSchema).safeParse(inline ? { ...substituted as object, topology: undefined } : substituted);
  const problems = r.success ? [] : formatZodIssues(r.error);
  let inlineTopology: TopologyConfig | undefined;
  if (inline) {
    try { inlineTopology = parseTopology(inline, file, sources); } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      problems.push(...e.issues);
    }
  }
  if (!r.success || problems.length) throw new ConfigError(file, problems);
  const cfg = r.data;
  const baseDir = file.startsWith('(') ? process.cwd() : dirname(resolve(file));
  let topology: TopologyConfig;
  if (inlineTopology || typeof cfg.topology !== 'string') {
    topology = inlineTopology ?? cfg.topology as TopologyConfig;
    if (topology.map && !isAbsolute(topology.map)) topology = { ...topology, map: resolve(baseDir, topology.map) };
  } else {
    const tfile = isAbsolute(cfg.topology) ? cfg.topology : resolve(baseDir, cfg.topology);
    const rawFileTopology = readYaml(tfile);
    const references = envReferencesInTopology(rawFileTopology);
    if (references.length) throw new ConfigError(tfile, references);
    topology = parseTopology(rawFileTopology, tfile, sources);
    if (topology.map && !isAbsolute(topology.map)) topology = { ...topology, map: resolve(dirname(tfile), topology.map) };
  }
  const dataDir = isAbsolute(cfg.dataDir) ? cfg.dataDir : resolve(baseDir, cfg.dataDir);
  const loaded = { ...cfg, topology, dataDir, file };
  const unsafe = [
    ...(sources ? duplicateAddresses(topology, sources) : []),
    ...checkDemoOnLoopback(loaded),
    ...checkProductionSafety(loaded),
    ...(cfg.mode === 'production' && sources
      ? sources.flatMap((s) => s.productionProblems?.((cfg.sources as Record<string, unknown>)[s.type]) ?? []) : []),
  ];
  if (unsafe.length) throw new ConfigError(file, unsafe);
  cfg.broker.anonymous ??= cfg.mode === 'production' ? 'refuse' : 'devices';
  return { ...cfg, topology, dataDir, file };
}

/** Load `file`, or the defaults when no file is given (the embedded demo). `sources`, `detectors`: see parseConfig. */
export function loadConfig(file?: string, env: NodeJS.ProcessEnv = process.env, sources?: readonly SourceConfigDescriptor[],
  detectors?: z.ZodType<Record<string, unknown>>): LoadedConfig {
  if (!file) return parseConfig({}, '(defaults)', env, sources, detectors);
  if (!existsSync(file)) throw new ConfigError(file, ['file not found']);
  return parseConfig(readYaml(file), file, env, sources, detectors);
}

const isLoopback = (h: string) => h === '127.0.0.1' || h === 'localhost' || h === '::1' || /^127\./.test(h);

/**
 * Demo mode (the default when a file says no `mode:`) creates accounts whose passwords are printed
 * on the sign-in page and trusts unknown OPC UA servers: it may listen on loopback only. A config
 * that binds anywhere else must say `mode: production` and meet its checks.
 */
function checkDemoOnLoopback(cfg: LoadedConfig): string[] {
  if (cfg.mode === 'production') return [];
  const out: string[] = [];
  const why = 'demo mode (the default without `mode:`) listens on loopback only: its demo accounts\' passwords are public; set `mode: production` with auth.admin to serve other machines';
  if (!isLoopback(cfg.http.host)) out.push(`http.host: ${cfg.http.host}: ${why}`);
  if (cfg.broker.url === 'embedded' && !isLoopback(cfg.broker.host)) out.push(`broker.host: ${cfg.broker.host}: ${why}`);
  return out;
}

/**
 * Production mode refuses the shortcuts demo mode allows: no anonymous clients on the embedded
 * broker (loopback included: any local process could write a device's readings), no embedded broker
 * without credentials and TLS when it listens beyond loopback, no TLS without verification, no
 * dashboard without a configured admin (demo mode creates demo users instead).
 */
function checkProductionSafety(cfg: LoadedConfig): string[] {
  if (cfg.mode !== 'production') return [];
  const out: string[] = [];
  if (cfg.broker.url === 'embedded' && cfg.broker.anonymous === 'devices') {
    out.push('broker.anonymous: devices: production mode refuses anonymous clients on the embedded broker, on loopback too; give each device a broker.users entry (a password, or a client certificate with broker.tls.requestClientCertificate) and leave broker.anonymous out (or set it to refuse)');
  }
  const embeddedBeyondLoopback = cfg.broker.url === 'embedded' && !isLoopback(cfg.broker.host);
  if (embeddedBeyondLoopback && !cfg.broker.password) {
    out.push('broker: an embedded broker listening beyond loopback needs a username and password in production mode');
  }
  if (embeddedBeyondLoopback && !(cfg.broker.tls?.cert && cfg.broker.tls.key)) {
    out.push(`broker.tls: an embedded broker listening beyond loopback (broker.host: ${cfg.broker.host}) needs broker.tls: { cert, key } in production mode, so that passwords and readings do not cross the network in clear text`);
  }
  if (!cfg.auth.admin) {
    out.push('auth.admin: production mode needs a configured administrator (auth: { admin: { username: admin, password: "${AQUAWATCH_ADMIN_PASSWORD}" } })');
  }
  if (cfg.broker.tls && !cfg.broker.tls.rejectUnauthorized) out.push('broker.tls.rejectUnauthorized: must be true in production mode');
  for (const path of unverifiedTls(cfg.sources, ['sources'])) out.push(`${formatPath(path)}.tls.rejectUnauthorized: must be true in production mode`);
  for (const path of plainBrokersWithCredentials({ broker: cfg.broker, sources: cfg.sources }, [])) {
    out.push(`${formatPath(path)}.url: credentials over plain mqtt:// travel in clear text to a broker beyond loopback; use mqtts:// (with tls: { ca } for a private CA) in production mode`);
  }
  if (!isLoopback(cfg.http.host) && !cfg.http.tls && !cfg.http.behindTlsProxy) {
    out.push(`http.host: ${cfg.http.host}: production mode serves the dashboard and the ingest API (session cookies, PDA bearer tokens) beyond loopback over HTTPS only: set http.tls: { cert, key }, or http.behindTlsProxy: true when a proxy in front terminates TLS`);
  }
  return out;
}

/**
 * Paths of every broker block (`{ url: 'mqtt://…' }`, the platform's or a source's) whose URL is
 * plain MQTT to a host beyond loopback and which carries credentials (its own keys, or user:pass@ in the URL).
 */
function plainBrokersWithCredentials(value: unknown, path: PropertyKey[]): PropertyKey[][] {
  if (!value || typeof value !== 'object') return [];
  const o = value as Record<string, unknown>;
  let here: PropertyKey[][] = [];
  if (typeof o.url === 'string' && /^(mqtt|ws):\/\//i.test(o.url)) {
    let url: URL | undefined;
    try { url = new URL(o.url); } catch { url = undefined; }
    const credentials = Boolean(o.username || o.password || url?.username || url?.password);
    if (url && credentials && !isLoopback(url.hostname.replace(/^\[|\]$/g, ''))) here = [path];
  }
  return [...here, ...Object.entries(o).flatMap(([k, v]) => plainBrokersWithCredentials(v, [...path, Array.isArray(o) ? Number(k) : k]))];
}

/** Paths of every `tls: { rejectUnauthorized: false }` in a source section, whatever the source. */
function unverifiedTls(value: unknown, path: PropertyKey[]): PropertyKey[][] {
  if (!value || typeof value !== 'object') return [];
  const o = value as Record<string, unknown>;
  const tls = o.tls as { rejectUnauthorized?: unknown } | undefined;
  const here = tls && typeof tls === 'object' && tls.rejectUnauthorized === false ? [path] : [];
  return [...here, ...Object.entries(o).flatMap(([k, v]) => unverifiedTls(v, [...path, Array.isArray(o) ? Number(k) : k]))];
}
