#!/usr/bin/env node
// Reads jest output (from turbo) on stdin, passes it through, and ends with one
// line that totals every suite: "tests: N passed, M failed".
import { createInterface } from 'node:readline';

let passed = 0;
let failed = 0;
let skipped = 0;
const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  process.stdout.write(`${line}\n`);
  const match = /Tests:\s+(.*)\d+ total/.exec(line);
  if (!match) continue;
  for (const [, count, kind] of match[1].matchAll(/(\d+) (passed|failed|skipped|todo)/g)) {
    if (kind === 'passed') passed += Number(count);
    else if (kind === 'failed') failed += Number(count);
    else skipped += Number(count);
  }
}
console.log(`tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
