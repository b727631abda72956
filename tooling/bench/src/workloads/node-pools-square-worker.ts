/** The task of the node-pools benchmark for pools that load a module's default export (piscina, tinypool). */
export default function square(x: number): number {
  return x * x;
}
