/**
 * The hydraulic engine: an EPANET network (through epanet-js) run in extended period, one step at a
 * time, with the changes that scenario events make while it runs. Values come out in SI whatever the
 * model's own units (flow m³/h, pressure and head m, level m, chlorine mg/L), so the callers never
 * see a model's GPM or psi.
 *
 * Demands: the model's time patterns are replaced by one pattern per demand group (a DMA) whose single
 * multiplier the caller sets before every solve (`setGroupMultiplier`), so the shape comes from real
 * profiles and the run can go on for any length of time. Flat patterns (industrial use) are kept.
 *
 * Pressure-driven analysis (PDA) is on, so that a zone cut off from its supply ends at zero pressure
 * and zero delivery instead of the large negative pressures a demand-driven model would report.
 */
import {
  Project, Workspace, NodeProperty, LinkProperty, InitHydOption, CountType, TimeParameter, NodeType,
  LinkType, QualityType, DemandModel, FlowUnits, SourceType,
} from 'epanet-js';

/** m³/h per one unit of each EPANET flow unit. */
const FLOW_TO_M3H: Record<number, number> = {
  [FlowUnits.CFS]: 101.9406477, [FlowUnits.GPM]: 0.2271247, [FlowUnits.MGD]: 157.7254910,
  [FlowUnits.IMGD]: 189.4204167, [FlowUnits.AFD]: 51.3950926, [FlowUnits.LPS]: 3.6, [FlowUnits.LPM]: 0.06,
  [FlowUnits.MLD]: 41.6666667, [FlowUnits.CMH]: 1, [FlowUnits.CMD]: 1 / 24, 10 /* CMS, EPANET 2.3 */: 3600,
};
const FOOT = 0.3048;
const PSI_TO_M = 0.70307;

export interface QualitySettings {
  /** Chlorine (mg/L) of the water each source node (reservoir) sends out. */
  sources: Record<string, number>;
  /** First-order bulk decay, 1/day (negative decays). */
  bulkPerDay: number;
  /** First-order wall decay, m/day (negative decays); 0 for none. */
  wallMPerDay?: number;
  /** Initial chlorine everywhere, mg/L, so a run does not begin with empty pipes. */
  initial: number;
}

export interface ModelOptions {
  /** Hydraulic time step, s: the step between solutions (events may add steps in between). */
  hydraulicStepS: number;
  /** Pressure-driven analysis: no delivery below minPressureM, full delivery from requiredPressureM. */
  minPressureM?: number;
  requiredPressureM?: number;
  /**
   * Chlorine transport and decay. When the model has no quality analysis and this is given, one is
   * set up; when the model has its own (EPANET's Net1 does) and this is omitted, the model's is kept.
   */
  quality?: QualitySettings;
  /** Demand groups: junction id → group name. Junctions in no group use the group 'default'. */
  demandGroups?: Map<string, string>;
  /** Junctions that may leak during the run: each gets a leak demand (see setLeakDemand). */
  leakJunctions?: string[];
}

/** One demand category of a junction after re-patterning: which group drives it and its mean base. */
interface JunctionDemand {
  /** 1-based demand index in EPANET. */
  index: number;
  /** Average demand in m³/h (base × mean of the pattern it had). */
  meanM3h: number;
  /** A flat pattern (industrial use) keeps its own pattern; others follow the group multiplier. */
  flat: boolean;
}

/** A quantity that cannot be set or read because the element does not exist or is of another type. */
export class ModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelError';
  }
}

export class HydraulicModel {
  /** Seconds since the model's time zero; the caller maps them to timestamps. */
  time = 0;
  /** EPANET warnings seen (code → count): unbalanced solutions, negative pressures, disconnections. */
  readonly warnings = new Map<number, number>();
  readonly nodeCount: number;
  readonly linkCount: number;
  readonly flowToM3h: number;
  /** Model length/pressure unit to metres (1 for SI models). */
  readonly lengthToM: number;
  readonly pressureToM: number;
  readonly hasQuality: boolean;

  private readonly nodeIds: string[] = [''];
  private readonly linkIds: string[] = [''];
  private readonly nodeIndexById = new Map<string, number>();
  private readonly linkIndexById = new Map<string, number>();
  private readonly elevationM: Float64Array;
  private readonly nodeTypes: NodeType[] = [];
  private readonly linkTypes: LinkType[] = [];
  /** Initial settings of valves, to restore a valve's control after it was closed and reopened. */
  private readonly initialSetting = new Map<number, number>();
  /** Demand group name → EPANET pattern index. */
  private readonly groupPattern = new Map<string, number>();
  private readonly junctionDemands = new Map<number, JunctionDemand[]>();
  /** Controls disabled while a pump is tripped (link index → control indices). */
  private readonly suspendedControls = new Map<number, number[]>();
  /** Junction index → 1-based index of its leak demand category. */
  private readonly leakSlot = new Map<number, number>();
  private bulkBase = new Map<number, number>();
  private opened = false;

  private constructor(private readonly project: Project, private readonly options: ModelOptions) {
    const p = project;
    this.nodeCount = p.getCount(CountType.NodeCount);
    this.linkCount = p.getCount(CountType.LinkCount);
    const units = p.getFlowUnits();
    this.flowToM3h = FLOW_TO_M3H[units] ?? 1;
    const si = units >= FlowUnits.LPS;
    this.lengthToM = si ? 1 : FOOT;
    this.pressureToM = si ? 1 : PSI_TO_M;
    this.elevationM = new Float64Array(this.nodeCount + 1);
    for (let i = 1; i <= this.nodeCount; i++) {
      const id = p.getNodeId(i);
      this.nodeIds.push(id);
      this.nodeIndexById.set(id, i);
      this.nodeTypes[i] = p.getNodeType(i);
      this.elevationM[i] = p.getNodeValue(i, NodeProperty.Elevation) * this.lengthToM;
    }
    for (let i = 1; i <= this.linkCount; i++) {
      const id = p.getLinkId(i);
      this.linkIds.push(id);
      this.linkIndexById.set(id, i);
      this.linkTypes[i] = p.getLinkType(i);
      if (this.linkTypes[i] >= LinkType.PRV) this.initialSetting.set(i, p.getLinkValue(i, LinkProperty.InitSetting));
    }
    this.hasQuality = options.quality !== undefined || p.getQualityType().qualType === QualityType.Chem;
  }

  /**
   * Load a network from the text of an .inp file and prepare it for stepping. The model starts at
   * time 0 with its first solution computed (call `advanceTo` to move on).
   */
  static async open(inpText: string, options: ModelOptions, beforeFirstSolve?: (m: HydraulicModel) => void): Promise<HydraulicModel> {
    const ws = new Workspace();
    await ws.loadModule();
    const project = new Project(ws);
    // epanet-js prints EPANET's warnings (codes below 100) with console.warn; a leak scenario makes
    // hundreds. Count them instead; errors (100 and up) still throw.
    const withErrors = project as unknown as { _checkError(code: number): void };
    const original = withErrors._checkError.bind(project);
    const model = { current: undefined as HydraulicModel | undefined };
    withErrors._checkError = (code: number) => {
      if (code > 0 && code < 100) {
        const w = model.current?.warnings;
        if (w) w.set(code, (w.get(code) ?? 0) + 1);
        return;
      }
      original(code);
    };
    ws.writeFile('model.inp', inpText);
    try {
      project.open('model.inp', 'model.rpt', '');
    } catch (e) {
      const report = ws.readFile('model.rpt');
      const detail = report.split('\n').filter((l) => /Error \d+/.test(l)).slice(0, 5).join('; ');
      throw new ModelError(`the network does not load: ${(e as Error).message}${detail ? ` (${detail})` : ''}`);
    }
    const m = new HydraulicModel(project, options);
    model.current = m;
    m.configure();
    beforeFirstSolve?.(m);
    m.start();
    return m;
  }

  private configure(): void {
    const p = this.project;
    const o = this.options;
    p.setDemandModel(DemandModel.PDA, (o.minPressureM ?? 0) / this.pressureToM, (o.requiredPressureM ?? 15) / this.pressureToM, 0.5);
    // EPANET caps the hydraulic step at the pattern and report steps; the demand patterns here have
    // a single value set before each solve, so the pattern step may be anything as long as it
    // does not shorten the hydraulic step
    p.setTimeParameter(TimeParameter.PatternStep, o.hydraulicStepS);
    p.setTimeParameter(TimeParameter.PatternStart, 0);
    p.setTimeParameter(TimeParameter.ReportStep, o.hydraulicStepS);
    p.setTimeParameter(TimeParameter.HydStep, o.hydraulicStepS);
    p.setTimeParameter(TimeParameter.ReportStart, 0);
    // long enough for any run; EPANET keeps nothing per period when no output file is written
    p.setTimeParameter(TimeParameter.Duration, 20 * 365 * 86_400);
    if (o.quality) {
      const q = o.quality;
      p.setQualityType(QualityType.Chem, 'Chlorine', 'mg/L', '');
      for (let i = 1; i <= this.nodeCount; i++) p.setNodeValue(i, NodeProperty.Initqual, q.initial);
      for (const [node, level] of Object.entries(q.sources)) {
        const i = this.nodeIndex(node);
        p.setNodeValue(i, NodeProperty.SourceType, SourceType.Concen);
        p.setNodeValue(i, NodeProperty.SourceQual, level);
        p.setNodeValue(i, NodeProperty.Initqual, level);
      }
      for (let l = 1; l <= this.linkCount; l++) {
        if (this.linkTypes[l] !== LinkType.Pipe && this.linkTypes[l] !== LinkType.CVPipe) continue;
        p.setLinkValue(l, LinkProperty.KBulk, q.bulkPerDay);
        p.setLinkValue(l, LinkProperty.KWall, (q.wallMPerDay ?? 0) / this.lengthToM);
      }
      for (let i = 1; i <= this.nodeCount; i++) if (this.nodeTypes[i] === NodeType.Tank) p.setNodeValue(i, NodeProperty.TankKBulk, q.bulkPerDay);
    }
    if (this.hasQuality) {
      const step = Math.min(o.hydraulicStepS, 300);
      p.setTimeParameter(TimeParameter.QualStep, step);
      for (let l = 1; l <= this.linkCount; l++) this.bulkBase.set(l, p.getLinkValue(l, LinkProperty.KBulk));
    }
    this.addLeakSlots();
    this.repattern();
  }

  /**
   * A leak is a demand category of its own (base 0 until a leak starts), not an EPANET emitter:
   * EPANET 2.3 does not stop an emitter whose coefficient is set back to 0 during a run (its last
   * flow stays in the solution), so a repaired burst would go on flowing. A demand can be set to
   * anything at every step; the engine sizes it from the pressure as an emitter would (Q = C·√p).
   */
  private addLeakSlots(): void {
    const p = this.project;
    const junctions = this.options.leakJunctions ?? [];
    if (!junctions.length) return;
    p.addPattern('AW-leak');
    p.setPattern(p.getPatternIndex('AW-leak'), [1]);
    for (const id of new Set(junctions)) {
      const i = this.nodeIndex(id);
      if (this.nodeTypes[i] !== NodeType.Junction) throw new ModelError(`${id} is not a junction: only junctions leak`);
      p.addDemand(i, 0, 'AW-leak', 'leak');
      this.leakSlot.set(i, p.getNumberOfDemands(i));
    }
  }

  /**
   * Replace the time patterns of junction demands by one pattern per demand group, with the base
   * demand scaled by its old pattern's mean, so that the long-run volume stays what the model says.
   */
  private repattern(): void {
    const p = this.project;
    const groups = this.options.demandGroups ?? new Map<string, string>();
    const patternFor = (group: string): number => {
      let idx = this.groupPattern.get(group);
      if (idx === undefined) {
        const id = `AW-${group}`.slice(0, 31);
        p.addPattern(id);
        idx = p.getPatternIndex(id);
        p.setPattern(idx, [1]);
        this.groupPattern.set(group, idx);
      }
      return idx;
    };
    const stats = new Map<number, { mean: number; flat: boolean }>();
    const patternStats = (idx: number) => {
      if (idx === 0) return { mean: 1, flat: true };
      let s = stats.get(idx);
      if (!s) {
        const n = p.getPatternLength(idx);
        const values = Array.from({ length: n }, (_, k) => p.getPatternValue(idx, k + 1));
        const mean = values.reduce((a, b) => a + b, 0) / n;
        s = { mean, flat: values.every((v) => Math.abs(v - values[0]) < 1e-9) };
        stats.set(idx, s);
      }
      return s;
    };
    // the default pattern applies to demands that name none; a model without one has flat demand
    for (let i = 1; i <= this.nodeCount; i++) {
      if (this.nodeTypes[i] !== NodeType.Junction) continue;
      const list: JunctionDemand[] = [];
      const n = p.getNumberOfDemands(i);
      for (let d = 1; d <= n; d++) {
        if (this.leakSlot.get(i) === d) continue;
        const base = p.getBaseDemand(i, d);
        const patIdx = p.getDemandPattern(i, d);
        const { mean, flat } = patternStats(patIdx);
        if (base === 0) continue;
        // a demand with no pattern in a model whose demands all lack one is still a consumer's demand
        const keepFlat = flat && patIdx !== 0;
        if (!keepFlat) {
          p.setBaseDemand(i, d, base * mean);
          p.setDemandPattern(i, d, patternFor(groups.get(this.nodeIds[i]) ?? 'default'));
        }
        list.push({ index: d, meanM3h: base * mean * this.flowToM3h, flat: keepFlat });
      }
      if (list.length) this.junctionDemands.set(i, list);
    }
    patternFor('default');
  }

  private start(): void {
    const p = this.project;
    p.openH();
    p.initH(InitHydOption.NoSave);
    if (this.hasQuality) {
      p.openQ();
      p.initQ(InitHydOption.NoSave);
    }
    this.opened = true;
    this.solve();
  }

  private solve(): void {
    this.project.runH();
    if (this.hasQuality) this.project.runQ();
  }

  /**
   * Move the solution on to `t` seconds. `beforeSolve(t)` runs before each solution (including
   * intermediate ones EPANET inserts for tank and control events), where demand multipliers and
   * time-varying event settings are set for that instant.
   */
  advanceTo(t: number, beforeSolve?: (t: number) => void): void {
    const p = this.project;
    while (this.time < t) {
      // EPANET never steps past a reporting time, and the report step is the hydraulic step, so
      // every multiple of it (every sample time) is landed on exactly
      const dt = p.nextH();
      if (this.hasQuality) p.nextQ();
      if (dt <= 0) throw new ModelError(`the simulation stopped at ${this.time} s (EPANET reached its duration)`);
      this.time += dt;
      beforeSolve?.(this.time);
      this.solve();
    }
    if (this.time !== t) throw new ModelError(`stepped to ${this.time} s, past ${t} s: times must be multiples of the hydraulic step`);
  }

  /**
   * Change the hydraulic step while running (a coarse step for the warm-up, the sample interval
   * after). The pattern and report steps move with it, since EPANET caps the step at both.
   */
  setHydraulicStep(seconds: number): void {
    const p = this.project;
    p.setTimeParameter(TimeParameter.PatternStep, seconds);
    p.setTimeParameter(TimeParameter.ReportStep, seconds);
    p.setTimeParameter(TimeParameter.HydStep, seconds);
    if (this.hasQuality) p.setTimeParameter(TimeParameter.QualStep, Math.min(seconds, 300));
    this.options.hydraulicStepS = seconds;
  }

  /** The current hydraulic step, s. */
  get hydraulicStepS(): number {
    return this.options.hydraulicStepS;
  }

  close(): void {
    if (!this.opened) return;
    const p = this.project;
    if (this.hasQuality) p.closeQ();
    p.closeH();
    p.close();
    this.opened = false;
  }

  // --- element lookup -------------------------------------------------------------------------

  nodeIndex(id: string): number {
    const i = this.nodeIndexById.get(id);
    if (i === undefined) throw new ModelError(`unknown node ${id}`);
    return i;
  }

  linkIndex(id: string): number {
    const i = this.linkIndexById.get(id);
    if (i === undefined) throw new ModelError(`unknown link ${id}`);
    return i;
  }

  hasNode(id: string): boolean { return this.nodeIndexById.has(id); }
  hasLink(id: string): boolean { return this.linkIndexById.has(id); }
  nodeId(index: number): string { return this.nodeIds[index]; }
  linkId(index: number): string { return this.linkIds[index]; }
  isTank(index: number): boolean { return this.nodeTypes[index] === NodeType.Tank; }
  isJunction(index: number): boolean { return this.nodeTypes[index] === NodeType.Junction; }
  isPump(index: number): boolean { return this.linkTypes[index] === LinkType.Pump; }
  isValve(index: number): boolean { return this.linkTypes[index] >= LinkType.PRV; }

  // --- readings (SI) --------------------------------------------------------------------------

  pressureM(node: number): number {
    return this.project.getNodeValue(node, NodeProperty.Pressure) * this.pressureToM;
  }

  headM(node: number): number {
    return this.project.getNodeValue(node, NodeProperty.Head) * this.lengthToM;
  }

  /** Water level in a tank above its bottom, m. */
  tankLevelM(node: number): number {
    return this.headM(node) - this.elevationM[node];
  }

  /** Outflow at a node (what customers draw plus any leak), m³/h. */
  demandM3h(node: number): number {
    return this.project.getNodeValue(node, NodeProperty.Demand) * this.flowToM3h;
  }

  /** Outflow of every node (index 1..n at position index−1), m³/h. */
  allDemandsM3h(): Float64Array {
    const values = this.project.getNodeValues(NodeProperty.Demand);
    const out = new Float64Array(values.length);
    for (let i = 0; i < values.length; i++) out[i] = values[i] * this.flowToM3h;
    return out;
  }

  /** Pressure of every node, m. */
  allPressuresM(): Float64Array {
    const values = this.project.getNodeValues(NodeProperty.Pressure);
    const out = new Float64Array(values.length);
    for (let i = 0; i < values.length; i++) out[i] = values[i] * this.pressureToM;
    return out;
  }

  /** Flow in the link's own direction (from its first node to its second), m³/h. */
  flowM3h(link: number): number {
    return this.project.getLinkValue(link, LinkProperty.Flow) * this.flowToM3h;
  }

  /** Chlorine (or the model's chemical) at a node, in the model's quality unit. */
  quality(node: number): number {
    return this.hasQuality ? this.project.getNodeValue(node, NodeProperty.Quality) : 0;
  }

  /** Whether a link is open (a pump running, a valve open or active). */
  linkOpen(link: number): boolean {
    return this.project.getLinkValue(link, LinkProperty.Status) !== 0;
  }

  /** A pump's relative speed, 1 = nominal; 0 when it is off. */
  pumpSpeed(link: number): number {
    if (!this.linkOpen(link)) return 0;
    return this.project.getLinkValue(link, LinkProperty.Setting);
  }

  /** Mean demand categories of a junction: what demand groups and meters work from. */
  junctionDemandCategories(node: number): readonly { meanM3h: number; flat: boolean }[] {
    return this.junctionDemands.get(node) ?? [];
  }

  // --- changes made while running ---------------------------------------------------------------

  /** Set the demand multiplier of a group (a DMA) for the next solution. */
  setGroupMultiplier(group: string, multiplier: number): void {
    const idx = this.groupPattern.get(group) ?? this.groupPattern.get('default')!;
    this.project.setPatternValue(idx, 1, multiplier);
  }

  groupNames(): string[] {
    return [...this.groupPattern.keys()];
  }

  /**
   * Set a junction's leak demand, m³/h, for the next solutions (the junction must be one of
   * `leakJunctions`). Like any demand it is cut back when pressure falls below the required
   * pressure (pressure-driven analysis).
   */
  setLeakDemand(node: number, flowM3h: number): void {
    const slot = this.leakSlot.get(node);
    if (slot === undefined) throw new ModelError(`${this.nodeIds[node]} was not opened as a leak junction`);
    this.project.setBaseDemand(node, slot, Math.max(0, flowM3h) / this.flowToM3h);
  }

  /** The leak demand set at a junction, m³/h (before any pressure-driven cut). */
  leakDemandM3h(node: number): number {
    const slot = this.leakSlot.get(node);
    return slot === undefined ? 0 : this.project.getBaseDemand(node, slot) * this.flowToM3h;
  }

  /**
   * Close or reopen a link. Reopening a control valve (PRV, PSV, FCV...) gives it back its setting,
   * so it controls again rather than standing fully open.
   */
  setLinkClosed(link: number, closed: boolean): void {
    const p = this.project;
    if (closed) {
      p.setLinkValue(link, LinkProperty.Status, 0);
      return;
    }
    const setting = this.initialSetting.get(link);
    if (setting !== undefined) p.setLinkValue(link, LinkProperty.Setting, setting);
    else p.setLinkValue(link, LinkProperty.Status, 1);
  }

  /**
   * Trip a pump (off, with the controls that would restart it suspended) or give it back to its
   * controls (on, restarted, then the controls decide as before).
   */
  setPumpTripped(link: number, tripped: boolean): void {
    const p = this.project;
    if (tripped) {
      const controls: number[] = [];
      const n = p.getCount(CountType.ControlCount);
      for (let c = 1; c <= n; c++) {
        if (p.getControl(c).linkIndex === link && p.getControlEnabled(c)) {
          p.setControlEnabled(c, 0);
          controls.push(c);
        }
      }
      this.suspendedControls.set(link, controls);
      p.setLinkValue(link, LinkProperty.Status, 0);
    } else {
      for (const c of this.suspendedControls.get(link) ?? []) p.setControlEnabled(c, 1);
      this.suspendedControls.delete(link);
      p.setLinkValue(link, LinkProperty.Status, 1);
      // EPANET keeps a pump that delivers into a tank standing at its minimum level temporarily
      // closed (it never restarts); a centimetre of water in the tank lets it start, as a real one would
      const to = p.getLinkNodes(link).node2;
      if (this.isTank(to)) {
        const { min } = this.tankLimitsM(to);
        if (this.tankLevelM(to) <= min + 0.005) this.setTankLevel(to, min + 0.01);
      }
    }
  }

  /** Force a tank's water level (m above its bottom) from now on. */
  setTankLevel(node: number, levelM: number): void {
    if (!this.isTank(node)) throw new ModelError(`${this.nodeIds[node]} is not a tank`);
    this.project.setNodeValue(node, NodeProperty.TankLevel, Math.max(0, levelM) / this.lengthToM);
  }

  tankLimitsM(node: number): { min: number; max: number } {
    return {
      min: this.project.getNodeValue(node, NodeProperty.MinLevel) * this.lengthToM,
      max: this.project.getNodeValue(node, NodeProperty.MaxLevel) * this.lengthToM,
    };
  }

  /** Chlorine of the water a source sends out, mg/L. */
  setSourceQuality(node: number, level: number): void {
    if (!this.hasQuality) return;
    this.project.setNodeValue(node, NodeProperty.SourceType, SourceType.Concen);
    this.project.setNodeValue(node, NodeProperty.SourceQual, level);
  }

  sourceQuality(node: number): number {
    return this.hasQuality ? this.project.getNodeValue(node, NodeProperty.SourceQual) : 0;
  }

  /** Multiply the bulk decay of some pipes (1 restores the model's own): stale water, a chlorine demand. */
  setBulkDecayFactor(links: Iterable<number>, factor: number): void {
    if (!this.hasQuality) return;
    for (const l of links) {
      const base = this.bulkBase.get(l);
      if (base !== undefined) this.project.setLinkValue(l, LinkProperty.KBulk, base * factor);
    }
  }

  /** Links between the nodes of a set (both ends inside). */
  linksWithin(nodes: ReadonlySet<number>): number[] {
    const out: number[] = [];
    for (let l = 1; l <= this.linkCount; l++) {
      const { node1, node2 } = this.project.getLinkNodes(l);
      if (nodes.has(node1) && nodes.has(node2)) out.push(l);
    }
    return out;
  }
}
