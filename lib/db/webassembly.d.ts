// The subset of the WebAssembly JS API used to load Prisma's schema engine
// (@types/node 20 does not declare the global).
declare namespace WebAssembly {
  type Exports = Record<string, unknown>;
  interface Module {
    readonly __brand: 'WebAssembly.Module';
  }
  class Instance {
    constructor(module: Module, imports?: Record<string, unknown>);
    readonly exports: Exports;
  }
  function compile(bytes: Uint8Array): Promise<Module>;
}
