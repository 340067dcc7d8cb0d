/**
 * A reader for the parts of an EPANET .inp file that the city needs without running the model:
 * elements, their connections, demands, coordinates and the comments that mark sensors
 * (L-Town writes `;PRESSURE SENSOR`, `;AMR`, `;FLOW SENSOR` after an element's line).
 * The hydraulic engine itself loads the file into EPANET; this reader never computes hydraulics.
 */

export interface InpJunction {
  id: string;
  elevation: number;
  /** Demand categories: base demand in the model's flow unit and the pattern id (or none). */
  demands: { base: number; pattern?: string; category?: string }[];
  comment: string;
}

export interface InpTank {
  id: string;
  elevation: number;
  initLevel: number;
  minLevel: number;
  maxLevel: number;
  diameter: number;
  comment: string;
}

export interface InpReservoir {
  id: string;
  head: number;
  comment: string;
}

export interface InpLink {
  id: string;
  type: 'pipe' | 'pump' | 'valve';
  from: string;
  to: string;
  /** Pipes only, in the model's length unit. */
  length?: number;
  diameter?: number;
  /** Valves only: PRV, PSV, PBV, FCV, TCV or GPV, and its setting. */
  valveType?: string;
  setting?: number;
  /** Initial status written on the pipe line (Open, Closed, CV). */
  status?: string;
  comment: string;
}

export interface InpNetwork {
  title: string;
  /** The flow unit named in [OPTIONS] (CMH, LPS, GPM...). */
  flowUnits: string;
  /** SI models give lengths and pressures in metres; US ones in feet and psi. */
  si: boolean;
  junctions: Map<string, InpJunction>;
  reservoirs: Map<string, InpReservoir>;
  tanks: Map<string, InpTank>;
  links: Map<string, InpLink>;
  patterns: Map<string, number[]>;
  coordinates: Map<string, { x: number; y: number }>;
  /** [OPTIONS] Pattern: the pattern of junctions that name none. */
  defaultPattern?: string;
}

const SI_UNITS = new Set(['LPS', 'LPM', 'MLD', 'CMH', 'CMD', 'CMS']);

export class InpError extends Error {
  constructor(readonly line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.name = 'InpError';
  }
}

/** Parse the text of an .inp file. */
export function parseInp(text: string): InpNetwork {
  const net: InpNetwork = {
    title: '', flowUnits: 'GPM', si: false,
    junctions: new Map(), reservoirs: new Map(), tanks: new Map(), links: new Map(),
    patterns: new Map(), coordinates: new Map(),
  };
  /** Demands listed in [DEMANDS] replace the one on the [JUNCTIONS] line, as in EPANET. */
  const listedDemands = new Map<string, InpJunction['demands']>();
  let section = '';
  const lines = text.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const raw = lines[n];
    const trimmed = raw.trim();
    if (trimmed.startsWith('[')) {
      section = trimmed.toUpperCase();
      continue;
    }
    if (section === '[TITLE]') {
      if (trimmed && !net.title) net.title = trimmed;
      continue;
    }
    const semi = raw.indexOf(';');
    const data = (semi >= 0 ? raw.slice(0, semi) : raw).trim();
    const comment = semi >= 0 ? raw.slice(semi + 1).trim() : '';
    if (!data) continue;
    const f = data.split(/\s+/);
    const num = (i: number, what: string): number => {
      const v = Number(f[i]);
      if (f[i] === undefined || !Number.isFinite(v)) throw new InpError(n + 1, `${section} ${f[0]}: ${what} is not a number (${f[i]})`);
      return v;
    };
    switch (section) {
      case '[JUNCTIONS]':
        net.junctions.set(f[0], {
          id: f[0], elevation: num(1, 'elevation'),
          demands: f[2] !== undefined ? [{ base: num(2, 'demand'), pattern: f[3] }] : [],
          comment,
        });
        break;
      case '[RESERVOIRS]':
        net.reservoirs.set(f[0], { id: f[0], head: num(1, 'head'), comment });
        break;
      case '[TANKS]':
        net.tanks.set(f[0], {
          id: f[0], elevation: num(1, 'elevation'), initLevel: num(2, 'initial level'), minLevel: num(3, 'minimum level'),
          maxLevel: num(4, 'maximum level'), diameter: num(5, 'diameter'), comment,
        });
        break;
      case '[PIPES]':
        net.links.set(f[0], {
          id: f[0], type: 'pipe', from: f[1], to: f[2], length: num(3, 'length'), diameter: num(4, 'diameter'),
          status: f[7], comment,
        });
        break;
      case '[PUMPS]':
        net.links.set(f[0], { id: f[0], type: 'pump', from: f[1], to: f[2], comment });
        break;
      case '[VALVES]':
        net.links.set(f[0], {
          id: f[0], type: 'valve', from: f[1], to: f[2], diameter: num(3, 'diameter'),
          valveType: f[4]?.toUpperCase(), setting: Number(f[5]), comment,
        });
        break;
      case '[DEMANDS]': {
        const list = listedDemands.get(f[0]) ?? [];
        list.push({ base: num(1, 'demand'), pattern: f[2], category: comment || undefined });
        listedDemands.set(f[0], list);
        break;
      }
      case '[PATTERNS]': {
        const values = net.patterns.get(f[0]) ?? [];
        for (let i = 1; i < f.length; i++) values.push(num(i, 'multiplier'));
        net.patterns.set(f[0], values);
        break;
      }
      case '[COORDINATES]':
        net.coordinates.set(f[0], { x: num(1, 'x'), y: num(2, 'y') });
        break;
      case '[OPTIONS]': {
        const key = f[0].toUpperCase();
        if (key === 'UNITS') net.flowUnits = (f[1] ?? 'GPM').toUpperCase();
        else if (key === 'PATTERN') net.defaultPattern = f[1];
        break;
      }
      default:
        break;
    }
  }
  for (const [id, list] of listedDemands) {
    const j = net.junctions.get(id);
    if (j) j.demands = list;
  }
  net.si = SI_UNITS.has(net.flowUnits);
  if (!net.defaultPattern && net.patterns.has('1')) net.defaultPattern = '1';
  return net;
}

/** Mean of a pattern's multipliers (1 for no pattern): a demand's long-run average factor. */
export function patternMean(net: InpNetwork, pattern: string | undefined): number {
  const values = net.patterns.get(pattern ?? net.defaultPattern ?? '');
  if (!values || values.length === 0) return 1;
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** A junction's average demand in the model's flow unit. */
export function meanDemand(net: InpNetwork, junction: InpJunction): number {
  return junction.demands.reduce((sum, d) => sum + d.base * patternMean(net, d.pattern), 0);
}
