/** The demo town's pipes for the dashboard map: every link in model coordinates, tagged with its DMA. */
import { describe, expect, it } from 'vitest';
import { loadCity } from './index.ts';
import { cityMap, inpVertices } from './map.ts';

describe('city map', () => {
  it('draws every link of the demo town from its nodes\' coordinates, tagged with the DMA of its junctions', () => {
    const city = loadCity('demo');
    const { links } = cityMap(city);
    expect(links).toHaveLength(city.network.links.size);
    const byDma = new Map<string, number>();
    for (const l of links) if (l.dma) byDma.set(l.dma, (byDma.get(l.dma) ?? 0) + 1);
    expect([...byDma.keys()].sort()).toEqual(city.dmas.map((d) => d.id).sort());
    // a pipe between two junctions of one DMA carries that DMA
    const [id, link] = [...city.network.links].find(([, l]) => city.junctionDma.get(l.from) === 'central' && city.junctionDma.get(l.to) === 'central')!;
    const a = city.network.coordinates.get(link.from)!;
    const drawn = links.find((l) => l.points[0][0] === a.x && l.points[0][1] === a.y && l.dma === 'central');
    expect(drawn, `link ${id}`).toBeDefined();
    // a DMA boundary link joins two DMAs: it belongs to neither
    const boundary = city.dmas.find((d) => d.id === 'central')!.boundary[0];
    const bl = city.network.links.get(boundary)!;
    if (city.junctionDma.get(bl.from) && city.junctionDma.get(bl.to)) {
      const p = city.network.coordinates.get(bl.from)!;
      const q = city.network.coordinates.get(bl.to)!;
      expect(links.find((l) => l.points[0][0] === p.x && l.points[0][1] === p.y && l.points.at(-1)![0] === q.x && l.points.at(-1)![1] === q.y)?.dma).toBeUndefined();
    }
  });

  it('reads vertices from the [VERTICES] section', () => {
    const text = '[PIPES]\np1 a b 10 100 100 0 Open\n[VERTICES]\n;Link X Y\np1 1.5 2\np1 3 4.25 ;bend\n\n[END]\n';
    expect([...inpVertices(text)]).toEqual([['p1', [[1.5, 2], [3, 4.25]]]]);
  });
});
