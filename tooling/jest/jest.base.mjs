// Shared jest setup: every package's jest.config.mjs spreads this.
// Tests are ESM TypeScript compiled by ts-jest without type checking (the
// `typecheck` task type-checks src and test with tsc), which keeps runs fast.
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/tsconfig.test.json', diagnostics: false }],
  },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  testTimeout: 30_000,
  // Children are real processes; a leaked handle must fail loudly, not hang CI.
  forceExit: false,
  detectOpenHandles: false,
};
