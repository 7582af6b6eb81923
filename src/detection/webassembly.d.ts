// The part of the WebAssembly JS API the literal scanner uses. TypeScript declares it only in its DOM
// libraries and @types/node 20 not at all; Node has had all of it since v8.
declare global {
  namespace WebAssembly {
    class Module {
      constructor(bytes: Uint8Array)
    }
    class Instance {
      constructor(module: Module, imports?: Record<string, Record<string, unknown>>)
      readonly exports: Record<string, unknown>
    }
    class Memory {
      constructor(descriptor: { initial: number; maximum?: number })
      readonly buffer: ArrayBuffer
      grow(pages: number): number
    }
  }
}

export {}
