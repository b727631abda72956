// The spec's "Customized managers" example.
// Run: node --import tsx docs/examples/manager-custom.ts
import { runMain } from '@mpjs/process';
import { BaseManager, type AutoProxy } from '@mpjs/managers';

// The server process imports this module to find the class: it must be exported.
export class MathsClass {
  add(x: number, y: number): number {
    return x + y;
  }
  mul(x: number, y: number): number {
    return x * y;
  }
}

export class MyManager extends BaseManager {
  declare Maths: () => Promise<AutoProxy<MathsClass>>;
}
MyManager.register('Maths', MathsClass);

await runMain(import.meta, async () => {
  await using manager = new MyManager();
  await manager.start();
  const maths = await manager.Maths();
  console.log(await maths.add(4, 3)); // prints 7
  console.log(await maths.mul(7, 8)); // prints 56
});
