/**
 * Detection benchmark (`npm run bench -- detect`): the detectors on the simulator's scenario suite,
 * through the measurement scripts kept beside the detectors (analytics/detectors/<name>/measure.ts).
 * The scenarios and seeds are fixed, so one run gives the figures; they are deterministic.
 *
 * Not yet measured here (issue #4): false alarms on the real BWDF inflows replayed through the CSV
 * import, and replay throughput through all detectors.
 */
import { spawn } from 'node:child_process';
import type { Benchmark, Figure } from './run.ts';

const SCRIPTS = ['analytics/detectors/outage/measure.ts', 'analytics/detectors/burst/measure.ts'];

const UNITS: Record<string, string> = {
  'detect.burst_delay_median_min': 'min', 'detect.burst_delay_p95_min': 'min', 'detect.outage_delay_max_min': 'min',
  'detect.leak_nights_max': 'nights', 'detect.false_alarms_per_dma_4w': 'per DMA per 4 weeks',
};
const TARGETS: Record<string, string> = {
  'detect.burst_recall': '>= 0.95', 'detect.burst_delay_median_min': '<= 10', 'detect.outage_recall': '1',
  'detect.outage_delay_max_min': '<= 5', 'detect.outage_class_accuracy': '1', 'detect.quality_recall': '1',
  'detect.leak_nights_max': '<= 3', 'detect.false_alarms_per_dma_4w': '<= 1',
};

function runScript(file: string): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d) => { out += d; });
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`${file} exited with ${code}`));
      const figures: Record<string, number> = {};
      for (const line of out.split('\n')) {
        if (!line.startsWith('{')) continue;
        const o = JSON.parse(line) as Record<string, unknown>;
        // either {"metric": "detect.x", "value": n} or {"detect.x": n, ...}
        if (typeof o.metric === 'string' && typeof o.value === 'number') figures[o.metric] = o.value;
        for (const [k, v] of Object.entries(o)) if (k.startsWith('detect.') && typeof v === 'number') figures[k] = v;
      }
      resolve(figures);
    });
  });
}

export const detectBenchmark: Benchmark = async () => {
  const figures: Figure[] = [];
  for (const script of SCRIPTS) {
    console.error(`detect benchmark: ${script}`);
    const found = await runScript(script);
    for (const [key, value] of Object.entries(found)) {
      // the burst script names its quiet-week figure after the detector it counts
      const bench = key === 'detect.false_alarms_per_dma_4w(burst)' ? 'detect.false_alarms_per_dma_4w' : key;
      figures.push({ bench, value, unit: UNITS[bench] ?? '', target: TARGETS[bench] });
    }
  }
  return figures;
};
