// The in-browser benchmark (scripts/bench_browser.sh): the app in headless Chromium on the CPU path runs
// the first N items of the bundled MMLU sample with the bundled SmolLM2 on a fresh profile, and
// `bedside eval` runs the same items natively in the same session. Prints time to first result (model
// download, SHA-256 and load included), items/s after the first item, the backend line, and the ratio
// browser / native, with the default CPU workers and with one. Not a test: run it on a quiet machine.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { root, bedside, serve, launch, openApp, runOnCpu } from "./harness.mjs";

const N = Number(process.env.BENCH_ITEMS || 8);
const model = "models/SmolLM2-135M-Instruct.Q4_1.gguf";

function native() {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "bedside-bench-")), "run.jsonl");
  const text = execFileSync(bedside, ["eval", "--model", path.join(root, model), "--bench", path.join(root, "data/samples/mmlu-medical"), "--limit", String(N), "--out", out, "--quiet", "--stats-json"], { encoding: "utf8" });
  const m = JSON.parse(text.trim().split("\n").pop());
  const header = JSON.parse(fs.readFileSync(out, "utf8").split("\n")[0]);
  return { itemsPerS: m.items / m.seconds, load: m.load_s, backend: header.backend };
}

// One fresh profile per setting: `workers` "" is the app's default (one CPU worker per core, up to 4),
// "1" a single worker (the whole run on one thread).
async function inBrowser(origin, workers) {
  const context = await launch(false);
  try {
    const page = await openApp(context, origin);
    const { first, total } = await runOnCpu(page, N, workers);
    return { first, itemsPerS: (N - 1) / (total - first), backend: (await page.textContent("#backend")).replace(/^Backend:\s*/, "") };
  } finally {
    await context.close();
  }
}

const server = await serve();
const origin = `http://127.0.0.1:${server.address().port}`;
const browser = {};
try {
  browser.auto = await inBrowser(origin, "");
  browser.one = await inBrowser(origin, "1");
} finally {
  server.close();
}
const nat = native();
console.log(`in-browser benchmark: ${model}, the first ${N} items of data/samples/mmlu-medical, option log-likelihood, ${os.cpus().length} cores`);
for (const [name, b] of [["browser, CPU workers auto", browser.auto], ["browser, 1 CPU worker   ", browser.one]]) {
  console.log(`${name} (headless Chromium, fresh profile): time to first result ${b.first.toFixed(1)} s (download, SHA-256, load, first item); ${b.itemsPerS.toFixed(2)} items/s after it; ${b.backend}`);
}
console.log(`native bedside eval:                        load ${nat.load.toFixed(2)} s; ${nat.itemsPerS.toFixed(2)} items/s; ${nat.backend}`);
console.log(`browser / native items/s: ${(browser.auto.itemsPerS / nat.itemsPerS).toFixed(2)}x with the default workers, ${(browser.one.itemsPerS / nat.itemsPerS).toFixed(2)}x with one`);
