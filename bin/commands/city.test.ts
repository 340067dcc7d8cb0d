/**
 * `aquawatch city generate`: writes the .inp, a topology file the platform's config loader takes, and
 * the map; the same seed writes the same network; bad options get the usage and exit 2.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config/load.ts';
import { Topology } from '../../core/topology/topology.ts';
import { parseInp } from '../../simulators/hydraulics/inp.ts';
import { run } from './city.ts';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'aquawatch-city-'));
  dirs.push(d);
  return d;
};
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

function capture(argv: string[]) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return run(argv, { stdout: (l) => stdout.push(l), stderr: (l) => stderr.push(l) }).then((code) => ({ code, stdout: stdout.join('\n'), stderr: stderr.join('\n') }));
}

describe('aquawatch city generate', () => {
  it('writes the network, a topology the config loader accepts, and the map', async () => {
    const out = tempDir();
    const r = await capture(['generate', '--seed', '7', '--dmas', '4', '--junctions', '600', '--name', 'smalltown', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/city smalltown: 600 junctions, 4 DMAs/);
    const net = parseInp(readFileSync(join(out, 'smalltown.inp'), 'utf8'));
    expect(net.junctions.size).toBe(600);
    writeFileSync(join(out, 'aquawatch.yaml'), 'topology: topology.yaml\n');
    const config = loadConfig(join(out, 'aquawatch.yaml'));
    const topology = new Topology(config.topology, 'smalltown');
    expect(topology.dmas.size).toBe(4);
    expect(config.topology.map).toBe(join(out, 'network-map.json'));
    const map = JSON.parse(readFileSync(join(out, 'network-map.json'), 'utf8')) as { links: unknown[] };
    expect(map.links).toHaveLength(net.links.size);

    const again = tempDir();
    expect((await capture(['generate', '--seed', '7', '--dmas', '4', '--junctions', '600', '--name', 'smalltown', '--out', again])).code).toBe(0);
    expect(readFileSync(join(again, 'smalltown.inp'), 'utf8')).toBe(readFileSync(join(out, 'smalltown.inp'), 'utf8'));
  });

  it('writes the demo town by default, named demo', async () => {
    const out = tempDir();
    const r = await capture(['generate', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(parseInp(readFileSync(join(out, 'demo.inp'), 'utf8')).junctions.size).toBe(800);
  });

  it('prints its usage for --help (exit 0) and refuses unknown options and bad values (exit 2)', async () => {
    const help = await capture(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: aquawatch city generate/);
    const unknown = await capture(['generate', '--colour', 'blue', '--out', tempDir()]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/Unknown option '--colour'[\s\S]*usage: aquawatch city generate/);
    expect((await capture(['generate', '--dmas', 'five', '--out', tempDir()])).stderr).toMatch(/--dmas: must be a whole number/);
    expect((await capture(['generate', '--dmas', '2', '--out', tempDir()])).code).toBe(2);
    expect((await capture(['generate'])).stderr).toMatch(/--out is required/);
    expect((await capture(['build', '--out', tempDir()])).stderr).toMatch(/unknown action 'build'/);
  });
});
