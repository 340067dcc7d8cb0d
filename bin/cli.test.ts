/**
 * The command line's habits: every command refuses an unknown option with a one-line reason and its
 * usage on stderr (exit 2) and answers --help on stdout (exit 0); --version; `config check`. Checked
 * on the real `aquawatch` process, except --help of the commands that need no process of their own
 * for it (one process per case costs about a second). None of this starts a service.
 */
import { describe, it, expect, beforeAll, afterAll, vi } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const COMMANDS = ['start', 'ingest', 'server', 'simulate', 'city', 'import', 'analyze', 'alarms', 'report', 'token', 'dead-letters', 'config', 'broker-auth', 'backup', 'restore', 'bench'];
// each case starts node with tsx: slow on a loaded machine, so generous
const PROCESS_TIMEOUT = 120_000;

interface Run { code: number | null; stdout: string; stderr: string }

function aquawatch(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/aquawatch.js', ...args], { cwd: ROOT, env: { ...process.env, ...env }, timeout: PROCESS_TIMEOUT },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }));
  });
}

/** Run the cases a few at a time (each is a node process), results in order. */
async function aquawatchAll(cases: (string[] | { args: string[]; env: NodeJS.ProcessEnv })[]): Promise<Run[]> {
  const results: Run[] = [];
  for (let i = 0; i < cases.length; i += 4) {
    results.push(...await Promise.all(cases.slice(i, i + 4).map((c) => (Array.isArray(c) ? aquawatch(c) : aquawatch(c.args, c.env)))));
  }
  return results;
}

describe('aquawatch command line', () => {
  it('refuses an unknown option of every command: one-line reason and usage on stderr, exit 2', async () => {
    const runs = await aquawatchAll(COMMANDS.map((c) => [c, '--bogus']));
    runs.forEach((r, i) => {
      const c = COMMANDS[i];
      expect({ c, code: r.code, stdout: r.stdout }).toEqual({ c, code: 2, stdout: '' });
      const [reason, blank, usage] = r.stderr.split('\n');
      expect(reason).toBe(`aquawatch ${c}: Unknown option '--bogus'`);
      expect(blank).toBe('');
      expect(usage).toMatch(new RegExp(`^usage: aquawatch ${c}\\b`));
    });
  }, PROCESS_TIMEOUT);

  it('prints the usage on --help with exit 0: token, and bench without starting the benchmarks', async () => {
    const runs = await aquawatchAll([['token', '--help'], ['bench', '--help'], ['bench', 'ingest', '-h']]);
    runs.forEach((r, i) => {
      expect({ i, code: r.code, stderr: r.stderr }).toEqual({ i, code: 0, stderr: '' });
      expect(r.stdout).toMatch(/^usage: aquawatch (token|bench)\b/);
      expect(r.stdout).not.toContain('"bench"'); // no figure was measured
    });
  }, PROCESS_TIMEOUT);

  it('prints every command\'s usage on --help, on stdout with exit 0', async () => {
    const printed: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((line: string) => { printed.push(line); });
    const lines = (l: string) => { printed.push(l); };
    try {
      const help = ['--help'];
      const codes: Record<string, number> = {
        start: await (await import('./commands/start.ts')).run(help),
        ingest: await (await import('./commands/ingest.ts')).run(help),
        server: await (await import('./commands/server.ts')).run(help),
        simulate: await (await import('./commands/simulate.ts')).run(help),
        city: await (await import('./commands/city.ts')).run(help, { stdout: lines }),
        import: await (await import('./commands/import.ts')).run(help, { stdout: lines }),
        analyze: await (await import('./commands/analyze.ts')).run(help, { stdout: lines }),
        alarms: await (await import('./commands/alarms.ts')).run(help, { stdout: lines }),
        report: await (await import('./commands/report.ts')).run(help, { stdout: lines }),
        token: await (await import('./commands/token.ts')).run(help),
        'dead-letters': await (await import('./commands/dead-letters.ts')).run(help, { stdout: lines }),
        config: await (await import('./commands/config.ts')).run(help),
        'broker-auth': await (await import('./commands/broker-auth.ts')).run(help),
      };
      expect(codes).toEqual(Object.fromEntries(Object.keys(codes).map((c) => [c, 0])));
      for (const c of Object.keys(codes)) {
        const usage = printed.find((p) => p.startsWith(`usage: aquawatch ${c} `));
        expect(usage, c).toBeDefined();
        expect(usage, c).toContain('-h, --help');
      }
    } finally {
      log.mockRestore();
    }
  });

  it('refuses malformed values and missing or extra arguments with exit 2', async () => {
    const cases: [string[], string][] = [
      [['start', '--http-port', '80a'], 'aquawatch start: --http-port: must be an integer from 0 to 65535 (got 80a)'],
      [['server', '--config'], "aquawatch server: Option '-c, --config <value>' argument missing"],
      [['token'], 'aquawatch token: an action is required: create, rotate, revoke or list'],
      [['bench', 'nosuch'], 'aquawatch bench: unknown benchmark nosuch; have: ingest, simulate, detect, dashboard, faults, city, notify, detect:outage, detect:burst, detect:cadence, detect:night-flow, detect:alarm-rate, detect:pressure-model, detect:leak-change, detect:sensor-health, detect:hill-tank, detect:battledim-h2, detect:restarts, detect:restarts-15min, detect:battledim-leaks, detect:cadence-all'],
    ];
    const runs = await aquawatchAll(cases.map(([args]) => args));
    runs.forEach((r, i) => {
      expect({ args: cases[i][0], code: r.code, reason: r.stderr.split('\n')[0] }).toEqual({ args: cases[i][0], code: 2, reason: cases[i][1] });
      expect(r.stderr).toContain(`usage: aquawatch ${cases[i][0][0]}`);
    });
  }, PROCESS_TIMEOUT);

  it('answers no command and an unknown one with the usage on stderr and exit 2', async () => {
    const [none, unknown] = await aquawatchAll([[], ['frobnicate']]);
    expect(none).toMatchObject({ code: 2, stdout: '' });
    expect(none.stderr).toMatch(/^usage: aquawatch <command>/);
    expect(unknown).toMatchObject({ code: 2, stdout: '' });
    expect(unknown.stderr).toMatch(/^aquawatch: unknown command 'frobnicate'\n\nusage: aquawatch <command>/);
  }, PROCESS_TIMEOUT);

  it('prints the package version on --version and -V', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const r of await aquawatchAll([['--version'], ['-V']])) {
      expect(r).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    }
  }, PROCESS_TIMEOUT);

  it('refuses an AQUAWATCH_LOG_FORMAT it does not know, naming it', async () => {
    const r = await aquawatch(['token', 'list'], { AQUAWATCH_LOG_FORMAT: 'xml' });
    expect(r).toEqual({ code: 2, stdout: '', stderr: 'aquawatch: AQUAWATCH_LOG_FORMAT: must be json or pretty (got xml)\n' });
  }, PROCESS_TIMEOUT);

  describe('config check FILE', () => {
    let dir: string;
    beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'aw-config-check-')); });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('says ok with a summary of sources, sensors and DMAs (exit 0)', async () => {
      writeFileSync(join(dir, 'topology.yaml'), [
        'sites: [{ id: plant, kind: plant }]',
        'dmas: [{ id: north }, { id: south }]',
        'sensors:',
        '  - { id: p1, kind: pressure, site: plant, dma: north }',
        '  - { id: p2, kind: pressure, site: plant, dma: south }',
        '  - { id: f1, kind: flow, site: plant, dma: north }',
      ].join('\n'));
      writeFileSync(join(dir, 'site.yaml'), [
        'site: { name: Testville Water, timezone: Asia/Shanghai }',
        'broker: { url: "mqtt://operator:s3cret@broker.example:1883" }',
        'sources:',
        '  opcua:',
        '    - { name: plant1, endpoint: "opc.tcp://plant1:4840" }',
        'topology: topology.yaml',
      ].join('\n'));
      const r = await aquawatch(['config', 'check', join(dir, 'site.yaml')]);
      expect(r).toMatchObject({ code: 0, stderr: '' });
      const lines = r.stdout.trim().split('\n');
      expect(lines[0]).toBe(`ok: ${join(dir, 'site.yaml')} (demo mode, Testville Water, Asia/Shanghai)`);
      expect(r.stdout).toContain('sources: opcua 1, mqtt 0, sparkplug 0, pda on');
      expect(r.stdout).toContain('sensors: 3 (pressure 2, flow 1)');
      expect(r.stdout).toMatch(/DMAs: +2\n/);
      expect(r.stdout).toContain('broker: mqtt://broker.example:1883');
      expect(r.stdout).not.toContain('s3cret');
      expect(r.stdout).toContain('calendar: none (holidays are compared as the weekdays they fall on)');
      expect(r.stdout).not.toContain('warning');
    }, PROCESS_TIMEOUT);

    it('#12.3 says how far the calendar reaches, and warns (still exit 0) once it names no day from a month ahead on', async () => {
      const site = (days: string) => ['site: { name: Testville Water, timezone: Asia/Shanghai }', 'calendar:', days].join('\n');
      writeFileSync(join(dir, 'calendar-2025.yaml'), site('  holidays: [2025-01-01, { from: 2025-10-01, to: 2025-10-08, name: National Day }]\n  workdays: [2025-10-11]'));
      writeFileSync(join(dir, 'calendar-2099.yaml'), site('  holidays: [2099-10-01]'));
      const [past, ahead] = await aquawatchAll([['config', 'check', join(dir, 'calendar-2025.yaml')], ['config', 'check', join(dir, 'calendar-2099.yaml')]]);
      expect(past).toMatchObject({ code: 0, stderr: '' });
      expect(past.stdout).toContain('calendar: 9 holiday(s), 1 make-up working day(s), through 2025-10-11');
      expect(past.stdout).toContain('warning: calendar: names no day after 2025-10-11: from then on holidays are compared as the weekdays they fall on');
      expect(ahead).toMatchObject({ code: 0, stderr: '' });
      expect(ahead.stdout).toContain('through 2099-10-01');
      expect(ahead.stdout).not.toContain('warning');
    }, PROCESS_TIMEOUT);

    it('lists every error with its key path, also in the topology, and a missing variable (exit 1)', async () => {
      writeFileSync(join(dir, 'bad.yaml'), [
        'http: { port: 99999 }',
        'store: { type: influxdb2, url: "http://influx:8086", token: "${AW_TEST_UNSET_TOKEN}", org: o, bucket: b }',
        'sources:',
        '  opcua:',
        '    - { name: plant1, endpoint: "http://plant1:4840" }',
      ].join('\n'));

      writeFileSync(join(dir, 'bad-topology.yaml'), 'topology:\n  dmas: [{ id: north }]\n  sensors:\n    - { id: p1, kind: pressure, dma: north }\n');
      writeFileSync(join(dir, 'bad-ref.yaml'), 'topology:\n  dmas: [{ id: north }]\n  sensors:\n    - { id: p2, kind: pressure, site: s, dma: east }\n');
      const check = (name: string) => ['config', 'check', join(dir, name)];
      const [bad, set, topo, ref, missing] = await aquawatchAll([
        check('bad.yaml'), { args: check('bad.yaml'), env: { AW_TEST_UNSET_TOKEN: 't' } }, check('bad-topology.yaml'), check('bad-ref.yaml'), check('none.yaml'),
      ]);
      expect(bad).toMatchObject({ code: 1, stdout: '' });
      expect(bad.stderr).toBe(`${join(dir, 'bad.yaml')}: invalid\n  store.token: environment variable AW_TEST_UNSET_TOKEN is not set\n`);
      expect(set.code).toBe(1);
      expect(set.stderr.split('\n').slice(1)).toEqual([
        '  http.port: Too big: expected number to be <=65535',
        '  sources.opcua[0].endpoint: must start with opc.tcp://',
        '',
      ]);
      // an inline topology's error names its key, not just "topology: Invalid input"
      expect(topo.code).toBe(1);
      expect(topo.stderr).toContain('  topology.sensors[0].site: Invalid input: expected string, received undefined\n');
      expect(ref.code).toBe(1);
      expect(ref.stderr).toContain('  topology.sensors[0] (p2).dma: unknown DMA east\n');
      expect(missing).toMatchObject({ code: 1, stderr: `${join(dir, 'none.yaml')}: invalid\n  file not found\n` });
    }, PROCESS_TIMEOUT);
  });
});
