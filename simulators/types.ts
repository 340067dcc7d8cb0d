/**
 * The contract between the simulation (hydraulic model, scenario events, clock) and the simulated
 * devices (plant OPC UA server, MQTT sensor fleet, Sparkplug edge nodes, PDA readers).
 *
 * The engine advances simulated time step by step and emits, per step, the values every simulated
 * sensor would measure at that instant (already with noise and sensor faults applied). Devices turn
 * those into protocol traffic: simulators never import ingest or analytics; they talk over the wire.
 */
import type { Quality } from '../core/model/reading.ts';
import type { TopologyConfig } from '../core/config/schema.ts';

/** What one simulated sensor measures at one instant, in the unit its topology entry declares. */
export interface SimSample {
  sensor: string;
  ts: number;
  value: number;
  quality: Quality;
}

/** A customer meter's cumulative register (m³) at one instant; PDA readers read these. */
export interface MeterSample {
  meter: string;
  ts: number;
  /** Cumulative volume, m³. */
  reading: number;
}

/** One step of simulated time. `silent` lists sensors that send nothing this step (comms loss, stale). */
export interface SimStep {
  ts: number;
  samples: SimSample[];
  meters: MeterSample[];
  silent: string[];
}

/** A device simulator: receives every step and speaks its protocol. */
export interface SimDevice {
  readonly name: string;
  start(): Promise<void>;
  /** Called once per step, in time order; resolves when the step's traffic is sent. */
  onStep(step: SimStep): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Ground truth of a scenario event: what the platform should detect, where, and from when.
 * Tests and the detection benchmark compare alarms against these.
 */
export interface GroundTruth {
  id: string;
  type: 'burst' | 'leak' | 'pump_trip' | 'valve_closure' | 'planned_outage' | 'tank_drain'
    | 'quality_chlorine_low' | 'quality_turbidity_high' | 'sensor_stale' | 'sensor_flatline'
    | 'sensor_spike' | 'sensor_drift' | 'comms_loss';
  /** Event time the condition starts and (if it does) ends, ms. */
  start: number;
  end?: number;
  dma?: string;
  sensor?: string;
  /** Model element (junction, link, pump, tank) the event acts on. */
  element?: string;
  /** Expected detection, e.g. { alarm: 'burst', nearestSensor: 'P-n54' }. */
  expect: Record<string, unknown>;
  /** Event size where it has one: burst/leak flow m³/h, etc. */
  magnitude?: number;
}

/** What the simulator tells the platform about itself: the topology it drives (emit as config). */
export interface SimCity {
  topology: TopologyConfig;
  /** OPC UA endpoint(s), MQTT topics and PDA device ids the devices use, for the emitted config. */
  endpoints: { opcua: { name: string; endpoint: string }[] };
}
