/**
 * The generated network as EPANET .inp text (CMH, metres, Hazen-Williams, pressure-driven demand):
 * junctions with their domestic demand on their DMA's pattern and a comment marking pressure
 * loggers and AMR meters (the comments the city reads, as L-Town writes them), industrial users as a
 * second demand category on a flat pattern, pumps with 3-point curves and level controls,
 * coordinates for every node. Numbers are written with fixed decimals: one seed, one text.
 */
import type { GeneratedNetwork } from './network.ts';

export interface InpOptions {
  title: string;
  /** DMA index → id of its demand pattern; patterns by id (multipliers per hour). */
  dmaPattern: (dma: number) => string;
  patterns: Map<string, number[]>;
}

const INDUSTRIAL_PATTERN = 'IND';
const HAZEN_WILLIAMS_C = { distribution: 120, trunk: 130 };

export function writeInp(net: GeneratedNetwork, options: InpOptions): string {
  const out: string[] = [];
  const f = (v: number, digits: number) => v.toFixed(digits);
  const { nodes, links } = net;
  out.push('[TITLE]', options.title, '');

  out.push('[JUNCTIONS]', ';ID\tElev\tDemand\tPattern');
  const industrial: number[] = [];
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i];
    if (n.kind !== 'junction') continue;
    const demand = (n.customers * net.m3PerPropertyDay) / 24;
    const marks = [n.amr ? 'AMR' : '', n.pressureSensor ? 'PRESSURE SENSOR' : ''].filter(Boolean).join(' & ');
    const pattern = n.dma >= 0 ? options.dmaPattern(n.dma) : '';
    out.push(`${n.id}\t${f(n.elevation, 2)}\t${f(demand, 6)}\t${demand > 0 ? pattern : ''}\t;${marks}`);
    if (n.industrialM3h > 0) industrial.push(i);
  }
  out.push('');

  out.push('[RESERVOIRS]', ';ID\tHead');
  for (const n of nodes) if (n.kind === 'reservoir') out.push(`${n.id}\t${f(n.elevation, 2)}\t;`);
  out.push('');

  out.push('[TANKS]', ';ID\tElev\tInitLevel\tMinLevel\tMaxLevel\tDiameter\tMinVol');
  for (const t of net.pumpedTanks) {
    out.push(`${nodes[t.tank].id}\t${f(nodes[t.tank].elevation, 2)}\t${f(t.initLevelM, 2)}\t0.00\t${f(t.maxLevelM, 2)}\t${f(t.diameterM, 2)}\t0\t;LEVEL SENSOR`);
  }
  out.push('');

  out.push('[PIPES]', ';ID\tNode1\tNode2\tLength\tDiameter\tRoughness\tMinorLoss\tStatus');
  for (const l of links) {
    if (l.kind !== 'pipe') continue;
    const c = l.role === 'trunk' || l.role === 'transmission' || l.role === 'plant-outlet' || l.role === 'feeder' ? HAZEN_WILLIAMS_C.trunk : HAZEN_WILLIAMS_C.distribution;
    out.push(`${l.id}\t${nodes[l.from].id}\t${nodes[l.to].id}\t${f(l.lengthM, 1)}\t${l.diameterMm}\t${c}\t0\tOpen\t;${l.role}`);
  }
  out.push('');

  out.push('[PUMPS]', ';ID\tNode1\tNode2\tParameters');
  for (const t of net.pumpedTanks) {
    const l = links[t.pump];
    out.push(`${l.id}\t${nodes[l.from].id}\t${nodes[l.to].id}\tHEAD C-${l.id}\t;FLOW SENSOR`);
  }
  out.push('');

  out.push('[VALVES]', ';ID\tNode1\tNode2\tDiameter\tType\tSetting\tMinorLoss');
  for (const l of links) if (l.kind === 'prv') out.push(`${l.id}\t${nodes[l.from].id}\t${nodes[l.to].id}\t${l.diameterMm}\tPRV\t${f(l.setting ?? 0, 2)}\t0\t;${l.role}`);
  out.push('');

  out.push('[DEMANDS]', ';Junction\tDemand\tPattern\tCategory');
  for (const i of industrial) {
    const n = nodes[i];
    out.push(`${n.id}\t${f((n.customers * net.m3PerPropertyDay) / 24, 6)}\t${options.dmaPattern(n.dma)}\t;domestic`);
    out.push(`${n.id}\t${f(n.industrialM3h, 6)}\t${INDUSTRIAL_PATTERN}\t;industrial`);
  }
  out.push('');

  out.push('[PATTERNS]', ';ID\tMultipliers (hourly)');
  for (const [id, values] of options.patterns) {
    for (let i = 0; i < values.length; i += 6) out.push(`${id}\t${values.slice(i, i + 6).map((v) => f(v, 4)).join('\t')}`);
  }
  if (industrial.length) out.push(`${INDUSTRIAL_PATTERN}\t1.0000`);
  out.push('');

  out.push('[CURVES]', ';ID\tFlow\tHead');
  for (const t of net.pumpedTanks) {
    const id = `C-${links[t.pump].id}`;
    out.push(`;PUMP: ${id}`);
    out.push(`${id}\t0.00\t${f(t.designHeadM * 4 / 3, 2)}`, `${id}\t${f(t.designFlowM3h, 2)}\t${f(t.designHeadM, 2)}`, `${id}\t${f(2 * t.designFlowM3h, 2)}\t0.00`);
  }
  out.push('');

  out.push('[CONTROLS]');
  for (const t of net.pumpedTanks) {
    const pump = links[t.pump].id;
    const tank = nodes[t.tank].id;
    out.push(`LINK ${pump} CLOSED IF NODE ${tank} ABOVE ${f(t.offAboveM, 2)}`, `LINK ${pump} OPEN IF NODE ${tank} BELOW ${f(t.onBelowM, 2)}`);
  }
  out.push('');

  out.push('[TIMES]', 'Duration\t24:00', 'Hydraulic Timestep\t0:05', 'Pattern Timestep\t1:00', 'Report Timestep\t1:00', '');
  out.push('[OPTIONS]', 'Units\tCMH', 'Headloss\tH-W', 'Trials\t50', 'Accuracy\t0.001', 'Unbalanced\tContinue 10', 'Quality\tNONE',
    'Demand Model\tPDA', 'Minimum Pressure\t0', 'Required Pressure\t15', 'Pressure Exponent\t0.5', '');

  out.push('[COORDINATES]', ';Node\tX\tY');
  for (const n of nodes) out.push(`${n.id}\t${f(n.x, 2)}\t${f(n.y, 2)}`);
  out.push('', '[END]', '');
  return out.join('\n');
}
