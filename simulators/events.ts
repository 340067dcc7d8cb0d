/**
 * Scenario events acting on the hydraulic model: bursts and leaks as pressure-dependent demand,
 * pump trips, closed links, a tank drained, a source's chlorine changed, faster decay in a DMA, and
 * turbidity excursions at monitors. Sensor-side events (faults, silence) act where samples are taken
 * (sensors.ts).
 */
import type { HydraulicModel } from './hydraulics/model.ts';
import type { SimEvent } from './scenarios/resolve.ts';

export class EventEffects {
  private readonly started = new Set<SimEvent>();
  private readonly finished = new Set<SimEvent>();
  /** Active bursts and leaks: junction and size (m³/h per √m of pressure, as an emitter's coefficient). */
  private readonly leaks = new Map<SimEvent, { node: number; coefficient: number }>();
  /** Junction → leak demand set now, m³/h. */
  private readonly leakFlow = new Map<number, number>();
  private readonly closedLinks = new Map<number, number>();
  private readonly tankForcing = new Map<SimEvent, { node: number; level0: number; floor: number }>();
  private readonly savedSource = new Map<SimEvent, number>();
  private readonly decayLinks = new Map<SimEvent, number[]>();

  constructor(private readonly model: HydraulicModel, readonly list: readonly SimEvent[]) {}

  /** Leak demand of a junction now, m³/h (unbilled: customer meters do not count it). */
  leakFlowAt(node: number): number {
    return this.leakFlow.get(node) ?? 0;
  }

  /** Start and finish the events due at `ts`, then move on the continuous changes of the active ones. */
  apply(ts: number): void {
    for (const e of this.list) {
      if (!this.started.has(e) && e.start <= ts) {
        this.started.add(e);
        this.begin(e);
      }
      if (this.started.has(e) && !this.finished.has(e) && e.end !== undefined && e.end <= ts) {
        this.finished.add(e);
        this.finish(e);
      }
    }
    // continuous changes of the active events
    for (const node of new Set([...this.leaks.values()].map((l) => l.node))) this.updateLeak(node, ts, false);
    for (const [e, f] of this.tankForcing) {
      const level = Math.max(f.floor, f.level0 - ((e.kind === 'tank_drain' ? e.rateMPerH : 0) * (ts - e.start)) / 3_600_000);
      this.model.setTankLevel(f.node, level);
    }
  }

  /**
   * Set a junction's leak demand from its active leaks: each lets out C·√p at the pressure of the
   * last solution, scaled by how far it has grown. Between events the change is damped by half, so
   * the pressure a leak lowers and the flow it lets out settle together instead of swinging; when a
   * leak starts or ends (`sudden`) the new flow applies at once.
   */
  private updateLeak(node: number, ts: number, sudden: boolean): void {
    const model = this.model;
    const root = Math.sqrt(model.pressureM(node) > 0 ? model.pressureM(node) : 0);
    let target = 0;
    for (const [e, leak] of this.leaks) {
      if (leak.node !== node || e.kind !== 'leak') continue;
      const grown = e.growthMs > 0 ? Math.min(1, Math.max(0, (ts - e.start) / e.growthMs)) : 1;
      target += leak.coefficient * grown * root;
    }
    const current = this.leakFlow.get(node) ?? 0;
    const flow = sudden ? target : current + 0.5 * (target - current);
    this.leakFlow.set(node, flow);
    model.setLeakDemand(node, flow);
  }

  private begin(e: SimEvent): void {
    const model = this.model;
    switch (e.kind) {
      case 'leak': {
        const node = model.nodeIndex(e.junction);
        // sized at the pressure before the event (the last solution): a 40 m³/h burst lets out 40 m³/h now
        this.leaks.set(e, { node, coefficient: e.flowM3h / Math.sqrt(Math.max(model.pressureM(node), 1)) });
        this.updateLeak(node, e.start, true);
        break;
      }
      case 'pump_trip': model.setPumpTripped(model.linkIndex(e.pump), true); break;
      case 'close_links':
        for (const id of e.links) {
          const l = model.linkIndex(id);
          this.closedLinks.set(l, (this.closedLinks.get(l) ?? 0) + 1);
          model.setLinkClosed(l, true);
        }
        break;
      case 'tank_drain': {
        const node = model.nodeIndex(e.tank);
        this.tankForcing.set(e, { node, level0: model.tankLevelM(node), floor: e.floorM ?? model.tankLimitsM(node).min });
        break;
      }
      case 'source_chlorine': {
        const node = model.nodeIndex(e.node);
        this.savedSource.set(e, model.sourceQuality(node));
        model.setSourceQuality(node, e.level);
        break;
      }
      case 'dma_decay': {
        const links = model.linksWithin(new Set(e.junctions.map((j) => model.nodeIndex(j))));
        this.decayLinks.set(e, links);
        model.setBulkDecayFactor(links, e.factor);
        break;
      }
      default: break; // sensor-side events act when samples are taken
    }
  }

  private finish(e: SimEvent): void {
    const model = this.model;
    switch (e.kind) {
      case 'leak': {
        const leak = this.leaks.get(e);
        this.leaks.delete(e);
        if (leak) this.updateLeak(leak.node, e.end ?? e.start, true);
        break;
      }
      case 'pump_trip': model.setPumpTripped(model.linkIndex(e.pump), false); break;
      case 'close_links':
        for (const id of e.links) {
          const l = model.linkIndex(id);
          const n = (this.closedLinks.get(l) ?? 1) - 1;
          if (n > 0) this.closedLinks.set(l, n);
          else {
            this.closedLinks.delete(l);
            model.setLinkClosed(l, false);
          }
        }
        break;
      case 'tank_drain': this.tankForcing.delete(e); break;
      case 'source_chlorine': model.setSourceQuality(model.nodeIndex(e.node), this.savedSource.get(e) ?? 0); break;
      case 'dma_decay': model.setBulkDecayFactor(this.decayLinks.get(e) ?? [], 1); break;
      default: break;
    }
  }

  /** Whether an event is in force at `ts`. */
  active(e: SimEvent, ts: number): boolean {
    return e.start <= ts && (e.end === undefined || ts < e.end);
  }

  /** Extra turbidity of a sensor at ts from turbidity events: a ramp up, a plateau, a ramp down. */
  turbidityExcursion(sensor: string, ts: number, base: number): number {
    let extra = 0;
    for (const e of this.list) {
      if (e.kind !== 'turbidity' || !e.sensors.includes(sensor) || ts < e.start) continue;
      const up = e.rampMs > 0 ? Math.min(1, (ts - e.start) / e.rampMs) : 1;
      const down = e.end === undefined ? 1 : e.rampMs > 0 ? Math.min(1, Math.max(0, (e.end - ts) / e.rampMs)) : ts < e.end ? 1 : 0;
      extra = Math.max(extra, (e.ntu - base) * Math.min(up, down));
    }
    return extra;
  }
}
