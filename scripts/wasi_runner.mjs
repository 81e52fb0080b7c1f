// Cargo's runner for wasm32-wasip1 test binaries (scripts/test.sh): runs one under Node's WASI, passing
// the test harness its arguments and the exit code back. Used to run bedside-quant's simd128 kernels
// against the scalar oracle.
import { readFile } from "node:fs/promises";
import { WASI } from "node:wasi";
import { argv, env, exit } from "node:process";

const [file, ...args] = argv.slice(2);
const wasi = new WASI({ version: "preview1", args: [file, ...args], env, returnOnExit: true });
const module = await WebAssembly.compile(await readFile(file));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
exit(wasi.start(instance));
