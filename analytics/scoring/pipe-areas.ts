/**
 * Which area each pipe of the network model lies in, for scoring a repair log that names pipes (as
 * BattLeDIM's does) against alarms raised per area. The model is the topology's `map` file (the
 * simulators write it from the .inp: `{ links: [{ id, dma?, points }] }`, a link tagged with the DMA
 * both its ends are in; a link between two DMAs or outside every one carries none).
 */
import { readFileSync } from 'node:fs';

/** Pipe id → its DMA; undefined: a pipe of the model that lies in no single DMA (a border, a trunk main). */
export type PipeAreas = ReadonlyMap<string, string | undefined>;

export class PipeModelError extends Error {
  constructor(readonly file: string, problem: string) {
    super(`topology.map ${file}: ${problem}`);
    this.name = 'PipeModelError';
  }
}

/** The pipes of a topology map file with their DMAs. A map without link ids places no pipe (an error says so). */
export function readPipeAreas(file: string): PipeAreas {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new PipeModelError(file, (e as Error).message);
  }
  const links = (doc as { links?: unknown }).links;
  if (!Array.isArray(links)) throw new PipeModelError(file, 'links: expected an array');
  const out = new Map<string, string | undefined>();
  links.forEach((l: { id?: unknown; dma?: unknown }, i) => {
    if (l.id === undefined) return;
    if (typeof l.id !== 'string') throw new PipeModelError(file, `links[${i}].id: expected the model's link id`);
    out.set(l.id, typeof l.dma === 'string' ? l.dma : undefined);
  });
  if (links.length && !out.size) throw new PipeModelError(file, 'its links carry no id (written before pipes were named): write it again with `aquawatch city`');
  return out;
}
