/**
 * The city's pipes for the dashboard's area map, in the model's own coordinates: each link of the
 * .inp from its first node through its vertices (the [VERTICES] section, when the file has any) to
 * its second node, tagged with the DMA it lies in (the city's flood fill; a link between two DMAs
 * or outside every DMA carries none). Written as JSON `{ links: [{ id, dma?, points }] }`, the format
 * of the topology's `map` file; the link ids let a repair log that names pipes be placed in areas
 * (analytics/scoring/pipe-areas.ts).
 */
import { writeFileSync } from 'node:fs';
import type { City } from './city.ts';

export interface MapLink { id: string; dma?: string; points: [number, number][] }

/** Link id → its vertices, read from the .inp text (the network reader skips that section). */
export function inpVertices(inpText: string): Map<string, [number, number][]> {
  const out = new Map<string, [number, number][]>();
  let inSection = false;
  for (const raw of inpText.split(/\r?\n/)) {
    const line = raw.replace(/;.*$/, '').trim();
    if (!line) continue;
    if (line.startsWith('[')) { inSection = line.toUpperCase() === '[VERTICES]'; continue; }
    if (!inSection) continue;
    const [link, x, y] = line.split(/\s+/);
    const px = Number(x);
    const py = Number(y);
    if (!link || !Number.isFinite(px) || !Number.isFinite(py)) continue;
    const list = out.get(link) ?? [];
    list.push([px, py]);
    out.set(link, list);
  }
  return out;
}

export function cityMap(city: City): { links: MapLink[] } {
  const net = city.network;
  const vertices = inpVertices(city.inpText);
  const dmaOf = (node: string) => city.junctionDma.get(node);
  const links: MapLink[] = [];
  for (const l of net.links.values()) {
    const a = net.coordinates.get(l.from);
    const b = net.coordinates.get(l.to);
    if (!a || !b) continue;
    const da = dmaOf(l.from);
    const db = dmaOf(l.to);
    // inside one DMA, or from a DMA to a node outside every DMA (a tank, the plant side)
    const dma = da && db ? (da === db ? da : undefined) : da ?? db;
    links.push({ id: l.id, ...(dma ? { dma } : {}), points: [[a.x, a.y], ...(vertices.get(l.id) ?? []), [b.x, b.y]] });
  }
  return { links };
}

/** Write the map file; returns its path. */
export function writeCityMap(city: City, file: string): string {
  writeFileSync(file, JSON.stringify(cityMap(city)));
  return file;
}
