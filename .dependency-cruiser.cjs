/**
 * The import boundaries between the top-level folders (README: "top-level folders are the
 * architecture"), checked in `npm test` by test/architecture.test.ts; `npx depcruise core ingest
 * analytics dashboard simulators bin test bench` prints the same. Type-only imports count: they tie
 * the parts together as much as the others do.
 *
 * The part rules are about the product's code: a unit test beside its code (*.test.ts) may also
 * import other parts to drive its module (a detector test drives the simulator), and test/support.
 */
const TEST_FILE = '\\.test\\.tsx?$';

/** A part that may import only the given folders (and itself, node's built-ins and packages). */
function onlyImports(part, allowed, comment) {
  return {
    name: `${part}-imports-only-${allowed.join('-') || 'itself'}`,
    comment,
    severity: 'error',
    from: { path: `^${part}/`, pathNot: TEST_FILE },
    to: { path: '^(core|ingest|analytics|dashboard|simulators|bin|test|bench)/', pathNot: `^(${[part, ...allowed].join('|')})/` },
  };
}

module.exports = {
  forbidden: [
    onlyImports('core', [], 'core holds what several parts share; it imports no other part.'),
    onlyImports('simulators', ['core'], 'The simulators speak to the platform only over the wire, as real devices do.'),
    onlyImports('ingest', ['core'], 'ingest gets readings in; it needs nothing of analytics, the dashboard or the simulators.'),
    onlyImports('analytics', ['core'], 'analytics works on readings from the bus or the store, never on ingest or simulator code.'),
    onlyImports('dashboard', ['core', 'analytics'], 'The dashboard shows what analytics found; it does not reach into ingest.'),
    {
      name: 'bin-not-test',
      comment: 'bin wires the parts; the shipped CLI needs no test code, and loads the benchmarks only when `aquawatch bench` runs.',
      severity: 'error',
      from: { path: '^bin/', pathNot: TEST_FILE },
      to: { path: '^(test/|bench/)', pathNot: '^bench/run\\.ts$' },
    },
    {
      name: 'bin-loads-bench-lazily',
      comment: '`aquawatch bench` imports bench/run.ts with import(), so that the other commands do not load it.',
      severity: 'error',
      from: { path: '^bin/', pathNot: TEST_FILE },
      to: { path: '^bench/run\\.ts$', dependencyTypesNot: ['dynamic-import'] },
    },
    {
      name: 'tests-beside-code-use-test-support',
      comment: 'A unit test beside its code may share code from test/support, nothing else of test/ or bench/.',
      severity: 'error',
      from: { path: `^(core|ingest|analytics|dashboard|simulators|bin)/.*${TEST_FILE}` },
      to: { path: '^(test/|bench/)', pathNot: '^test/support/' },
    },
    {
      name: 'no-unresolvable-import',
      comment: 'An import that does not resolve is a moved or deleted file.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)node_modules/|^dashboard/web/dist/' },
    tsPreCompilationDeps: true,
    combinedDependencies: false,
    enhancedResolveOptions: {
      extensions: ['.ts', '.tsx', '.js', '.mjs', '.json'],
      // ES-module-only packages (aedes, vite, csv-parse/sync) resolve only through their "import" export
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'types', 'default'],
      mainFields: ['module', 'main', 'types'],
    },
  },
};
