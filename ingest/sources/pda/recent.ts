/**
 * Meter readings this process accepted recently. `ctx.submit` resolves when readings are durable in
 * the outbox, which can be before they reach the time-series store; a PDA that re-sends its batch
 * seconds later must still get `duplicate`, so the route checks this cache as well as the store.
 * Bounded: the oldest meters are forgotten first (Map keeps insertion order).
 */
export interface MeterValue { ts: number; value: number }

export class RecentMeterReadings {
  private readonly byMeter = new Map<string, MeterValue[]>();

  constructor(private readonly maxMeters = 200_000, private readonly perMeter = 8) {}

  add(meter: string, r: MeterValue): void {
    let list = this.byMeter.get(meter);
    if (list) this.byMeter.delete(meter); // re-insert to mark as recently used
    else list = [];
    const same = list.findIndex((x) => x.ts === r.ts);
    if (same >= 0) list[same] = r;
    else list.push(r);
    list.sort((a, b) => a.ts - b.ts);
    if (list.length > this.perMeter) list.splice(0, list.length - this.perMeter);
    this.byMeter.set(meter, list);
    if (this.byMeter.size > this.maxMeters) this.byMeter.delete(this.byMeter.keys().next().value!);
  }

  get(meter: string): readonly MeterValue[] {
    return this.byMeter.get(meter) ?? [];
  }
}
