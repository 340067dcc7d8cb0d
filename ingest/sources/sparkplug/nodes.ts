/**
 * What the source knows of the edge nodes and devices it reads: which ones the topology names (only
 * those get state; a device that invents node names fills nothing), and per known node its birth
 * (aliases, bdSeq), its message sequence and the last value of each metric.
 */
import type { Topology, SensorInfo } from '../../../core/topology/topology.ts';
import { addressOf } from '../address.ts';
import { sparkplugAddressKey, type SparkplugAddress } from './config.ts';
import type { SparkplugTopic } from './payload.ts';

export interface NodeState {
  group: string;
  node: string;
  /** An NBIRTH has been seen and no NDEATH since. */
  born: boolean;
  bdSeq?: number;
  lastSeq?: number;
  /** Metric aliases per device ('' for the node itself): alias → metric name. */
  aliases: Map<string, Map<number, string>>;
  /** Last value per metric key, for a null metric reported as the last value with bad quality. */
  lastValues: Map<string, number>;
  /** Sensors seen through the fallback id `<group>.<node>[.<device>].<metric>`, per device. */
  seenSensors: Map<string, Set<string>>;
  lastRebirthRequestAt: number;
}

const nodeKey = (group: string, node: string) => `${group}/${node}`;

/**
 * The fallback id `<group>.<node>[.<device>].<metric>` is read only for names without dots (review
 * L4): otherwise node `a` with metric `b.c` and node `a.b` with metric `c` would name the same
 * sensor, and one node's credentials would write another's. A node or device with a dot in its
 * name is read through source addresses only.
 */
const dotFree = (...names: string[]) => names.every((n) => !n.includes('.'));
const deviceKey = (group: string, node: string, device: string) => `${group}/${node}/${device}`;

export class SparkplugNodes {
  private readonly states = new Map<string, NodeState>();
  /** Sensors by node key, with the device ('' for the node) their source address names. */
  private readonly addressed = new Map<string, { id: string; device: string }[]>();
  private readonly knownDevices = new Set<string>();
  /** Every dot-prefix of a sensor id: `<group>.<node>[.<device>]` in it means a fallback id may follow. */
  private readonly idPrefixes = new Set<string>();

  constructor(private readonly topology: Topology) {
    for (const s of topology.sensors.values()) {
      const a = addressOf<SparkplugAddress>(s, 'sparkplug');
      if (a) {
        const key = nodeKey(a.group, a.node);
        const list = this.addressed.get(key) ?? [];
        list.push({ id: s.id, device: a.device ?? '' });
        this.addressed.set(key, list);
        this.knownDevices.add(deviceKey(a.group, a.node, a.device ?? ''));
      }
      for (let i = s.id.indexOf('.'); i > 0; i = s.id.indexOf('.', i + 1)) this.idPrefixes.add(s.id.slice(0, i));
    }
  }

  /** A node some sensor is read from (by its source address or by the fallback id). */
  knowsNode(group: string, node: string): boolean {
    return this.addressed.has(nodeKey(group, node)) || (dotFree(group, node) && this.idPrefixes.has(`${group}.${node}`));
  }

  knowsDevice(group: string, node: string, device: string): boolean {
    return this.knownDevices.has(deviceKey(group, node, device)) || (dotFree(group, node, device) && this.idPrefixes.has(`${group}.${node}.${device}`));
  }

  /** The state of a node the topology knows (see knowsNode), made on first sight. */
  state(group: string, node: string): NodeState {
    const key = nodeKey(group, node);
    let s = this.states.get(key);
    if (!s) {
      s = { group, node, born: false, aliases: new Map(), lastValues: new Map(), seenSensors: new Map(), lastRebirthRequestAt: -Infinity };
      this.states.set(key, s);
    }
    return s;
  }

  /** The state of a node seen before, without making one. */
  existing(group: string, node: string): NodeState | undefined {
    return this.states.get(nodeKey(group, node));
  }

  get known(): number { return this.states.size; }
  get online(): number { return [...this.states.values()].filter((n) => n.born).length; }

  /** The sensor a metric maps to: by source address, else by the fallback id. */
  sensorFor(t: SparkplugTopic, metric: string): SensorInfo | undefined {
    const addressed = this.topology.sensorsByAddress('sparkplug', (a) => sparkplugAddressKey(a as unknown as SparkplugAddress)).get(sparkplugAddressKey({ ...t, metric }));
    if (addressed || !dotFree(t.group, t.node, t.device ?? '')) return addressed;
    return this.topology.sensors.get(`${t.group}.${t.node}${t.device ? `.${t.device}` : ''}.${metric}`);
  }

  /** Remember a sensor found through the fallback id, so that a death marks it offline too. */
  seen(state: NodeState, device: string, sensor: SensorInfo): void {
    if (sensor.source?.type === 'sparkplug') return;
    let seen = state.seenSensors.get(device);
    if (!seen) { seen = new Set(); state.seenSensors.set(device, seen); }
    seen.add(sensor.id);
  }

  /**
   * Sensors of a node (device undefined: the node and all its devices) or of one device ('' is
   * the node itself): those whose source address names it, and those seen through the fallback id.
   */
  sensorsOf(state: NodeState, device: string | undefined): string[] {
    const out = new Set<string>();
    for (const s of this.addressed.get(nodeKey(state.group, state.node)) ?? []) {
      if (device === undefined || s.device === device) out.add(s.id);
    }
    for (const [d, ids] of state.seenSensors) {
      if (device === undefined || d === device) for (const id of ids) out.add(id);
    }
    return [...out];
  }
}
