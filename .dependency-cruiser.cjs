// The cycle check of `npm run lint` (ESLint's per-layer blocks forbid upward imports; this forbids
// circles at any depth, also inside one layer). test/unit/lint/layers.test.ts plants one.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A module that imports itself through others: split out what both sides need.',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.base.json' },
    tsPreCompilationDeps: true,
    exclude: { path: '(^|/)(node_modules|dist|out)/' },
  },
};
