/**
 * Customer meters at run time: each meter's cumulative register (m³) integrates what its junctions
 * deliver to their customers (domestic and industrial use, not the leaks), and is reported every
 * meter interval.
 */
import type { MeterSample } from './types.ts';
import type { HydraulicModel } from './hydraulics/model.ts';
import { hash32 } from './hydraulics/random.ts';
import type { City } from './city/city.ts';
import type { EventEffects } from './events.ts';
import { round } from './sensors.ts';

interface LiveMeter {
  id: string;
  /** (junction index, share of that junction's consumption: domestic or industrial part). */
  junctions: { index: number; use: 'domestic' | 'industrial' }[];
  reading: number;
}

const EPOCH_2020 = Date.UTC(2020, 0, 1);

export class CustomerMeters {
  private readonly meters: LiveMeter[];
  /** Junction index → its mean domestic and industrial use, m³/h, and its demand group (DMA). */
  private readonly junctionUse = new Map<number, { domestic: number; industrial: number; group: string }>();

  constructor(
    city: City,
    private readonly model: HydraulicModel,
    private readonly events: EventEffects,
    /** Demand group → the multiplier set for the last solution. */
    private readonly groupMultiplier: ReadonlyMap<string, number>,
    private readonly start: number,
    private readonly meterIntervalMs: number,
  ) {
    for (let i = 1; i <= model.nodeCount; i++) {
      if (!model.isJunction(i)) continue;
      const cats = model.junctionDemandCategories(i);
      if (!cats.length) continue;
      const id = model.nodeId(i);
      this.junctionUse.set(i, {
        domestic: cats.filter((c) => !c.flat).reduce((a, c) => a + c.meanM3h, 0),
        industrial: cats.filter((c) => c.flat).reduce((a, c) => a + c.meanM3h, 0),
        group: city.junctionDma.get(id) ?? 'default',
      });
    }
    this.meters = city.meters.map((m) => ({
      id: m.id,
      junctions: m.junctions.map((j) => ({ index: model.nodeIndex(j), use: m.use })),
      // a register that has been turning since 2020 at the meter's average rate, so runs started at
      // different times give readings that never go backwards
      reading: 50 + (hash32(m.id) % 2000) + (m.meanM3h * (start - EPOCH_2020)) / 3_600_000,
    }));
  }

  /** Integrate customer use since the last step and, on meter intervals, report the registers. */
  step(ts: number, dtS: number, first: boolean): MeterSample[] {
    if (!first && dtS > 0) {
      const demands = this.model.allDemandsM3h();
      const delivered = new Map<number, { domestic: number; industrial: number }>();
      const part = (index: number) => {
        let d = delivered.get(index);
        if (!d) {
          const use = this.junctionUse.get(index);
          // pressure-driven delivery cuts every demand of a junction alike, so the outflow splits in
          // the proportions of what each would draw now: domestic, industrial, and the (unbilled) leak
          const domestic = use ? use.domestic * (this.groupMultiplier.get(use.group) ?? 1) : 0;
          const industrial = use?.industrial ?? 0;
          const full = domestic + industrial + this.events.leakFlowAt(index);
          const outflow = Math.max(0, demands[index - 1]);
          d = full > 0 ? { domestic: (outflow * domestic) / full, industrial: (outflow * industrial) / full } : { domestic: 0, industrial: 0 };
          delivered.set(index, d);
        }
        return d;
      };
      const hours = dtS / 3600;
      for (const m of this.meters) {
        let rate = 0;
        for (const j of m.junctions) rate += part(j.index)[j.use];
        m.reading += rate * hours;
      }
    }
    if ((ts - this.start) % this.meterIntervalMs !== 0) return [];
    return this.meters.map((m) => ({ meter: m.id, ts, reading: round(m.reading, 3) }));
  }
}
