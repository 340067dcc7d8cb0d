/**
 * Loads and validates the YAML configuration. An error names the file, the key path and the reason,
 * e.g. `config.yaml: sources.opcua[0].endpoint: must start with opc.tcp://`.
 */
import { readFileSync, existsSync } from 'node:fs';
import { dirname, resolve, isAbsolute } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { configSchema, topologySchema, type Config, type TopologyConfig } from './schema.ts';

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

/** Replace `${NAME}` in every string with the environment variable NAME; a missing one is an error. */
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

function readYaml(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(file, [`cannot read: ${(e as Error).message}`]);
  }
  try {
    return parseYaml(text) ?? {};
  } catch (e) {
    throw new ConfigError(file, [(e as Error).message.split('\n')[0]]);
  }
}

export function parseTopology(raw: unknown, file: string): TopologyConfig {
  const r = topologySchema.safeParse(raw);
  if (!r.success) throw new ConfigError(file, formatZodIssues(r.error).map((m) => `topology.${m}`));
  return r.data;
}

/** Validate a configuration object (already read from a file, or built in code). */
export function parseConfig(raw: unknown, file = '(inline)', env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const missing: string[] = [];
  const substituted = substituteEnv(raw ?? {}, env, [], missing);
  if (missing.length) throw new ConfigError(file, missing);
  const r = configSchema.safeParse(substituted);
  if (!r.success) throw new ConfigError(file, formatZodIssues(r.error));
  const cfg = r.data;
  const baseDir = file.startsWith('(') ? process.cwd() : dirname(resolve(file));
  let topology: TopologyConfig;
  if (typeof cfg.topology === 'string') {
    const tfile = isAbsolute(cfg.topology) ? cfg.topology : resolve(baseDir, cfg.topology);
    topology = parseTopology(substituteEnv(readYaml(tfile), env), tfile);
    if (topology.map && !isAbsolute(topology.map)) topology = { ...topology, map: resolve(dirname(tfile), topology.map) };
  } else {
    topology = cfg.topology;
    if (topology.map && !isAbsolute(topology.map)) topology = { ...topology, map: resolve(baseDir, topology.map) };
  }
  const dataDir = isAbsolute(cfg.dataDir) ? cfg.dataDir : resolve(baseDir, cfg.dataDir);
  const problems = checkProductionSafety({ ...cfg, topology, dataDir, file });
  if (problems.length) throw new ConfigError(file, problems);
  return { ...cfg, topology, dataDir, file };
}

/** Load `file`, or the defaults when no file is given (the embedded demo). */
export function loadConfig(file?: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  if (!file) return parseConfig({}, '(defaults)', env);
  if (!existsSync(file)) throw new ConfigError(file, ['file not found']);
  return parseConfig(readYaml(file), file, env);
}

/**
 * Production mode refuses the shortcuts demo mode allows: no broker without credentials when it
 * listens beyond loopback, no TLS without verification, no dashboard without a configured admin
 * (demo mode creates demo users instead).
 */
function checkProductionSafety(cfg: LoadedConfig): string[] {
  if (cfg.mode !== 'production') return [];
  const out: string[] = [];
  const loopback = (h: string) => h === '127.0.0.1' || h === 'localhost' || h === '::1';
  if (cfg.broker.url === 'embedded' && !loopback(cfg.broker.host) && !cfg.broker.password) {
    out.push('broker: an embedded broker listening beyond loopback needs a username and password in production mode');
  }
  if (!cfg.auth.admin) {
    out.push('auth.admin: production mode needs a configured administrator (auth: { admin: { username: admin, password: ${AQUAWATCH_ADMIN_PASSWORD} } })');
  }
  if (cfg.broker.tls && !cfg.broker.tls.rejectUnauthorized) out.push('broker.tls.rejectUnauthorized: must be true in production mode');
  for (const [i, s] of cfg.sources.mqtt.entries()) {
    if (s.broker?.tls && s.broker.tls.rejectUnauthorized === false) out.push(`sources.mqtt[${i}].broker.tls.rejectUnauthorized: must be true in production mode`);
  }
  return out;
}
