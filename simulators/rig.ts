/**
 * The simulator rig: one scenario's Simulation plus every simulated device (plant OPC UA server,
 * MQTT JSON sensors, Sparkplug B edge nodes, PDA readers), and the platform configuration that
 * reads them. Used by `aquawatch simulate` (against a running platform) and by `aquawatch start`
 * (the all-in-one demo). Devices talk to the platform over the wire only.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { Simulation } from './engine.ts';
import type { Speed } from './simulate-args.ts';
import type { RunSummary } from './pacing.ts';
import { PlantOpcuaServer } from './plant-opcua/server.ts';
import { JsonSensorFleet } from './mqtt-fleet/json-sensors.ts';
import { SparkplugFleet } from './mqtt-fleet/sparkplug.ts';
import { PdaReaderFleet, planRoutes, platformDevices, platformRoutes, type PdaReaderConfig } from './pda-reader/reader.ts';
import { writeCityMap } from './city/map.ts';
import type { SimDevice, SimStep } from './types.ts';

export interface RigOptions {
  /** Scenario file; without it, `network` runs quiet from now. */
  scenario?: string;
  /** An .inp file to run on instead of the scenario's city. */
  network?: string;
  scale?: number;
  seed?: number;
  from?: string | number;
  to?: string | number;
  /** Folder for the plant server's PKI. */
  dataDir: string;
  /** Plant OPC UA port; 0 picks a free one. */
  opcuaPort?: number;
  /** PDA readers (routes over the city's meters). */
  pdaReaders?: number;
  /** Keep the PDA readers' tokens in this file (created on first use), so a written platform config stays valid. */
  tokenFile?: string;
  log: Logger;
}

export interface RigTargets {
  /** Broker the MQTT devices publish to. */
  brokerUrl: string;
  brokerUsername?: string;
  brokerPassword?: string;
  /** The platform's HTTP address for PDA uploads. */
  httpBase: string;
}

export class SimulatorRig {
  readonly sim: Simulation;
  readonly plant: PlantOpcuaServer;
  readonly readers: PdaReaderConfig[];
  private devices: SimDevice[] = [];
  private abort = new AbortController();
  private running?: Promise<RunSummary>;
  stepsDone = 0;
  lastStepTs: number | null = null;

  constructor(private readonly o: RigOptions) {
    this.sim = new Simulation({ scenario: o.scenario, network: o.network, scale: o.scale, seed: o.seed, from: o.from, to: o.to });
    const topology = this.sim.topology();
    this.plant = new PlantOpcuaServer({
      topology, port: o.opcuaPort ?? 0, pkiFolder: join(o.dataDir, 'sim-plant-pki'),
      // The simulated plant trusts the platform's client certificate on first use; the platform
      // trusts the plant's certificate explicitly (platformConfig), never by auto-accept.
      acceptUnknownClientCertificates: true,
    });
    // Random tokens (fresh, or kept in tokenFile): the platform gets their hashes, nobody a default token.
    const kept: Record<string, string> = o.tokenFile && existsSync(o.tokenFile) ? JSON.parse(readFileSync(o.tokenFile, 'utf8')) as Record<string, string> : {};
    this.readers = planRoutes(topology.meters, o.pdaReaders ?? 4, (device) => (kept[device] ??= randomBytes(24).toString('base64url')));
    if (o.tokenFile) writeFileSync(o.tokenFile, JSON.stringify(kept, null, 2), { mode: 0o600 });
  }

  /** Start the plant server (its endpoint and certificate go into the platform's config). */
  async startPlant(): Promise<void> {
    await this.plant.start();
  }

  /**
   * The platform configuration (config-schema input) that reads this rig's devices. The city's
   * pipes for the dashboard's map are written to `<dataDir>/network-map.json` and named by the
   * topology's `map`.
   */
  platformConfig(extra: Record<string, unknown> = {}): Record<string, unknown> {
    mkdirSync(this.o.dataDir, { recursive: true });
    const mapFile = writeCityMap(this.sim.city, resolve(this.o.dataDir, 'network-map.json'));
    const base = this.sim.platformConfig({
      opcuaEndpoint: this.plant.endpointUrl,
      opcua: {
        securityMode: 'SignAndEncrypt',
        securityPolicy: 'Basic256Sha256',
        trustedServerCertificates: [this.plant.certificateFile],
        // every step reaches the platform, also during a backfill that runs ahead of real time
        samplingIntervalMs: 0,
        queueSize: 10_000,
        reportSameValue: true,
      },
      pdaDevices: platformDevices(this.readers),
      pdaRoutes: platformRoutes(this.readers),
    });
    return { ...base, topology: { ...base.topology, map: mapFile }, ...extra };
  }

  /** Start the MQTT and PDA devices against the platform. */
  async connect(t: RigTargets): Promise<void> {
    const topology = this.sim.topology();
    const broker = { url: t.brokerUrl, username: t.brokerUsername, password: t.brokerPassword };
    this.devices = [
      this.plant,
      new JsonSensorFleet({ topology, broker }),
      new SparkplugFleet({ topology, broker }),
      new PdaReaderFleet({ baseUrl: t.httpBase, readers: this.readers, topology, seed: this.o.seed }),
    ];
    for (const d of this.devices) if (d !== this.plant) await d.start();
  }

  /** Run the scenario; resolves when it ends or `stop()` is called. */
  run(speed: Speed, onStep?: (step: SimStep) => void): Promise<RunSummary> {
    this.running = this.sim.run(this.devices, {
      speed, signal: this.abort.signal, manageDevices: false,
      onStep: (step) => { this.stepsDone++; this.lastStepTs = step.ts; onStep?.(step); },
    });
    return this.running;
  }

  /**
   * Stop the simulation for good (no new readings) and leave the devices connected: the platform can
   * then stop its sources first, so it does not take the devices' goodbyes (Sparkplug NDEATH, the
   * plant's OPC UA session ending) for field faults while it shuts down.
   */
  async stopSimulation(): Promise<void> {
    this.abort.abort();
    await this.running?.catch((e: unknown) => this.o.log.warn({ err: String(e) }, 'simulation ended with an error'));
    this.running = undefined;
  }

  async stop(): Promise<void> {
    await this.stopSimulation();
    for (const d of this.devices.length ? this.devices : [this.plant]) {
      await d.stop().catch((e: unknown) => this.o.log.warn({ device: d.name, err: String(e) }, 'device stop failed'));
    }
    this.sim.close();
  }
}
