// @types/node 20 lacks the WebAssembly namespace; declare the little the host uses.
declare namespace WebAssembly {
  class Module {
    constructor(bytes: ArrayBufferView | ArrayBuffer);
  }
  function compile(bytes: ArrayBufferView | ArrayBuffer): Promise<Module>;
}
