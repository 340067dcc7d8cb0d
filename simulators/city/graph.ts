/**
 * The network as a graph, for the questions the city and the scenarios ask without the hydraulic
 * model: which junctions a DMA's boundary encloses, which pressure sensor is nearest a burst (by pipe
 * length), and which junctions lose their supply when some links are closed.
 */
import type { InpNetwork } from '../hydraulics/inp.ts';
import { MinHeap } from './min-heap.ts';

interface Edge {
  to: string;
  link: string;
  /** Pipe length in the model's unit; 0 for pumps and valves. */
  length: number;
}

export class NetworkGraph {
  private readonly adjacency = new Map<string, Edge[]>();

  constructor(readonly network: InpNetwork) {
    const add = (a: string, e: Edge) => {
      const list = this.adjacency.get(a);
      if (list) list.push(e);
      else this.adjacency.set(a, [e]);
    };
    for (const l of network.links.values()) {
      const length = l.length ?? 0;
      add(l.from, { to: l.to, link: l.id, length });
      add(l.to, { to: l.from, link: l.id, length });
    }
  }

  edges(node: string): readonly Edge[] {
    return this.adjacency.get(node) ?? [];
  }

  /** Junctions reachable from `seed` without crossing `cut` links or entering tanks and reservoirs. */
  enclosed(seed: string, cut: ReadonlySet<string>): Set<string> {
    const seen = new Set<string>([seed]);
    const stack = [seed];
    while (stack.length) {
      const u = stack.pop()!;
      for (const e of this.edges(u)) {
        if (cut.has(e.link) || seen.has(e.to) || !this.network.junctions.has(e.to)) continue;
        const link = this.network.links.get(e.link)!;
        if (link.type === 'pump') continue;
        seen.add(e.to);
        stack.push(e.to);
      }
    }
    return seen;
  }

  /** Shortest pipe distance from any of `sources` to every node reached (Dijkstra). */
  distances(sources: Iterable<string>, within?: ReadonlySet<string>): Map<string, number> {
    const dist = new Map<string, number>();
    const frontier = new MinHeap();
    const ids: string[] = [];
    const visit = (node: string, d: number) => {
      dist.set(node, d);
      ids.push(node);
      frontier.push(d, ids.length - 1);
    };
    for (const s of sources) visit(s, 0);
    while (frontier.size) {
      const [d, k] = frontier.pop();
      const u = ids[k];
      if (d > (dist.get(u) ?? Infinity)) continue;
      for (const e of this.edges(u)) {
        if (within && !within.has(e.to)) continue;
        const nd = d + e.length;
        if (nd < (dist.get(e.to) ?? Infinity)) visit(e.to, nd);
      }
    }
    return dist;
  }

  /** The candidate nearest `from` by pipe length (ties: the first listed), or undefined. */
  nearest(from: string, candidates: readonly string[]): string | undefined {
    const dist = this.distances([from]);
    let best: string | undefined;
    let bestD = Infinity;
    for (const c of candidates) {
      const d = dist.get(c) ?? Infinity;
      if (d < bestD) {
        bestD = d;
        best = c;
      }
    }
    return best;
  }

  /**
   * Junctions without a path to any reservoir or tank once `closed` links are shut: the area a
   * valve closure leaves without water.
   */
  cutOff(closed: ReadonlySet<string>): Set<string> {
    const supplied = new Set<string>();
    const stack: string[] = [];
    for (const id of [...this.network.reservoirs.keys(), ...this.network.tanks.keys()]) {
      supplied.add(id);
      stack.push(id);
    }
    while (stack.length) {
      const u = stack.pop()!;
      for (const e of this.edges(u)) {
        if (closed.has(e.link) || supplied.has(e.to)) continue;
        supplied.add(e.to);
        stack.push(e.to);
      }
    }
    return new Set([...this.network.junctions.keys()].filter((j) => !supplied.has(j)));
  }
}
