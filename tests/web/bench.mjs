// The in-browser benchmark (scripts/bench_browser.sh): the app in headless Chromium on the CPU path runs
// the first N items of the bundled MMLU sample with the bundled SmolLM2 on a fresh profile, and
// `bedside eval` runs the same items natively in the same session. Prints time to first result (model
// download, SHA-256 and load included), items/s after the first item, the backend line, and the ratio
// browser / native. Not a test: run it on a quiet machine.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { root, bedside, serve, launch, openApp, setLimit } from "./harness.mjs";

const N = Number(process.env.BENCH_ITEMS || 8);
const model = "models/SmolLM2-135M-Instruct.Q4_1.gguf";

function native() {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "bedside-bench-")), "run.jsonl");
  const text = execFileSync(bedside, ["eval", "--model", path.join(root, model), "--bench", path.join(root, "data/samples/mmlu-medical"), "--limit", String(N), "--out", out, "--quiet", "--stats-json"], { encoding: "utf8" });
  const m = JSON.parse(text.trim().split("\n").pop());
  const header = JSON.parse(fs.readFileSync(out, "utf8").split("\n")[0]);
  return { itemsPerS: m.items / m.seconds, load: m.load_s, backend: header.backend };
}

const server = await serve();
const origin = `http://127.0.0.1:${server.address().port}`;
const context = await launch(false);
let browser;
try {
  const page = await openApp(context, origin);
  await page.selectOption("#backend-choice", "cpu");
  await setLimit(page, N);
  const t0 = Date.now();
  await page.click("#run");
  await page.waitForSelector("#progress[data-done='1']", { timeout: 300_000 });
  const first = (Date.now() - t0) / 1000;
  await page.waitForSelector("#card-accuracy", { timeout: 1_800_000 });
  const total = (Date.now() - t0) / 1000;
  browser = { first, itemsPerS: (N - 1) / (total - first), backend: (await page.textContent("#backend")).replace(/^Backend:\s*/, "") };
} finally {
  await context.close();
  server.close();
}
const nat = native();
console.log(`in-browser benchmark: ${model}, the first ${N} items of data/samples/mmlu-medical, option log-likelihood, ${os.cpus().length} cores`);
console.log(`browser (headless Chromium, fresh profile): time to first result ${browser.first.toFixed(1)} s (download, SHA-256, load, first item); ${browser.itemsPerS.toFixed(2)} items/s after it; ${browser.backend}`);
console.log(`native bedside eval:                        load ${nat.load.toFixed(2)} s; ${nat.itemsPerS.toFixed(2)} items/s; ${nat.backend}`);
console.log(`browser / native items/s: ${(browser.itemsPerS / nat.itemsPerS).toFixed(2)}x`);
