/**
 * The generated network, element by element: plant, trunk mains, DMAs of looped streets, the pumped
 * tanks of the hill zone and the PRVs of the low zone, then elevations, customers, pipe sizes and
 * sensor places. Everything is drawn from named seeded streams, so one seed gives one network.
 *
 * Layout (y grows northwards): the main zone's DMAs fill a grid of cells; trunk mains run along the
 * streets between the cells, fed from the plant (west of the grid) through one PRV per plant outlet;
 * every DMA takes water from the trunk through one or two metered inlets and shares a metered pipe
 * with some neighbours. Hill DMAs sit on rows north of the grid, each fed by gravity from its own
 * tank that a pump fills from the trunk; low-zone DMAs sit on rows south of it, each behind a PRV.
 */
import { Rng } from '../../hydraulics/random.ts';
import { commercialDiameterMm, shortestPathTree, treeFlows, type FlowEdge } from './sizing.ts';
import { STATIC_PRESSURE_M, Terrain, ZONE_GROUND_M, type Zone } from './terrain.ts';

export interface NetworkNode {
  id: string;
  kind: 'junction' | 'reservoir' | 'tank';
  x: number;
  y: number;
  zone: Zone;
  /** Ground (junctions, tanks: the tank's floor) or water level (reservoirs), m. */
  elevation: number;
  /** Index into `dmas`, or -1 outside every DMA. */
  dma: number;
  /** Households whose use the junction carries. */
  customers: number;
  /** Flat industrial demand, m³/h (0 for none). */
  industrialM3h: number;
  amr: boolean;
  pressureSensor: boolean;
}

export type LinkRole = 'street' | 'loop' | 'dma-border' | 'dma-inlet' | 'trunk' | 'feeder' | 'plant-outlet' | 'transmission' | 'tank-outlet';

export interface NetworkLink {
  id: string;
  kind: 'pipe' | 'pump' | 'prv';
  role: LinkRole;
  from: number;
  to: number;
  lengthM: number;
  diameterMm: number;
  /** PRV: downstream pressure, m. */
  setting?: number;
}

export interface NetworkDma {
  zone: 'main' | 'hill' | 'low';
  /** Position of its cell: column, and row (main rows 0.., hill rows above, low rows below). */
  col: number;
  row: number;
  nodes: number[];
  /** Links crossing its border (inlets, shared pipes, the tank outlet or PRV). */
  boundary: number[];
}

export interface PumpedTank {
  dma: number;
  pump: number;
  tank: number;
  /** Pump curve: design flow m³/h and head m (3-point curve 0/Q/2Q). */
  designFlowM3h: number;
  designHeadM: number;
  /** Levels between which the pump runs (on below `onBelowM`, off above `offAboveM`). */
  onBelowM: number;
  offAboveM: number;
  maxLevelM: number;
  initLevelM: number;
  diameterM: number;
}

export interface GeneratedNetwork {
  nodes: NetworkNode[];
  links: NetworkLink[];
  dmas: NetworkDma[];
  /** Plant outlets: reservoir node and outlet main link, in outlet order (R1, R2...). */
  outlets: { reservoir: number; main: number }[];
  pumpedTanks: PumpedTank[];
  /** Household use behind the base demands, m³/day. */
  m3PerPropertyDay: number;
}

export interface NetworkParams {
  seed: number;
  dmas: number;
  junctions: number;
}

/** Spacing of street junctions, m. */
const STREET_M = 80;
/** Width of the street between two DMA cells, where the trunk mains run. */
const GAP_M = 2.5 * STREET_M;
const M3_PER_PROPERTY_DAY = 0.45;
/** Peak hour over the average, with the day-to-day and hour-to-hour noise on top. */
const PEAK_FACTOR = 1.7;
/** Average demand one plant outlet serves, m³/h: more outlets (and PRVs) for a bigger city. */
const OUTLET_CAPACITY_M3H = 2500;
const RESERVOIR_HEAD_M = 100;
/** Share of the street pipes that are not needed to connect a DMA but close a loop. */
const LOOP_SHARE = 0.45;
/** Probability that two neighbouring main-zone DMAs share a (metered) pipe. */
const NEIGHBOUR_PIPE_SHARE = 0.6;
/** Junctions per pressure logger. */
const JUNCTIONS_PER_LOGGER = 25;

export class NetworkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NetworkError';
  }
}

/** How many DMAs each zone gets. */
export function zoneCounts(dmas: number): { hill: number; main: number; low: number } {
  const hill = Math.max(1, Math.round(dmas * 0.1));
  const low = Math.max(1, Math.round(dmas * 0.1));
  return { hill, main: dmas - hill - low, low };
}

export function generateNetwork(params: NetworkParams): GeneratedNetwork {
  const { seed, dmas: dmaCount, junctions: junctionCount } = params;
  if (!Number.isInteger(dmaCount) || dmaCount < 3) throw new NetworkError(`dmas must be a whole number ≥ 3 (a hill, a main and a low zone; got ${dmaCount})`);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new NetworkError(`seed must be a whole number in 0…2³²−1 (got ${seed})`);
  const zones = zoneCounts(dmaCount);
  const cols = Math.max(1, Math.ceil(Math.sqrt(zones.main * 1.5)));
  const rows = Math.ceil(zones.main / cols);
  const outletCount = Math.max(2, Math.ceil((junctionCount * 12 * M3_PER_PROPERTY_DAY) / 24 / OUTLET_CAPACITY_M3H));
  // junctions outside the DMAs: trunk corners and one per trunk segment, a feed junction per hill
  // and low DMA, two per plant outlet (at the plant, before its PRV)
  const trunkJunctions = (cols + 1) * (rows + 1) + cols * (rows + 1) + rows * (cols + 1);
  const overhead = trunkJunctions + zones.hill + zones.low + 2 * outletCount;
  const perDma = Math.floor((junctionCount - overhead) / dmaCount);
  if (!Number.isInteger(junctionCount) || perDma < 9) {
    throw new NetworkError(`junctions must be a whole number ≥ ${overhead + 9 * dmaCount} for ${dmaCount} DMAs (got ${junctionCount})`);
  }
  const extra = junctionCount - overhead - perDma * dmaCount;
  const sizeOf = (k: number) => perDma + (k < extra ? 1 : 0);
  const cellCols = Math.ceil(Math.sqrt(perDma + 1));
  const cellRows = Math.ceil((perDma + 1) / cellCols);
  const pitchX = (cellCols - 1) * STREET_M + GAP_M;
  const pitchY = (cellRows - 1) * STREET_M + GAP_M;

  const terrain = new Terrain(seed);
  const jitter = new Rng(seed, 'jitter');
  const nodes: NetworkNode[] = [];
  const links: NetworkLink[] = [];
  const dmas: NetworkDma[] = [];
  const round2 = (v: number) => Math.round(v * 100) / 100;
  const addNode = (kind: NetworkNode['kind'], x: number, y: number, zone: Zone, dma = -1): number => {
    nodes.push({
      id: '', kind, x: round2(x), y: round2(y), zone, elevation: Math.round(terrain.elevation(zone, x, y) * 100) / 100, dma,
      customers: 0, industrialM3h: 0, amr: false, pressureSensor: false,
    });
    return nodes.length - 1;
  };
  const distance = (a: number, b: number) => Math.hypot(nodes[a].x - nodes[b].x, nodes[a].y - nodes[b].y);
  const addLink = (kind: NetworkLink['kind'], role: LinkRole, from: number, to: number, bends = 1): number => {
    links.push({ id: '', kind, role, from, to, lengthM: Math.max(5, Math.round(distance(from, to) * bends * 10) / 10), diameterMm: 0 });
    return links.length - 1;
  };

  // --- DMA cells: a jittered street lattice, a random spanning tree plus some loops ------------
  const latticeRng = new Rng(seed, 'lattice');
  const cellNodes: Map<string, number>[] = [];
  const addDma = (zone: NetworkDma['zone'], col: number, row: number, originX: number, originY: number): number => {
    const k = dmas.length;
    const n = sizeOf(k);
    const width = Math.ceil(Math.sqrt(n));
    const grid = new Map<string, number>();
    const list: number[] = [];
    for (let i = 0; i < n; i++) {
      const u = i % width;
      const v = Math.floor(i / width);
      const x = originX + u * STREET_M + jitter.uniform(-0.18, 0.18) * STREET_M;
      const y = originY + v * STREET_M + jitter.uniform(-0.18, 0.18) * STREET_M;
      const node = addNode('junction', x, y, zone, k);
      grid.set(`${u},${v}`, node);
      list.push(node);
    }
    const candidates: [number, number][] = [];
    for (const [key, node] of grid) {
      const [u, v] = key.split(',').map(Number);
      const right = grid.get(`${u + 1},${v}`);
      const up = grid.get(`${u},${v + 1}`);
      if (right !== undefined) candidates.push([node, right]);
      if (up !== undefined) candidates.push([node, up]);
    }
    for (let i = candidates.length - 1; i > 0; i--) {
      const j = latticeRng.int(i + 1);
      [candidates[i], candidates[j]] = [candidates[j], candidates[i]];
    }
    const parent = new Map<number, number>(list.map((x) => [x, x]));
    const root = (x: number): number => {
      while (parent.get(x) !== x) {
        const p = parent.get(parent.get(x)!)!;
        parent.set(x, p);
        x = p;
      }
      return x;
    };
    for (const [a, b] of candidates) {
      const ra = root(a);
      const rb = root(b);
      if (ra !== rb) {
        parent.set(ra, rb);
        addLink('pipe', 'street', a, b, 1 + latticeRng.uniform(0, 0.15));
      } else if (latticeRng.next() < LOOP_SHARE) {
        addLink('pipe', 'loop', a, b, 1 + latticeRng.uniform(0, 0.15));
      }
    }
    dmas.push({ zone, col, row, nodes: list, boundary: [] });
    cellNodes.push(grid);
    return k;
  };
  /** The cell's junction on one side: the `t`-th (0…1) along it. */
  const sideNode = (k: number, side: 'north' | 'south' | 'east' | 'west', t: number): number => {
    const grid = cellNodes[k];
    const n = dmas[k].nodes.length;
    const width = Math.ceil(Math.sqrt(n));
    const height = Math.ceil(n / width);
    if (side === 'south' || side === 'north') {
      const u = Math.min(width - 1, Math.round(t * (width - 1)));
      if (side === 'south') return grid.get(`${u},0`)!;
      let v = height - 1;
      while (!grid.has(`${u},${v}`)) v--;
      return grid.get(`${u},${v}`)!;
    }
    const v = Math.min(height - 1, Math.round(t * (height - 1)));
    if (side === 'west') return grid.get(`0,${v}`)!;
    let u = width - 1;
    while (!grid.has(`${u},${v}`)) u--;
    return grid.get(`${u},${v}`)!;
  };

  // main cells first so that the demo's names follow the zones in order: hill, main, low
  const cellOrigin = (col: number, row: number) => ({ x: col * pitchX + GAP_M / 2, y: row * pitchY + GAP_M / 2 });
  const hillOffset = zones.hill < cols ? Math.floor((cols - zones.hill) / 2) : 0;
  const lowOffset = zones.low < cols ? cols - zones.low : 0;
  for (let j = 0; j < zones.hill; j++) {
    const col = hillOffset + (j % cols);
    const row = rows + Math.floor(j / cols);
    const o = cellOrigin(col, row);
    addDma('hill', col, row, o.x, o.y);
  }
  const mainCell = new Map<string, number>();
  for (let j = 0; j < zones.main; j++) {
    const col = j % cols;
    const row = Math.floor(j / cols);
    const o = cellOrigin(col, row);
    mainCell.set(`${col},${row}`, addDma('main', col, row, o.x, o.y));
  }
  for (let j = 0; j < zones.low; j++) {
    const col = lowOffset + (j % cols);
    const row = -1 - Math.floor(j / cols);
    const o = cellOrigin(col, row);
    addDma('low', col, row, o.x, o.y);
  }

  // --- trunk mains along the streets of the main grid ------------------------------------------
  const corner = new Map<string, number>();
  for (let r = 0; r <= rows; r++) for (let c = 0; c <= cols; c++) corner.set(`${c},${r}`, addNode('junction', c * pitchX, r * pitchY, 'main'));
  const trunkSegment = (a: number, b: number) => {
    const mid = addNode('junction', (nodes[a].x + nodes[b].x) / 2 + jitter.uniform(-0.1, 0.1) * STREET_M, (nodes[a].y + nodes[b].y) / 2 + jitter.uniform(-0.1, 0.1) * STREET_M, 'main');
    addLink('pipe', 'trunk', a, mid, 1.05);
    addLink('pipe', 'trunk', mid, b, 1.05);
  };
  for (let r = 0; r <= rows; r++) for (let c = 0; c < cols; c++) trunkSegment(corner.get(`${c},${r}`)!, corner.get(`${c + 1},${r}`)!);
  for (let r = 0; r < rows; r++) for (let c = 0; c <= cols; c++) trunkSegment(corner.get(`${c},${r}`)!, corner.get(`${c},${r + 1}`)!);

  // --- main DMAs: metered inlets from the trunk, metered pipes to some neighbours ---------------
  const meterRng = new Rng(seed, 'meters');
  const corners: { dc: number; dr: number; side: 'south' | 'north'; t: number }[] = [
    { dc: 0, dr: 0, side: 'south', t: 0 }, { dc: 1, dr: 0, side: 'south', t: 1 },
    { dc: 0, dr: 1, side: 'north', t: 0 }, { dc: 1, dr: 1, side: 'north', t: 1 },
  ];
  const border = (k: number, link: number) => dmas[k].boundary.push(link);
  for (const [key, k] of mainCell) {
    const [c, r] = key.split(',').map(Number);
    const first = meterRng.int(4);
    const count = meterRng.next() < 0.5 ? 1 : 2;
    for (let i = 0; i < count; i++) {
      const at = corners[(first + 3 * i) % 4];
      border(k, addLink('pipe', 'dma-inlet', corner.get(`${c + at.dc},${r + at.dr}`)!, sideNode(k, at.side, at.t)));
    }
  }
  const neighbours = [
    { dc: 1, dr: 0, side: 'east', opposite: 'west' },
    { dc: 0, dr: 1, side: 'north', opposite: 'south' },
  ] as const;
  for (const [key, k] of mainCell) {
    const [c, r] = key.split(',').map(Number);
    for (const n of neighbours) {
      const other = mainCell.get(`${c + n.dc},${r + n.dr}`);
      if (other === undefined || meterRng.next() >= NEIGHBOUR_PIPE_SHARE) continue;
      const t = meterRng.uniform(0.2, 0.8);
      const link = addLink('pipe', 'dma-border', sideNode(k, n.side, t), sideNode(other, n.opposite, t));
      border(k, link);
      border(other, link);
    }
  }

  // --- low zone: a feeder main from the trunk's south line to each DMA's PRV ----------------------
  const lowPrvs: number[] = [];
  for (let k = 0; k < dmas.length; k++) {
    const d = dmas[k];
    if (d.zone !== 'low') continue;
    const inside = sideNode(k, 'north', 0.5);
    const trunk = corner.get(`${d.col},0`)!;
    const feed = addNode('junction', nodes[inside].x - STREET_M * 0.6, nodes[inside].y + GAP_M * 0.35, 'main');
    addLink('pipe', 'feeder', trunk, feed, 1.05);
    const prv = addLink('prv', 'dma-inlet', feed, inside);
    lowPrvs.push(prv);
    border(k, prv);
  }

  // --- hill zone: pump from the trunk's north line into a tank, the tank feeds the DMA -----------
  const pumpedTanks: PumpedTank[] = [];
  for (let k = 0; k < dmas.length; k++) {
    const d = dmas[k];
    if (d.zone !== 'hill') continue;
    const inside = sideNode(k, 'south', 0.5);
    const trunk = corner.get(`${d.col},${rows}`)!;
    const suction = addNode('junction', nodes[inside].x - STREET_M * 1.2, nodes[inside].y - GAP_M * 0.45, 'main');
    const tank = addNode('tank', nodes[inside].x - STREET_M * 0.4, nodes[inside].y - GAP_M * 0.4, 'hill');
    addLink('pipe', 'feeder', trunk, suction, 1.05);
    const pump = addLink('pump', 'feeder', suction, tank);
    const outlet = addLink('pipe', 'tank-outlet', tank, inside, 1.05);
    border(k, outlet);
    pumpedTanks.push({
      dma: k, pump, tank, designFlowM3h: 0, designHeadM: 0, onBelowM: 2.4, offAboveM: 3.9, maxLevelM: 4.5, initLevelM: 3, diameterM: 0,
    });
  }

  // --- the plant, west of the grid: a reservoir, outlet main and PRV per trunk entry --------------
  const plantX = -1.6 * pitchX;
  const plantY = (rows * pitchY) / 2;
  const outlets: GeneratedNetwork['outlets'] = [];
  const mainPrvs: number[] = [];
  for (let i = 0; i < outletCount; i++) {
    // entries spread from the north-east corner of the grid to its south-west corner
    const share = outletCount === 1 ? 0 : i / (outletCount - 1);
    const entry = corner.get(`${cols - Math.round(share * cols)},${rows - Math.round(share * rows)}`)!;
    const reservoir = addNode('reservoir', plantX - 60, plantY + i * 40, 'plant');
    nodes[reservoir].elevation = RESERVOIR_HEAD_M;
    const works = addNode('junction', plantX, plantY + i * 40, 'plant');
    const main = addLink('pipe', 'plant-outlet', reservoir, works);
    const beforePrv = addNode('junction', nodes[entry].x - 50, nodes[entry].y + 30, 'plant');
    // a step down from the plant's ground to the town's: the PRV stands where the main arrives
    nodes[beforePrv].elevation = Math.round((ZONE_GROUND_M.main + 18 + (nodes[entry].elevation - ZONE_GROUND_M.main)) * 100) / 100;
    addLink('pipe', 'transmission', works, beforePrv, 1.1);
    mainPrvs.push(addLink('prv', 'transmission', beforePrv, entry));
    outlets.push({ reservoir, main });
  }
  if (nodes.filter((n) => n.kind === 'junction').length !== junctionCount) {
    throw new NetworkError(`internal: made ${nodes.filter((n) => n.kind === 'junction').length} junctions, not ${junctionCount}`);
  }

  // --- customers: households per junction, a few industrial users in the main zone ----------------
  const people = new Rng(seed, 'customers');
  for (const d of dmas) {
    for (const j of d.nodes) {
      nodes[j].customers = 4 + people.int(17);
      if (d.zone === 'main' && people.next() < 1 / 150) nodes[j].industrialM3h = Math.round(people.uniform(1, 4) * 100) / 100;
      if (d.zone === 'hill') nodes[j].amr = true;
    }
  }
  const meanM3h = (n: NetworkNode) => (n.customers * M3_PER_PROPERTY_DAY) / 24 + n.industrialM3h;

  // --- pipe sizes from the peak flow each carries; pumps and tanks sized for their zone ------------
  const edges: FlowEdge[] = [];
  links.forEach((l, i) => {
    if (l.role !== 'dma-border') edges.push({ link: i, a: l.from, b: l.to, length: l.lengthM });
  });
  const tree = shortestPathTree(nodes.length, edges, outlets.map((o) => o.reservoir));
  const peak = Float64Array.from(nodes, (n) => meanM3h(n) * PEAK_FACTOR);
  const flows = treeFlows(tree, edges, peak, links.length);
  for (const t of pumpedTanks) {
    const zoneMean = dmas[t.dma].nodes.reduce((s, j) => s + meanM3h(nodes[j]), 0);
    t.designFlowM3h = Math.round(zoneMean * 2.2 * 100) / 100;
    // a full tank holds about a day and a half of the zone's use (as L-Town's does): a smaller one
    // runs through its whole range every day and looks like a pump trip to the outage detector
    const area = (36 * zoneMean) / t.offAboveM;
    t.diameterM = Math.round(Math.sqrt((4 * area) / Math.PI) * 100) / 100;
    const tank = nodes[t.tank];
    tank.elevation = Math.round((ZONE_GROUND_M.hill + STATIC_PRESSURE_M - t.onBelowM) * 100) / 100;
    t.designHeadM = Math.round((tank.elevation + t.offAboveM - (ZONE_GROUND_M.main + STATIC_PRESSURE_M) + 6) * 100) / 100;
    // the suction main carries what the pump lifts, not the zone's peak
    const suctionMain = links.findIndex((l) => l.role === 'feeder' && l.kind === 'pipe' && l.to === links[t.pump].from);
    flows[suctionMain] = Math.max(flows[suctionMain], t.designFlowM3h);
  }
  const outletShare = peak.reduce((a, b) => a + b, 0) / outlets.length;
  links.forEach((l, i) => {
    const minimum = l.role === 'trunk' || l.role === 'transmission' || l.role === 'plant-outlet' || l.role === 'feeder' ? 200 : 100;
    // every plant outlet is built for its share of the town, whatever the shortest paths say, and
    // the long mains from the plant for half the velocity: their loss would eat the pressure margin
    const sizedFlow = l.role === 'transmission' ? 2 * Math.max(flows[i], outletShare) : l.role === 'plant-outlet' ? Math.max(flows[i], outletShare) : flows[i];
    l.diameterMm = l.kind === 'pump' ? 0 : commercialDiameterMm(sizedFlow, minimum);
  });
  // PRVs hold their zone's grade: ground level plus the static pressure
  for (const i of mainPrvs) links[i].setting = Math.round((ZONE_GROUND_M.main + STATIC_PRESSURE_M - nodes[links[i].to].elevation) * 100) / 100;
  for (const i of lowPrvs) links[i].setting = Math.round((ZONE_GROUND_M.low + STATIC_PRESSURE_M - nodes[links[i].to].elevation) * 100) / 100;

  // --- pressure loggers: each DMA's network end, then spread by farthest-point sampling ------------
  placePressureLoggers(nodes, links, dmas, edges);

  // --- names: junctions n1.., pipes p1.. in creation order; the special elements by role ---------
  let junctionNo = 0;
  let tankNo = 0;
  let reservoirNo = 0;
  for (const n of nodes) {
    if (n.kind === 'junction') n.id = `n${++junctionNo}`;
    else if (n.kind === 'tank') n.id = `T${++tankNo}`;
    else n.id = `R${++reservoirNo}`;
  }
  let pipeNo = 0;
  let pumpNo = 0;
  for (const l of links) if (l.kind === 'pipe') l.id = `p${++pipeNo}`;
  for (const l of links) if (l.kind === 'pump') l.id = `PUMP_${++pumpNo}`;
  [...mainPrvs, ...lowPrvs].forEach((i, k) => { links[i].id = `PRV-${k + 1}`; });
  return { nodes, links, dmas, outlets, pumpedTanks, m3PerPropertyDay: M3_PER_PROPERTY_DAY };
}

function placePressureLoggers(nodes: NetworkNode[], links: NetworkLink[], dmas: NetworkDma[], edges: FlowEdge[]): void {
  const inside = (a: number, b: number, k: number) => nodes[a].dma === k && nodes[b].dma === k;
  const byDma = new Map<number, FlowEdge[]>();
  for (const e of edges) {
    const k = nodes[e.a].dma;
    if (k < 0 || !inside(e.a, e.b, k)) continue;
    const list = byDma.get(k) ?? [];
    list.push(e);
    byDma.set(k, list);
  }
  dmas.forEach((d, k) => {
    const local = new Map(d.nodes.map((n, i) => [n, i]));
    const localEdges = (byDma.get(k) ?? []).map((e) => ({ ...e, a: local.get(e.a)!, b: local.get(e.b)! }));
    const entries = d.boundary.flatMap((l) => [links[l].from, links[l].to]).filter((n) => local.has(n)).map((n) => local.get(n)!);
    const { dist } = shortestPathTree(d.nodes.length, localEdges, entries);
    let end = 0;
    for (let i = 1; i < d.nodes.length; i++) if (dist[i] > dist[end]) end = i;
    const wanted = Math.max(2, Math.round(d.nodes.length / JUNCTIONS_PER_LOGGER));
    const chosen = [d.nodes[end]];
    const gap = d.nodes.map((n) => Math.hypot(nodes[n].x - nodes[d.nodes[end]].x, nodes[n].y - nodes[d.nodes[end]].y));
    while (chosen.length < wanted) {
      let best = 0;
      for (let i = 1; i < gap.length; i++) if (gap[i] > gap[best]) best = i;
      const pick = d.nodes[best];
      chosen.push(pick);
      for (let i = 0; i < gap.length; i++) gap[i] = Math.min(gap[i], Math.hypot(nodes[d.nodes[i]].x - nodes[pick].x, nodes[d.nodes[i]].y - nodes[pick].y));
    }
    for (const n of chosen) nodes[n].pressureSensor = true;
  });
}
