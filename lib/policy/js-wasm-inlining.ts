import { setFlagsFromString } from 'node:v8';

// V8 11.3 (Node 20) inlines calls from JavaScript into WebAssembly into optimised code
// (`--turbo-inline-js-wasm-calls`, on by default). When such a function has to be
// deoptimised while the inlined Wasm call is running (here: Cedar's WebAssembly reading the
// request object calls back into JavaScript, which changes an object shape the caller's
// optimised code depends on), the deoptimiser aborts the whole process ("Fatal error ...
// unreachable code" in Deoptimizer::DoComputeBuiltinContinuation). Measured: the governed
// actions benchmark crashed the process in 3 of 3 runs under sustained admissions, and in
// none of 4 runs with the inlining off. Turning it off costs one call boundary per Cedar
// decision. Set before any code calling Cedar is optimised (this module is loaded first
// by the module that calls Cedar).
setFlagsFromString('--no-turbo-inline-js-wasm-calls');
