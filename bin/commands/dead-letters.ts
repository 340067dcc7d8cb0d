/**
 * `aquawatch dead-letters list|show|replay`: the input ingest rejected (review F16), kept in the
 * ingest database with the field and the reason: counted and shown, and replayed through the live
 * validation into the outbox once the cause is fixed (ingest/pipeline/replay.ts). Works while
 * ingest runs: it opens the same SQLite file (WAL), and ingest's store writer picks up what it adds.
 */
import { existsSync } from 'node:fs';
import { parseCommandLine, integerOption } from '../../core/command-line.ts';
import type { LoadedConfig } from '../../core/config/load.ts';
import { parseIso } from '../../core/time/zoned.ts';
import { Topology } from '../../core/topology/topology.ts';
import { Outbox, outboxFile } from '../../ingest/pipeline/outbox.ts';
import { DeadLetterStore, type DeadLetter, type DeadLetterFilter } from '../../ingest/pipeline/dead-letters.ts';
import { replayability, replayDeadLetters, type LetterDecoder, type ReplayReport } from '../../ingest/pipeline/replay.ts';
import { letterDecoders } from '../../ingest/sources/index.ts';
import { CONFIG_OPTION, loadConfigOrExplain } from './common.ts';

const USAGE = `usage: aquawatch dead-letters list [--source NAME] [--field FIELD] [--since TIME] [--limit N] [--json]
       aquawatch dead-letters show ID [--json]
       aquawatch dead-letters replay [--source NAME] [--field FIELD] [--since TIME] [--id ID,...] [--dry-run] [--json]

The input ingest rejected, kept in the ingest database (ingest.outboxPath under dataDir) with the
field and the reason. list counts them by source, field and reason and shows the newest; show
prints one with its raw input; replay sends them through the live sources' validation into the
outbox again, after the cause was fixed (a sensor added to the topology, a unit corrected): give
the configuration ingest will run with. A letter that passes leaves the table in the commit that
makes it durable in the outbox, and ingest writes it to the store; one that fails again stays with
its new reason. Each is judged at the time it was received (ingest.maxAgeHours, ingest.maxFutureMs).
A message an MQTT source refused (e.g. for a sensor the topology lacked) is decoded again with the
configuration given. What other sources refused (Sparkplug B, OPC UA, PDA items: the sender must
send it again) and raw input cut at 4 kB cannot be replayed; they are reported as such. Works while ingest runs.

options:
  -c, --config FILE   configuration (default: $AQUAWATCH_CONFIG, else the built-in defaults)
      --source NAME   only this source (the source label of aquawatch_readings_rejected_total)
      --field FIELD   only this field: sensor, ts, value, unit, quality, payload or store
      --since TIME    only those rejected at or after TIME: ISO 8601, or back from now (30m, 24h, 7d)
      --id ID,...     replay only these dead letters
      --limit N       list: how many of the newest to show (default 20)
      --dry-run       replay: judge and count, change nothing
      --json          one JSON document on stdout
  -h, --help          this text

Exit codes: 0 done (also when letters were rejected again); 1 no ingest database, no such ID, or a
replay stopped because the outbox is full; 2 usage or configuration error.`;

const ACTIONS = ['list', 'show', 'replay'];
const DURATION = /^(\d+)(m|h|d)$/;
const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

export interface DeadLettersIo {
  stdout?: (line: string) => void;
  stderr?: (line: string) => void;
  now?: () => number;
}

export async function run(argv: string[], io: DeadLettersIo = {}): Promise<number> {
  const out = io.stdout ?? ((l: string) => console.log(l));
  const err = io.stderr ?? ((l: string) => console.error(l));
  const now = io.now ?? Date.now;
  const cl = parseCommandLine({
    command: 'aquawatch dead-letters', usage: USAGE, positionals: true,
    options: {
      ...CONFIG_OPTION, source: { type: 'string' }, field: { type: 'string' }, since: { type: 'string' }, id: { type: 'string' },
      limit: { type: 'string' }, 'dry-run': { type: 'boolean' }, json: { type: 'boolean' },
    },
  }, argv, { out, err });
  if (typeof cl === 'number') return cl;
  const { values, positionals } = cl;
  const [action, ...rest] = positionals;
  if (!action) return cl.fail('an action is required: list, show or replay');
  if (!ACTIONS.includes(action)) return cl.fail(`unknown action '${action}' (list, show or replay)`);
  if (action === 'show' ? rest.length !== 1 : rest.length > 0) return cl.fail(action === 'show' ? 'show takes one ID' : `unexpected argument '${rest[0]}'`);
  const limit = integerOption('limit', values.limit, 1, 10_000);
  if (typeof limit === 'object') return cl.fail(limit.error);
  if (values['dry-run'] && action !== 'replay') return cl.fail('--dry-run: only with replay');
  if (values.id !== undefined && action !== 'replay') return cl.fail('--id: only with replay (show takes the ID itself)');

  const config = loadConfigOrExplain(values.config);
  if (!config) return 2;
  const filter: DeadLetterFilter = { source: values.source, field: values.field };
  if (values.since !== undefined) {
    const since = parseSince(values.since, config.site.timezone, now());
    if (typeof since === 'string') return cl.fail(since);
    filter.since = since;
  }
  if (values.id !== undefined) {
    const ids = values.id.split(',').map((s) => Number(s.trim()));
    if (ids.some((n) => !Number.isSafeInteger(n) || n < 1)) return cl.fail(`--id: positive integers separated by commas (got ${values.id})`);
    filter.ids = ids;
  }
  let showId: number | undefined;
  if (action === 'show') {
    showId = Number(rest[0]);
    if (!Number.isSafeInteger(showId) || showId < 1) return cl.fail(`show: ID must be a positive integer (got ${rest[0]})`);
  }

  const file = outboxFile(config);
  if (file === ':memory:' || !existsSync(file)) {
    err(`aquawatch dead-letters: no ingest database at ${file} (ingest.outboxPath under dataDir): has ingest run with this configuration?`);
    return 1;
  }
  const outbox = new Outbox({ path: file, maxReadings: config.ingest.outboxMaxReadings, batchMaxSize: config.ingest.batchMaxSize, batchMaxDelayMs: 0 });
  try {
    const deadLetters = new DeadLetterStore(outbox.db);
    const topology = new Topology(config.topology, config.file);
    const judge: Judge = { topology, decoders: letterDecoders(config, topology) };
    const print = { out, json: values.json ?? false, file };
    if (action === 'list') {
      list(deadLetters, judge, filter, limit ?? 20, print);
      return 0;
    }
    if (action === 'show') {
      const d = deadLetters.get(showId!);
      if (!d) { err(`aquawatch dead-letters: no dead letter ${showId} in ${file}`); return 1; }
      show(d, judge, print);
      return 0;
    }
    const report = replayDeadLetters({
      outbox, deadLetters, topology, letterDecoders: judge.decoders, now, dryRun: values['dry-run'],
      maxFutureMs: config.ingest.maxFutureMs, maxAgeMs: config.ingest.maxAgeHours * 3_600_000, outboxMaxReadings: config.ingest.outboxMaxReadings,
    }, filter);
    printReplay(report, print);
    if (report.stoppedOutboxFull) {
      err(`aquawatch dead-letters: stopped: the outbox holds ${outbox.storedDepth()} readings of ${config.ingest.outboxMaxReadings} (ingest.outboxMaxReadings); replay the rest once the store caught up`);
      return 1;
    }
    return 0;
  } finally {
    outbox.close();
  }
}

/** `--since`: an ISO 8601 time (read in the site's zone without an offset) or a duration back from now. */
function parseSince(text: string, zone: LoadedConfig['site']['timezone'], now: number): number | string {
  const d = DURATION.exec(text);
  if (d) return now - Number(d[1]) * UNIT_MS[d[2]];
  const r = parseIso(text, zone);
  return r.ok ? r.utc : `--since: ${r.reason} (or a duration such as 24h or 7d)`;
}

interface Print { out: (line: string) => void; json: boolean; file: string }

/** What replayability needs: the topology, and decoders of sources whose payloads can be read again. */
interface Judge { topology: Topology; decoders: ReadonlyMap<string, LetterDecoder> }

/** True when a replay can try the letter (it may still fail), else why not. */
function verdict(d: DeadLetter, judge: Judge): true | string {
  const r = replayability(d, judge.topology, judge.decoders);
  return 'notReplayable' in r ? r.notReplayable : true;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function list(deadLetters: DeadLetterStore, judge: Judge, filter: DeadLetterFilter, limit: number, p: Print): void {
  const { total, groups } = deadLetters.groups(filter);
  const newest = deadLetters.list({ ...filter, limit });
  if (p.json) {
    // the raw input is for `show`: a list of 20 letters of up to 4 kB each would bury the rest
    const brief = newest.map((d) => ({ ...d, raw: undefined, replayable: verdict(d, judge) }));
    p.out(JSON.stringify({ database: p.file, total, groups, newest: brief }));
    return;
  }
  p.out(`${total} dead letters in ${p.file}${describeFilter(filter)}`);
  if (total === 0) return;
  p.out('   count  source / field: reason');
  for (const g of groups) p.out(`${String(g.count).padStart(8)}  ${g.source} / ${g.field}: ${g.reason}`);
  p.out(`newest ${newest.length}:`);
  for (const d of newest) {
    const v = verdict(d, judge);
    p.out(`#${d.id} ${iso(d.at)} ${d.source} (${d.origin})${d.sensor ? ` sensor ${d.sensor}` : ''} ${d.field}: ${d.reason}${v === true ? '' : ' [cannot be replayed]'}`);
  }
}

function describeFilter(f: DeadLetterFilter): string {
  const parts = [f.source && `source ${f.source}`, f.field && `field ${f.field}`, f.since !== undefined && `since ${iso(f.since)}`].filter(Boolean);
  return parts.length ? ` (${parts.join(', ')})` : '';
}

function show(d: DeadLetter, judge: Judge, p: Print): void {
  const replayable = verdict(d, judge);
  if (p.json) { p.out(JSON.stringify({ ...d, replayable })); return; }
  p.out(`dead letter #${d.id}`);
  p.out(`  rejected   ${iso(d.at)}`);
  p.out(`  source     ${d.source} (${d.origin})`);
  if (d.sensor) p.out(`  sensor     ${d.sensor}`);
  p.out(`  field      ${d.field}`);
  p.out(`  reason     ${d.reason}`);
  if (d.replayedAt !== undefined) p.out(`  replayed   ${iso(d.replayedAt)}, rejected again (the reason above)`);
  p.out(`  replayable ${replayable === true ? 'yes' : `no: ${replayable}`}`);
  p.out(`  raw        ${d.raw}`);
}

function printReplay(r: ReplayReport, p: Print): void {
  if (p.json) { p.out(JSON.stringify({ database: p.file, ...r })); return; }
  const again = Object.values(r.rejectedAgain).reduce((a, n) => a + n, 0);
  const cannot = Object.values(r.notReplayable).reduce((a, n) => a + n, 0);
  p.out(r.dryRun
    ? `dry run: ${r.replayed} of ${r.selected} selected dead letters would be replayed`
    : `replayed ${r.replayed} of ${r.selected} selected dead letters into the outbox (ingest writes them to the store)`);
  if (again) {
    p.out(`rejected again, kept with the new reason: ${again}`);
    for (const [reason, n] of Object.entries(r.rejectedAgain)) p.out(`${String(n).padStart(8)}  ${reason}`);
  }
  if (cannot) {
    p.out(`cannot be replayed: ${cannot}`);
    for (const [why, n] of Object.entries(r.notReplayable)) p.out(`${String(n).padStart(8)}  ${why}`);
  }
}
