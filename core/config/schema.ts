/**
 * The configuration file's shape, validated with zod. Every key has a default where a safe one
 * exists, so that an empty file (or none) starts the embedded platform. Secrets are never
 * written here in production: `${ENV_VAR}` in any string is replaced from the environment
 * (see load.ts), so the file can be committed and the secret kept in the service's environment.
 * `notify:` is the exception: its secrets stay references until the notifier is built.
 */
import { z } from 'zod';
import { ALARM_PRIORITIES, type AlarmPriority } from '../state/alarm-store.ts';
import { KINDS } from '../model/units.ts';
import { notifyConfigSchema } from './notify.ts';
import { calendarSchema } from './calendar.ts';

/** An identifier: sensor, site, DMA, source name. */
export const idSchema = z.string().min(1).max(128).regex(/^[A-Za-z0-9_.:\-]+$/, 'letters, digits and _ . : - only');

const id = idSchema;

export const tlsSchema = z.object({
  /** PEM files. */
  ca: z.string().optional(),
  cert: z.string().optional(),
  key: z.string().optional(),
  /** Verify the peer's certificate against `ca` (or the system store). Off only in demo mode. */
  rejectUnauthorized: z.boolean().default(true),
}).strict();

export const thresholdsSchema = z.object({
  low: z.number().optional(),
  high: z.number().optional(),
  lowLow: z.number().optional(),
  highHigh: z.number().optional(),
}).strict();

/**
 * Where a sensor's values come from. One sensor, one address. Each source declares the addresses
 * it reads (ingest/sources/<name>/config.ts, listed in ingest/sources/registry.ts); without that
 * registry an address is checked for its `type` only, and `buildConfigSchema` (sources.ts) puts the
 * sources' own address schemas in its place. `derived` is the platform's: values analytics computes.
 */
export const sourceAddressSchema = z.object({ type: z.string().min(1) }).catchall(z.unknown());

/** Values the platform computes itself rather than reads from a source. */
export const derivedAddressSchema = z.object({ type: z.literal('derived') }).strict();

export const sensorSchema = z.object({
  id,
  name: z.string().optional(),
  kind: z.enum(KINDS),
  /** Unit the source sends; the pipeline converts to the kind's canonical unit. */
  unit: z.string().optional(),
  site: id,
  dma: id.optional(),
  /** Where in the network: a junction or link of the hydraulic model, and map coordinates. */
  node: z.string().optional(),
  x: z.number().optional(),
  y: z.number().optional(),
  /** plant-outlet or network (water-quality limits differ by place); network-end for pressure compliance. */
  place: z.enum(['plant-outlet', 'network', 'network-end', 'inlet', 'tank', 'pump-station']).default('network'),
  source: sourceAddressSchema.optional(),
  /** Expected seconds between readings; a sensor silent for 3 intervals is stale. */
  intervalS: z.number().positive().default(60),
  thresholds: thresholdsSchema.optional(),
}).strict();

export const siteSchema = z.object({
  id,
  name: z.string().optional(),
  kind: z.enum(['plant', 'pump-station', 'reservoir', 'network']).default('network'),
  timezone: z.string().optional(),
  /** DMAs this plant or pump station (and its tanks) feeds: a trip here warns of outages there. */
  supplies: z.array(id).optional(),
}).strict();

/**
 * A tank inside a DMA: its level sensor and its geometry, so the water balance can take the water
 * stored or drawn (net demand = Σ inlets − Σ outlets − Σ dV/dt). Exactly one of: a cylinder's
 * diameter, a constant plan area, or a volume curve (level m → volume m³, levels ascending).
 */
export const dmaTankSchema = z.object({
  /** The tank's level sensor (kind level). */
  level: id,
  diameterM: z.number().positive().optional(),
  areaM2: z.number().positive().optional(),
  /** [level m, volume m³] pairs, levels ascending; linear between them, extended by the end slopes. */
  volumeCurve: z.array(z.tuple([z.number(), z.number().min(0)])).min(2).optional(),
}).strict().superRefine((t, ctx) => {
  const given = [t.diameterM, t.areaM2, t.volumeCurve].filter((g) => g !== undefined).length;
  if (given !== 1) ctx.addIssue({ code: 'custom', message: 'give exactly one of diameterM, areaM2 and volumeCurve' });
  t.volumeCurve?.forEach(([level], i) => {
    if (i > 0 && !(level > t.volumeCurve![i - 1][0])) ctx.addIssue({ code: 'custom', path: ['volumeCurve', i], message: 'levels must be ascending' });
  });
});

export const dmaSchema = z.object({
  id,
  name: z.string().optional(),
  /** Flow sensors whose flow enters the DMA (net inflow = Σ inlets − Σ outlets − Σ dV/dt of its tanks). */
  inlets: z.array(id).default([]),
  outlets: z.array(id).default([]),
  /** Tanks inside the DMA: water filling them is not demand, water they release is (analytics/dma-inflow.ts). */
  tanks: z.array(dmaTankSchema).optional(),
  /**
   * Window over which the storage change is taken, minutes: the net demand of a DMA with tanks is
   * the mean over this window, flows and level alike. Long enough that the level's resolution
   * (1 cm × the tank's area) stays small against the flows (a 16 m cylinder: 2 m³ per cm, 4 m³/h
   * over 30 min); short enough that a burst still shows within the burst detector's delay. Default 30.
   */
  tankWindowMin: z.number().min(1).max(360).optional(),
  customers: z.number().int().min(0).default(0),
  /** Legitimate night use per property, L/property/h (domain.md). */
  nightUseLPerPropertyH: z.number().min(0).default(1.7),
  /** Polygon or centre for the area map, in the network's coordinates. */
  x: z.number().optional(),
  y: z.number().optional(),
}).strict();

export const meterSchema = z.object({
  id,
  customer: z.string().min(1),
  dma: id.optional(),
  address: z.string().optional(),
  /** Active accounts are expected to use water; a closed account may read zero. */
  active: z.boolean().default(true),
  /** Large (enterprise) customers may see their own consumption live. */
  large: z.boolean().default(false),
  /**
   * Where the meter is, in the network map's coordinates: a polygon drawn on the map selects the
   * meters inside it (an incident's affected part). A meter without a position can still be picked.
   */
  x: z.number().optional(),
  y: z.number().optional(),
  /** The customer's mobile for outage notices by SMS (E.164); a customer without one is not texted. */
  phone: z.string().regex(/^\+\d{8,15}$/, 'E.164, e.g. +8613800000000').optional(),
  /** The language of the customer's notices (default zh-CN). */
  language: z.enum(['zh-CN', 'en']).optional(),
}).strict().refine((m) => (m.x === undefined) === (m.y === undefined), { message: 'give both x and y, or neither', path: ['x'] });

export const topologySchema = z.object({
  sites: z.array(siteSchema).default([]),
  dmas: z.array(dmaSchema).default([]),
  sensors: z.array(sensorSchema).default([]),
  meters: z.array(meterSchema).default([]),
  /**
   * The network drawn on the dashboard's area map: a JSON file `{ links: [{ id?, dma?, points: [[x, y], …] }] }`
   * in the network's own coordinates (the simulators write one from the .inp). With the model's link
   * ids it is also the network model `aquawatch analyze --truth` places a repair log's pipes with. Relative paths are
   * resolved against the topology file (or the config file when the topology is inline).
   */
  map: z.string().min(1).optional(),
}).strict();

const influxUserSchema = z.object({ username: z.string().min(1), password: z.string() }).strict();

export const storeSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('sqlite'),
    /** File of the embedded store; relative paths are under dataDir. */
    path: z.string().default('tsdb.sqlite'),
    /**
     * Days of data kept (core/tsdb/sqlite-retention.ts), counted back from each measurement's newest
     * reading (or now, when earlier); 0 keeps everything. One number for every measurement, or
     * `readings` (the quantity kinds; default 400: a year-on-year KPI needs the same month a year
     * back), `derived` (analytics' series; default 800) and `measurements` (per measurement name).
     */
    retentionDays: z.union([
      z.number().min(0),
      z.object({
        readings: z.number().min(0).optional(),
        derived: z.number().min(0).optional(),
        measurements: z.record(z.string().min(1), z.number().min(0)).optional(),
      }).strict(),
    ]).optional(),
  }).strict(),
  z.object({
    type: z.literal('influxdb1'),
    url: z.string().url().default('http://127.0.0.1:8086'),
    /** The readings (ingest writes them). */
    database: z.string().default('aquawatch'),
    /**
     * Analytics' derived series in a database of their own, so the service that computes them
     * needs write rights there only, never on the readings. Reads look in both.
     */
    derivedDatabase: z.string().min(1).optional(),
    /** One user for reads and writes; or, least privilege, `reader` and `writer` instead. */
    username: z.string().optional(),
    password: z.string().optional(),
    /** The user reads go with (READ on database and derivedDatabase). */
    reader: influxUserSchema.optional(),
    /** The user writes go with (WRITE on the database this service writes to). */
    writer: influxUserSchema.optional(),
    /** Create the database on start when it is missing. */
    createDatabase: z.boolean().default(true),
    timeoutMs: z.number().int().positive().default(10_000),
  }).strict().refine((s) => s.username === undefined || (s.reader === undefined && s.writer === undefined),
    { message: 'give either username/password (one user for everything) or reader/writer, not both', path: ['username'] }),
  z.object({
    type: z.literal('influxdb2'),
    url: z.string().url().default('http://127.0.0.1:8086'),
    org: z.string().default('aquawatch'),
    bucket: z.string().default('aquawatch'),
    /**
     * Analytics' derived series in a bucket of their own, so the write token analytics holds can be
     * scoped to that bucket and never write readings. Reads look in both.
     */
    derivedBucket: z.string().min(1).optional(),
    /** One token for reads and writes; or, least privilege, `readToken` and `writeToken` instead. */
    token: z.string().min(1).optional(),
    /** A token with read permission on the bucket only. */
    readToken: z.string().min(1).optional(),
    /** A token with write permission on the bucket only. */
    writeToken: z.string().min(1).optional(),
    timeoutMs: z.number().int().positive().default(10_000),
  }).strict().refine((s) => (s.token !== undefined) !== (s.readToken !== undefined || s.writeToken !== undefined),
    { message: 'give either token (one for everything) or readToken/writeToken', path: ['token'] }),
]);

/** A topic filter a device may publish to: never one that can reach the platform's `aquawatch/#`. */
const deviceTopicFilter = z.string().min(1).refine((f) => !['aquawatch', '+', '#'].includes(f.split('/')[0]),
  'must not reach the platform\'s topics (aquawatch/#): start with a literal level of the device\'s own');

export const brokerSchema = z.object({
  /** `embedded` runs an aedes broker inside the process; otherwise an mqtt:// or mqtts:// URL. */
  url: z.string().default('embedded'),
  /** For the embedded broker. Loopback unless exposing it is an explicit choice. */
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(1883),
  username: z.string().optional(),
  password: z.string().optional(),
  /**
   * A broker URL: `ca` (and a client certificate) to verify it. The embedded broker: its own `cert`
   * and `key`, and it then listens for `mqtts://` only (production needs them beyond loopback);
   * `ca` verifies it for the platform's own clients, which connect to it like any other. With
   * `requestClientCertificate: true` the embedded broker also asks each client for a certificate
   * signed by `ca` (the utility's CA): a device that shows one signs in as the `users` entry
   * named by its common name (CN), with no password.
   */
  tls: tlsSchema.extend({ requestClientCertificate: z.boolean().optional() }).strict().optional(),
  /**
   * Embedded broker: devices and integrations, each limited to its own topic filters; only the
   * platform (username/password above) may publish on `aquawatch/#`. Mosquitto gets the same from
   * deploy/mosquitto (passwd and ACL generated from the environment).
   */
  users: z.array(z.object({
    /** The device's user name, or the common name (CN) of its client certificate. */
    username: z.string().min(1),
    /** Absent: the device signs in by its client certificate only (broker.tls.requestClientCertificate). */
    password: z.string().min(1).optional(),
    publish: z.array(deviceTopicFilter).default([]),
    subscribe: z.array(z.string().min(1)).default([]),
  }).strict()).default([]),
  /**
   * Embedded broker: clients without a username or certificate act as devices (`devices`) or are
   * refused (`refuse`). Left out: `devices` in demo mode, `refuse` in production mode, which refuses
   * `devices` (core/config/load.ts).
   */
  anonymous: z.enum(['devices', 'refuse']).optional(),
}).strict().superRefine((broker, ctx) => {
  broker.users.forEach((u, i) => {
    if (u.password === undefined && !broker.tls?.requestClientCertificate) {
      ctx.addIssue({ code: 'custom', path: ['users', i, 'password'], message: `${u.username} has no password and broker.tls.requestClientCertificate is off: it could never sign in` });
    }
  });
});

export const ingestSchema = z.object({
  /** Group commit to the outbox: at most this many readings or this long. */
  batchMaxSize: z.number().int().positive().default(5000),
  batchMaxDelayMs: z.number().int().min(0).default(50),
  /** Store writes: readings per write request. */
  writeBatchSize: z.number().int().positive().default(5000),
  /** Outbox bound in readings; when full, sources are refused (and MQTT does not acknowledge). */
  outboxMaxReadings: z.number().int().positive().default(5_000_000),
  outboxPath: z.string().default('outbox.sqlite'),
  /** A reading time further ahead than this is rejected (clock error at the source). */
  maxFutureMs: z.number().int().min(0).default(5 * 60_000),
  /**
   * A reading from a live source (OPC UA, MQTT, Sparkplug B, PDA) older than this is rejected (review
   * F16: a device whose RTC reset, data past the store's retention); `aquawatch import` is not limited.
   * 45 days: a logger buffers weeks of data through a comms outage, a meter round is uploaded weeks
   * late, and it is the PDA's own default limit (`sources.pda.maxAgeDays`), which it would otherwise cut.
   */
  maxAgeHours: z.number().positive().default(45 * 24),
  /** Readings with this (sensor, ts) seen within the window are dropped as duplicates. */
  dedupeWindow: z.number().int().min(0).default(16),
  /** Publish accepted readings to aquawatch/v1/telemetry/<dma>. */
  publishToBus: z.boolean().default(true),
  /**
   * The `ingest.disk_low` condition (review F24): raised when free space on the filesystem of the
   * data directory, the outbox or the embedded store falls below either floor (0 turns a floor off),
   * cleared once it is 10 % above both again. Checked every `diskCheckMs`.
   */
  diskFreeFloorMiB: z.number().min(0).default(1024),
  diskFreeFloorPercent: z.number().min(0).max(100).default(5),
  diskCheckMs: z.number().int().positive().default(60_000),
}).strict();

export const authSchema = z.object({
  /**
   * The first administrator, created with this password at the first start; later starts keep a password
   * changed in the dashboard (with a warning) unless `resetPassword: true`. Required in production mode;
   * the password usually comes from the environment: `password: ${AQUAWATCH_ADMIN_PASSWORD}`.
   */
  admin: z.object({
    username: z.string().regex(/^[A-Za-z0-9_.\-]{2,64}$/, '2-64 letters, digits or _ . -').default('admin'),
    displayName: z.string().optional(),
    password: z.string().min(12, 'must be at least 12 characters'),
    /** Set the stored password back to `password` at start (a forgotten one) and end the admin's sessions. */
    resetPassword: z.boolean().default(false),
  }).strict().optional(),
  /**
   * A list of breached or common passwords the utility keeps (review L1): one per line, plain (e.g.
   * from SecLists) or SHA-1 hex sorted by hash (Have I Been Pwned's `HASH:COUNT` file); relative to
   * the config file. A new password found in it is refused, besides the built-in rules.
   */
  breachedPasswordFile: z.string().min(1).optional(),
  /** A dashboard session unused this long expires. */
  sessionIdleMinutes: z.number().int().min(1).max(7 * 24 * 60).default(720),
  /** A dashboard session ends this long after sign-in however much it is used (a stolen cookie kept busy). */
  sessionMaxHours: z.number().int().min(1).max(30 * 24).default(24),
}).strict();

/** The state database (alarms, outages, users, sessions, work orders, device tokens): core/state/state-db.ts. */
export const stateSchema = z.object({
  /** Relative to dataDir. Give ingest and server the same file in a split deployment (device tokens). */
  path: z.string().min(1).default('state.sqlite'),
}).strict();

/** An alarm rule per condition type (exact, or a prefix ending in `*`; `default` for the rest). */
export const alarmRuleSchema = z.object({
  /** A raise must hold this long before it becomes an alarm. */
  onDelayMs: z.number().min(0).optional(),
  /** A clear must hold this long before the alarm returns to normal. */
  offDelayMs: z.number().min(0).optional(),
  /** Priority when the condition carries none. */
  priority: z.enum(ALARM_PRIORITIES as [AlarmPriority, ...AlarmPriority[]]).optional(),
}).strict();

/**
 * Conditions of a child type in the same DMA as an alarm of a parent type, within `windowMs` of it,
 * are linked to it as secondaries (types exact, or a prefix ending in `*`).
 */
export const linkRuleSchema = z.object({
  parentTypes: z.array(z.string().min(1)).min(1),
  childTypes: z.array(z.string().min(1)).min(1),
  windowMs: z.number().min(0),
}).strict();

/**
 * Tuning of analytics (analytics/compose.ts): `alarms.rules` (on/off delays and priority by
 * condition type) and `alarms.links` (default: a burst's pressure conditions are its secondaries)
 * feed the alarm manager; `detectors.<name>` the detectors, each section checked by the detector's
 * own schema when the schema is built with analytics' (buildConfigSchema in sources.ts).
 */
export const analyticsSchema = z.object({
  alarms: z.object({
    rules: z.record(z.string(), alarmRuleSchema).default({}),
    /** Replaces the default link rules when given. */
    links: z.array(linkRuleSchema).optional(),
  }).strict().default({ rules: {} }),
  detectors: z.record(z.string(), z.unknown()).default({}),
  /**
   * The longest one sensor whose clock is behind (its readings all arrive older than the analysis
   * time) may hold back the analysis, and so the alarms, of every other sensor. Past it the sensor
   * is left out, `sensor_clock_skew` is raised for it, and the others are analysed on.
   */
  sensorClockLagMinutes: z.number().positive().max(24 * 60).default(10),
}).strict();

/**
 * How people's incidents follow the detectors (dashboard/server/incident-service.ts): a DMA whose
 * network-end pressure stays below the minimum this long gets a low-pressure incident (供水不足); an
 * outage this long opens an emergency-supply record (seeds: 24 h); a burst alarm of one of these
 * priorities opens a work order by itself (a lower one waits for a dispatcher's decision).
 */
export const incidentsSchema = z.object({
  lowPressureMinutes: z.number().positive().max(24 * 60).default(30),
  emergencySupplyHours: z.number().positive().max(24 * 30).default(24),
  burstWorkOrderPriorities: z.array(z.enum(ALARM_PRIORITIES as [AlarmPriority, ...AlarmPriority[]])).default(['high', 'critical']),
  /**
   * Caps on a planned outage entered in the dashboard (review F18: it suppresses the dispatchers'
   * pressure alarms in its areas and is published): its length, how far ahead it may start, its DMAs.
   */
  plannedMaxHours: z.number().positive().max(24 * 30).default(72),
  plannedMaxLeadDays: z.number().positive().max(366).default(30),
  plannedMaxDmas: z.number().int().min(1).max(100).default(10),
  /**
   * A detected outage or low-pressure area reaches the public page once an operator has acknowledged
   * its alarm, or after this many minutes (review L8: a false detection is not a public notice at
   * once, nor does the page show an attacker the effect of an attack live); 0 publishes at once.
   */
  publicDelayMinutes: z.number().int().min(0).max(24 * 60).default(30),
}).strict();

/** A rate of compensation: an amount (in `compensation.currency`) per minute or per hour. */
export const compensationRateSchema = z.object({
  amount: z.number().min(0),
  per: z.enum(['minute', 'hour']),
}).strict();

/**
 * Compensation for interrupted (停水) or insufficient (供水不足, low pressure) supply (昆明 item 19,
 * 三亚 item 六), per customer and period (analytics/kpi/compensation.ts): a rate for each kind, the
 * minutes of each interruption that are not paid (compensation starts after them), the causes that
 * are never compensated (default: the Sanya exclusions) and, optionally, a separate rate for planned
 * outages notified at least `noticeHours` ahead (usually 0). Amounts are 0 until the utility sets rates.
 */
export const compensationSchema = z.object({
  currency: z.string().min(1).max(8).default('CNY'),
  outage: z.object({
    rate: compensationRateSchema.default({ amount: 0, per: 'hour' }),
    minimumMinutes: z.number().min(0).max(30 * 24 * 60).default(0),
  }).strict().prefault({}),
  lowPressure: z.object({
    rate: compensationRateSchema.default({ amount: 0, per: 'hour' }),
    minimumMinutes: z.number().min(0).max(30 * 24 * 60).default(0),
  }).strict().prefault({}),
  plannedWithNotice: z.object({
    noticeHours: z.number().min(0).max(30 * 24).default(24),
    rate: compensationRateSchema.default({ amount: 0, per: 'hour' }),
  }).strict().optional(),
  /** Cause codes (analytics/outages/types.ts CAUSE_CODES; checked against that list when the server starts). */
  excludeCauses: z.array(z.string().regex(/^[a-z_]{1,40}$/, 'a cause code')).default(['maintenance', 'retrofit', 'raw_water_shortage', 'power_failure']),
}).strict();

/** The complaint ledger (dashboard/server/state/complaints.ts): channels besides hotline 12345 and the utility's own line. */
export const complaintsSchema = z.object({
  channels: z.array(z.object({
    id: z.string().regex(/^[a-z0-9_]{1,32}$/, 'lower-case letters, digits and _'),
    name: z.string().min(1).max(64),
  }).strict()).default([]),
}).strict();

/**
 * The inputs of CJJ 92-2016's corrections to the leakage rate (analytics/kpi/leakage-correction.ts):
 * the grade applies to the corrected rate, so each input left out leaves that correction, and so the
 * corrected rate and the grade, unknown (the report names what is missing) rather than taken as 0.
 */
export const leakageSchema = z.object({
  /** r: residential consumption metered at the household (抄表到户) as a share of the total supply, 0–1. */
  residentialMeteredShare: z.number().min(0).max(1).optional(),
  /** L: length of the mains of DN75 and above, km. */
  dn75PipeLengthKm: z.number().min(0).optional(),
  /** The annual mean pressure at the plant outlets, MPa (or `outletPressureSensors` to compute it). */
  annualMeanOutletPressureMpa: z.number().positive().max(2).optional(),
  /** Plant outlet pressure sensors: their mean over the 365 days ending with the period (used when the figure above is not given). */
  outletPressureSensors: z.array(idSchema).min(1).optional(),
  /** The maximum depth of frozen soil at the site, m. */
  maxFrozenSoilDepthM: z.number().min(0).max(10).optional(),
}).strict();

/**
 * The quarterly disclosure (dashboard/server/disclosure-document.ts): the CJK font its PDF embeds (a
 * TTF or OTF file, or a collection .ttc with the face named by its PostScript name).
 */
export const DEFAULT_DISCLOSURE_FONT = { path: '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc', face: 'WenQuanYiMicroHei' };
export const disclosureSchema = z.object({
  fontPath: z.string().min(1).default(DEFAULT_DISCLOSURE_FONT.path),
  /** The face of a collection (.ttc); for the default font, WenQuanYiMicroHei. */
  fontFace: z.string().min(1).optional(),
}).strict();
export type DisclosureConfig = z.infer<typeof disclosureSchema>;

export const configSchema = z.object({
  /** demo: demo users, self-signed trust, loopback; production: refuses unsafe defaults. */
  mode: z.enum(['demo', 'production']).default('demo'),
  site: z.object({
    name: z.string().default('Aquawatch demo utility'),
    timezone: z.string().default('Asia/Shanghai'),
  }).strict().default({ name: 'Aquawatch demo utility', timezone: 'Asia/Shanghai' }),
  dataDir: z.string().default('./data'),
  http: z.object({
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8080),
    /** Port of the ingest process's own /health, /metrics and PDA API when run split from the server. */
    ingestPort: z.number().int().min(0).max(65535).default(8081),
    /**
     * HTTPS for the dashboard and the ingest API (PEM files): browsers keep production's Secure
     * session cookie only over HTTPS, and PDA bearer tokens must not travel in clear.
     */
    tls: z.object({ cert: z.string().min(1), key: z.string().min(1) }).strict().optional(),
    /**
     * A proxy in front (nginx, Caddy, a load balancer) terminates TLS and forwards plain HTTP here:
     * production mode then accepts an `http.host` beyond loopback without `http.tls`. Say so only
     * when no client can reach this port except through that proxy.
     */
    behindTlsProxy: z.boolean().default(false),
    /**
     * A bearer token that lets a monitoring server on another machine read /metrics and /health's
     * detail (callers on this machine may without it). A random string, from the environment:
     * `"${AQUAWATCH_METRICS_TOKEN}"` (`openssl rand -hex 24`).
     */
    metricsToken: z.string().min(32, 'at least 32 characters: a random token (openssl rand -hex 24), from the environment').optional(),
  }).strict().default({ host: '127.0.0.1', port: 8080, ingestPort: 8081, behindTlsProxy: false }),
  log: z.object({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info') })
    .strict().default({ level: 'info' }),
  store: storeSchema.default({ type: 'sqlite', path: 'tsdb.sqlite' }),
  broker: brokerSchema.prefault({}),
  ingest: ingestSchema.default(ingestSchema.parse({})),
  /**
   * One key per source type, each validated by its source's own schema (ingest/sources/<name>/config.ts)
   * when the schema is built with the registry (buildConfigSchema in sources.ts).
   */
  sources: z.record(z.string(), z.unknown()).default({}),
  auth: authSchema.default({ sessionIdleMinutes: 720, sessionMaxHours: 24 }),
  state: stateSchema.default({ path: 'state.sqlite' }),
  analytics: analyticsSchema.default({ alarms: { rules: {} }, detectors: {}, sensorClockLagMinutes: 10 }),
  /**
   * Alarms to people: channels (WeCom, DingTalk, SMS, e-mail, webhook), rota, escalation
   * (core/config/notify.ts, analytics/notify). Without it, alarms reach only the dashboard.
   */
  notify: notifyConfigSchema.optional(),
  incidents: incidentsSchema.prefault({}),
  compensation: compensationSchema.prefault({}),
  complaints: complaintsSchema.prefault({}),
  /** CJJ 92-2016 leakage-rate correction inputs (analytics/kpi/README.md). */
  leakage: leakageSchema.default({}),
  /** The quarterly disclosure's PDF font. */
  disclosure: disclosureSchema.prefault({}),
  /** Holidays and make-up working days (core/config/calendar.ts), for the time-of-week baselines. */
  calendar: calendarSchema.default({ holidays: [], workdays: [], eves: [] }),
  /** Inline topology, or a path (relative to the config file) to a YAML/JSON topology file. */
  topology: z.union([z.string(), topologySchema]).default(topologySchema.parse({})),
}).strict();

export type Config = z.infer<typeof configSchema>;
export type TopologyConfig = z.infer<typeof topologySchema>;
export type SensorConfig = z.infer<typeof sensorSchema>;
export type DmaConfig = z.infer<typeof dmaSchema>;
export type DmaTankConfig = z.infer<typeof dmaTankSchema>;
export type SiteConfig = z.infer<typeof siteSchema>;
export type MeterConfig = z.infer<typeof meterSchema>;
export type StoreConfig = z.infer<typeof storeSchema>;
export type BrokerConfig = z.infer<typeof brokerSchema>;
export type TlsConfig = z.infer<typeof tlsSchema>;
export type IngestConfig = z.infer<typeof ingestSchema>;
export type AuthConfig = z.infer<typeof authSchema>;
export type SourceAddress = z.infer<typeof sourceAddressSchema>;
export type StateConfig = z.infer<typeof stateSchema>;
export type AnalyticsConfig = z.infer<typeof analyticsSchema>;
export type CompensationConfig = z.infer<typeof compensationSchema>;
export type ComplaintsConfig = z.infer<typeof complaintsSchema>;
export type LeakageConfig = z.infer<typeof leakageSchema>;
