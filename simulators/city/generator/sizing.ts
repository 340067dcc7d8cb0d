/**
 * Pipe diameters from the demand each pipe carries: the peak demand of every junction is routed to
 * the sources along the shortest path tree (by pipe length), the flow each tree pipe carries sets
 * its diameter (the smallest commercial size at or under the design velocity), and the pipes that
 * close loops get the zone's minimum size.
 */
import { MinHeap } from '../min-heap.ts';

/** Commercial nominal diameters, mm. */
export const COMMERCIAL_MM = [100, 150, 200, 250, 300, 350, 400, 500, 600, 700, 800, 900, 1000, 1200, 1400, 1600, 1800, 2000];
/** Velocity the tree flow is sized for at peak, m/s (loops share the flow, so real velocities are lower). */
export const DESIGN_VELOCITY_MS = 0.9;

export function commercialDiameterMm(peakM3h: number, minimumMm: number): number {
  const q = Math.abs(peakM3h) / 3600;
  const needed = Math.sqrt((4 * q) / (Math.PI * DESIGN_VELOCITY_MS)) * 1000;
  for (const d of COMMERCIAL_MM) if (d >= needed && d >= minimumMm) return d;
  return COMMERCIAL_MM[COMMERCIAL_MM.length - 1];
}

export interface FlowEdge {
  /** Index of the link. */
  link: number;
  a: number;
  b: number;
  length: number;
}

export interface ShortestPathTree {
  /** Pipe distance from the nearest source (Infinity where unreached). */
  dist: Float64Array;
  /** Edge through which each node is reached (-1 for sources and unreached nodes). */
  parentEdge: Int32Array;
  /** Nodes in the order they were settled, nearest first. */
  order: number[];
}

/** Dijkstra from `sources` over `edges`, by length. */
export function shortestPathTree(nodeCount: number, edges: readonly FlowEdge[], sources: readonly number[]): ShortestPathTree {
  const adjacency: number[][] = Array.from({ length: nodeCount }, () => []);
  edges.forEach((e, i) => {
    adjacency[e.a].push(i);
    adjacency[e.b].push(i);
  });
  const dist = new Float64Array(nodeCount).fill(Infinity);
  const parentEdge = new Int32Array(nodeCount).fill(-1);
  const order: number[] = [];
  const settled = new Uint8Array(nodeCount);
  const heap = new MinHeap();
  for (const s of sources) {
    dist[s] = 0;
    heap.push(0, s);
  }
  while (heap.size) {
    const [d, u] = heap.pop();
    if (settled[u]) continue;
    settled[u] = 1;
    order.push(u);
    for (const ei of adjacency[u]) {
      const e = edges[ei];
      const w = e.a === u ? e.b : e.a;
      const nd = d + e.length;
      if (nd < dist[w]) {
        dist[w] = nd;
        parentEdge[w] = ei;
        heap.push(nd, w);
      }
    }
  }
  return { dist, parentEdge, order };
}

/**
 * Peak flow (m³/h) each link carries when every node's demand goes to it along the shortest path
 * tree from the sources; links off the tree carry 0.
 */
export function treeFlows(tree: ShortestPathTree, edges: readonly FlowEdge[], peakDemand: Float64Array, linkCount: number): Float64Array {
  const carried = Float64Array.from(peakDemand);
  const flows = new Float64Array(linkCount);
  for (let k = tree.order.length - 1; k >= 0; k--) {
    const u = tree.order[k];
    const ei = tree.parentEdge[u];
    if (ei < 0) continue;
    const e = edges[ei];
    flows[e.link] = carried[u];
    carried[e.a === u ? e.b : e.a] += carried[u];
  }
  return flows;
}
