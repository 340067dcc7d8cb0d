/**
 * A transfer missing from a DMA's water balance: when a pump starts or stops (or a valve opens or
 * closes) and the DMA's net demand steps by about the same flow each time, water crosses the DMA's
 * boundary (or fills one of its tanks) unmetered in its balance, and every start and stop will look
 * like a burst. `aquawatch analyze` runs this check after a replay and prints a warning per pair.
 *
 * Method: the device's on/off transitions, from its own series' bucket means (a pump's state ≥ 0.5,
 * a valve's position > 10 %, a pump station's flow > 30 % of its 95th percentile); across each, the
 * step in net demand (mean of the `windowMin` after minus the `windowMin` before), signed so that a
 * start counts as is and a stop reversed. A transfer is missing when at least `minTransitions`
 * transitions agree in sign (≥ 80 %) and their median step is beyond `noiseMultiple` robust σ of
 * the same step taken at every bucket (the demand's own variation over that window).
 */
import { madSigma, medianOf } from './baseline/median.ts';
import type { Topology } from '../core/topology/topology.ts';
import type { TimeSeriesStore } from '../core/tsdb/types.ts';
import { DmaInflow, netInflowFromStore } from './dma-inflow.ts';

export interface Sample { ts: number; value: number }
export interface Transition { ts: number; on: boolean }

export interface TransferStep {
  transitions: number;
  /** Transitions whose signed step has the sign of the median. */
  agreeing: number;
  /** Median signed step, m³/h: what the DMA's net demand gains when the device is on. */
  stepM3h: number;
  /** Robust σ of the same step at every bucket, m³/h. */
  noiseM3h: number;
}

export interface TransferWarning extends TransferStep {
  dma: string;
  device: string;
  message: string;
}

export interface TransferCheckOptions {
  /** Minutes averaged on each side of a transition. Default 15. */
  windowMin?: number;
  minTransitions?: number;
  noiseMultiple?: number;
}


/** On/off changes of a device series (bucket means) whose state is `isOn`. */
export function transitionsOf(series: readonly Sample[], isOn: (v: number) => boolean, maxGapMs: number): Transition[] {
  const out: Transition[] = [];
  for (let i = 1; i < series.length; i++) {
    if (series[i].ts - series[i - 1].ts > maxGapMs) continue;
    const before = isOn(series[i - 1].value);
    const after = isOn(series[i].value);
    if (before !== after) out.push({ ts: series[i].ts, on: after });
  }
  return out;
}

/** Mean of the net demand in [from, to) on a time-sorted series, by binary search. */
function meanBetween(net: readonly Sample[], from: number, to: number): number | undefined {
  let lo = 0;
  let hi = net.length;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (net[mid].ts < from) lo = mid + 1; else hi = mid; }
  let sum = 0;
  let n = 0;
  for (let i = lo; i < net.length && net[i].ts < to; i++) { sum += net[i].value; n++; }
  return n ? sum / n : undefined;
}

/** The signed steps of net demand across the transitions, with the demand's own step noise. */
export function transferStep(net: readonly Sample[], transitions: readonly Transition[], windowMs: number): TransferStep | undefined {
  const step = (t: number) => {
    const before = meanBetween(net, t - windowMs, t);
    const after = meanBetween(net, t, t + windowMs);
    return before === undefined || after === undefined ? undefined : after - before;
  };
  const signed: number[] = [];
  for (const t of transitions) {
    const s = step(t.ts);
    if (s !== undefined) signed.push(t.on ? s : -s);
  }
  if (signed.length === 0) return undefined;
  const all: number[] = [];
  const stride = Math.max(1, Math.floor(net.length / 5000)); // enough to know the spread; a year stays cheap
  for (let i = 0; i < net.length; i += stride) {
    const s = step(net[i].ts);
    if (s !== undefined) all.push(s);
  }
  const noise = madSigma(all);
  const stepM3h = medianOf(signed);
  return { transitions: signed.length, agreeing: signed.filter((s) => Math.sign(s) === Math.sign(stepM3h)).length, stepM3h, noiseM3h: noise };
}

/** Each device of the topology whose on/off state can be read, with how to read it. */
function devices(topology: Topology, inBalance: ReadonlySet<string>): { id: string; kind: string; isOn?: (v: number) => boolean }[] {
  const out: { id: string; kind: string; isOn?: (v: number) => boolean }[] = [];
  for (const s of topology.sensors.values()) {
    if (inBalance.has(s.id)) continue;
    if (s.kind === 'pump') out.push({ id: s.id, kind: s.kind, isOn: (v) => v >= 0.5 });
    else if (s.kind === 'valve') out.push({ id: s.id, kind: s.kind, isOn: (v) => v > 10 });
    else if (s.kind === 'flow' && s.place === 'pump-station') out.push({ id: s.id, kind: s.kind }); // threshold from its own flows
  }
  return out;
}

/** Every (DMA, device) pair whose transitions step the DMA's net demand, in [from, to). */
export async function checkTransfers(
  store: TimeSeriesStore, topology: Topology, from: number, to: number, o: TransferCheckOptions = {},
): Promise<TransferWarning[]> {
  const windowMs = (o.windowMin ?? 15) * 60_000;
  const minTransitions = o.minTransitions ?? 4;
  const noiseMultiple = o.noiseMultiple ?? 3;
  const inflow = new DmaInflow(topology);
  const warnings: TransferWarning[] = [];
  for (const dma of inflow.dmas()) {
    const candidates = devices(topology, new Set(inflow.balanceSensorsOf(dma)));
    if (candidates.length === 0) continue; // nothing switches: no need to read a year of net demand
    const bucketMs = inflow.bucketMsOf(dma);
    const net = await netInflowFromStore(store, inflow, dma, from, to, bucketMs);
    if (net.length === 0) continue;
    for (const d of candidates) {
      const q = await store.query({ measurement: d.kind, sensors: [d.id], from, to, windowMs: bucketMs, aggregate: 'mean' });
      const series = q.get(d.id) ?? [];
      if (series.length < 2) continue;
      let isOn = d.isOn;
      if (!isOn) {
        const sorted = series.map((v) => v.value).sort((a, b) => a - b);
        const threshold = 0.3 * sorted[Math.floor(0.95 * (sorted.length - 1))];
        if (!(threshold > 0)) continue;
        isOn = (v) => v > threshold;
      }
      const transitions = transitionsOf(series, isOn, 2 * Math.max(bucketMs, (topology.sensors.get(d.id)?.intervalS ?? 60) * 1000));
      const r = transferStep(net, transitions, Math.max(windowMs, 2 * bucketMs));
      if (!r || r.transitions < minTransitions) continue;
      if (r.agreeing < 0.8 * r.transitions || Math.abs(r.stepM3h) < noiseMultiple * r.noiseM3h) continue;
      warnings.push({
        dma, device: d.id, ...r,
        message: `DMA ${dma}: its net demand ${r.stepM3h > 0 ? 'rises' : 'falls'} by ${Math.abs(r.stepM3h).toFixed(1)} m³/h when ${d.id} is on `
          + `(${r.agreeing} of ${r.transitions} starts and stops; the demand's own step noise ${r.noiseM3h.toFixed(1)} m³/h): `
          + `water it moves is missing from the balance; add its flow as an inlet or outlet, or the tank it fills (topology.dmas[].tanks)`,
      });
    }
  }
  return warnings;
}
