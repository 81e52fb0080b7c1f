// Browser end-to-end tests of the Bedside app (dist/ from `trunk build`), in real headless Chromium.
//  1. run the bundled sample with the bundled model on the CPU to completion; same accuracy and per-item
//     predictions as `bedside eval` on the same inputs;
//  2. every network request of every test stays on the page's origin (no egress);
//  3. a malformed shard shows its line-numbered error and the app keeps working;
//  4. reload mid-run: the app offers to resume and finishes with the same result as an uninterrupted run;
//  5. a screenshot of the Results page is written to tests/web/artifacts/ and checked to be non-blank.
// Also: the backend line with and without WebGPU (--enable-unsafe-webgpu), and time to first result.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import os from "node:os";
import zlib from "node:zlib";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const dist = process.env.BEDSIDE_DIST || path.join(root, "dist");
const bedside = process.env.BEDSIDE_BIN || path.join(root, "target/release/bedside");
const artifacts = path.join(here, "artifacts");
const LIMIT = 4;
const MIME = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm", ".css": "text/css", ".json": "application/json", ".jsonl": "application/jsonl", ".svg": "image/svg+xml", ".gguf": "application/octet-stream" };

let server, origin;
const requests = [];

function serve() {
  return new Promise((resolve) => {
    const s = http.createServer((req, res) => {
      const url = decodeURIComponent(new URL(req.url, "http://x").pathname);
      let file = path.join(dist, url === "/" ? "index.html" : url);
      if (!file.startsWith(dist) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) { res.writeHead(404); res.end(); return; }
      res.writeHead(200, { "content-type": MIME[path.extname(file)] || "application/octet-stream" });
      fs.createReadStream(file).pipe(res);
    });
    s.listen(0, "127.0.0.1", () => resolve(s));
  });
}

async function launch(webgpu) {
  const args = ["--headless=new", "--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-default-apps"];
  if (webgpu) args.push("--enable-unsafe-webgpu");
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), "bedside-chromium-"));
  const context = await chromium.launchPersistentContext(userDir, { executablePath: process.env.CHROMIUM || "/usr/bin/chromium", headless: true, args, viewport: { width: 1280, height: 900 } });
  context.on("request", (r) => requests.push(r.url()));
  return context;
}

async function openApp(context) {
  const page = context.pages()[0] || (await context.newPage());
  page.on("request", (r) => requests.push(r.url()));
  page.on("worker", (w) => w.on("request", (r) => requests.push(r.url())));
  page.on("pageerror", (e) => console.error("page error:", e.message));
  await page.goto(origin + "/");
  await page.waitForSelector("#bench-summary:has-text('valid')", { timeout: 60_000 });
  await page.waitForSelector("#run:not([disabled])", { timeout: 60_000 });
  return page;
}

async function setLimit(page, n) {
  await page.fill("#limit", String(n));
  await page.dispatchEvent("#limit", "change");
}

// Per-item predictions and accuracy of the run saved in IndexedDB (the same records the page shows).
async function savedRun(page) {
  return page.evaluate(() => new Promise((resolve, reject) => {
    const r = indexedDB.open("bedside", 1);
    r.onsuccess = () => {
      const g = r.result.transaction("kv").objectStore("kv").get("run");
      g.onsuccess = () => resolve(JSON.parse(g.result));
      g.onerror = () => reject(g.error);
    };
    r.onerror = () => reject(r.error);
  }));
}

function cliRun(limit, model = "models/SmolLM2-135M-Instruct.Q4_1.gguf") {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "bedside-cli-")), "run.jsonl");
  execFileSync(bedside, ["eval", "--model", path.join(root, model), "--bench", path.join(root, "data/samples/mmlu-medical"), "--limit", String(limit), "--out", out, "--quiet"]);
  const lines = fs.readFileSync(out, "utf8").trim().split("\n").map((l) => JSON.parse(l));
  return { header: lines[0], records: lines.slice(1) };
}

function nonBlankPng(buf) {
  // Inflate the IDAT stream and check the pixels are not all one value.
  let off = 8; const idat = []; let width = 0;
  while (off < buf.length) {
    const len = buf.readUInt32BE(off); const type = buf.toString("ascii", off + 4, off + 8);
    if (type === "IHDR") width = buf.readUInt32BE(off + 8);
    if (type === "IDAT") idat.push(buf.subarray(off + 8, off + 8 + len));
    off += 12 + len;
  }
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const counts = new Map();
  for (let i = 0; i < raw.length; i += 97) counts.set(raw[i], (counts.get(raw[i]) || 0) + 1);
  return width > 0 && counts.size > 8;
}

before(async () => {
  assert.ok(fs.existsSync(path.join(dist, "index.html")), `${dist}/index.html missing: build the app with trunk first (scripts/test.sh does)`);
  server = await serve();
  origin = `http://127.0.0.1:${server.address().port}`;
  fs.mkdirSync(artifacts, { recursive: true });
});

after(() => {
  server?.close();
  // 2. No request ever left the page's origin.
  const outside = requests.filter((u) => !(u.startsWith(origin + "/") || u.startsWith("blob:") || u.startsWith("data:")));
  assert.deepEqual(outside, [], `requests outside ${origin}: ${outside.join(", ")}`);
  assert.ok(requests.length > 5, "requests were recorded");
});

test("runs the bundled sample with the bundled model on the CPU; same result as bedside eval", async () => {
  const context = await launch(true);
  try {
    const page = await openApp(context);
    await page.selectOption("#backend-choice", "cpu");
    await setLimit(page, LIMIT);
    const t0 = Date.now();
    await page.click("#run");
    await page.waitForSelector("#progress[data-done='1']", { timeout: 300_000 });
    const firstResult = (Date.now() - t0) / 1000;
    await page.waitForSelector("#card-accuracy", { timeout: 600_000 });
    const total = (Date.now() - t0) / 1000;
    const shown = await page.textContent("#card-accuracy .v");
    const cli = cliRun(LIMIT);
    const correct = cli.records.filter((r) => r.correct).length;
    assert.equal(shown, `${(100 * correct / cli.records.length).toFixed(1)}%`);
    const saved = await savedRun(page);
    assert.equal(saved.records.length, LIMIT);
    assert.equal(saved.header.config_hash, cli.header.config_hash, "the browser and the CLI ran the same configuration");
    for (const [a, b] of saved.records.map((r, i) => [r, cli.records[i]])) {
      assert.equal(a.id, b.id);
      assert.equal(a.pred, b.pred, `item ${a.id}`);
      a.scores.forEach((s, k) => assert.ok(Math.abs(s - b.scores[k]) < 1e-3, `item ${a.id} option ${k}: ${s} vs ${b.scores[k]}`));
    }
    // 5. Screenshot of the Results page.
    const png = await page.screenshot({ path: path.join(artifacts, "results.png"), fullPage: true });
    assert.ok(nonBlankPng(png), "the Results screenshot is blank");
    const backend = await page.textContent("#backend");
    console.log(`time to first result ${firstResult.toFixed(1)} s (model load included); ${LIMIT} items in ${total.toFixed(1)} s; ${backend}`);
    fs.writeFileSync(path.join(artifacts, "timing.json"), JSON.stringify({ first_result_s: firstResult, total_s: total, items: LIMIT, backend }, null, 1));
  } finally {
    await context.close();
  }
});

// With an adapter (SwiftShader's WebGPU here), Auto runs the model through Burn's wgpu backend on WebGPU,
// weights in f32. After the first item the test makes the worker's next GPU read fail as a lost device
// would: the run must continue on the CPU from the last completed item. Every prediction equals the CLI's
// and log-likelihoods agree within 1e-2 (the GPU sums in another order than the CLI's quantised CPU path).
test("runs on WebGPU when the browser has an adapter, and continues on the CPU when the GPU is lost", async () => {
  const context = await launch(true);
  try {
    const page = await openApp(context);
    const n = 3;
    await setLimit(page, n);
    const t0 = Date.now();
    await page.click("#run");
    await page.waitForSelector("#progress[data-done='1']", { timeout: 600_000 });
    const gpuBackend = await page.textContent("#backend");
    assert.match(gpuBackend, /gpu \(burn-wgpu, WebGPU/);
    const tGpu = (Date.now() - t0) / 1000;
    await page.evaluate(() => window.dispatchEvent(new Event("bedside-simulate-device-loss")));
    await page.waitForSelector("#card-accuracy", { timeout: 600_000 });
    const after = await page.textContent("#backend");
    assert.match(after, /after the GPU failed/);
    const saved = await savedRun(page);
    assert.match(saved.header.backend, /burn-wgpu/);
    const cli = cliRun(n);
    assert.equal(saved.records.length, n);
    assert.deepEqual(saved.records.map((r) => r.id), cli.records.map((r) => r.id));
    for (const [a, b] of saved.records.map((r, i) => [r, cli.records[i]])) {
      assert.equal(a.status, "scored");
      assert.equal(a.pred, b.pred, `item ${a.id}`);
      a.scores.forEach((s, k) => assert.ok(Math.abs(s - b.scores[k]) < 1e-2, `item ${a.id} option ${k}: ${s} vs ${b.scores[k]}`));
    }
    console.log(`WebGPU: first item after ${tGpu.toFixed(1)} s (model load and shader compilation included); ${n} items in ${((Date.now() - t0) / 1000).toFixed(1)} s; ${gpuBackend} -> ${after}`);
  } finally {
    await context.close();
  }
});

// The user's own .gguf, then a Hugging Face checkpoint (config.json + tokenizer files + a 538 MB f32
// safetensors), picked as files: the worker describes it from the headers before reading the weights, shows read
// progress, keeps a copy in the browser's storage, and scores the same as `bedside eval` on the folder.
test("a Hugging Face folder is described before loading, loads with progress, is kept, and scores as the CLI", async () => {
  const context = await launch(false);
  try {
    const page = await openApp(context);
    // Record what the model line and the progress bar show while loading (they change fast).
    await page.evaluate(() => {
      window.__seen = { lines: [], progress: 0 };
      new MutationObserver(() => {
        const line = document.querySelector("#model-info")?.textContent || "";
        if (window.__seen.lines.at(-1) !== line) window.__seen.lines.push(line);
        const bar = document.querySelector("#model-progress");
        if (bar) window.__seen.progress = Math.max(window.__seen.progress, Number(bar.value));
      }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
    });
    // A .gguf picked as a file goes the same way (read in chunks by the worker, described first).
    await page.setInputFiles("#model-files", [path.join(root, "models/SmolLM2-135M-Instruct.Q4_1.gguf")]);
    await page.waitForSelector("#model-info:has-text('loaded in')", { timeout: 300_000 });
    assert.match(await page.textContent("#model-info"), /llama · 135M parameters · Q4_1 · file 98\.4 MB/);
    await page.waitForSelector("#stored-models:has-text('SmolLM2-135M-Instruct.Q4_1.gguf (98 MB)')", { timeout: 30_000 });
    const dir = path.join(root, "models/SmolLM2-135M-Instruct-hf");
    const files = ["config.json", "tokenizer.json", "tokenizer_config.json", "model.safetensors"].map((f) => path.join(dir, f));
    const weights = fs.statSync(files[3]).size;
    const all = files.reduce((a, f) => a + fs.statSync(f).size, 0);
    await page.evaluate(() => { window.__seen = { lines: [], progress: 0 }; });
    await page.setInputFiles("#model-files", files);
    await page.waitForSelector("#model-info:has-text('F32'):has-text('loaded in')", { timeout: 300_000 });
    const seen = await page.evaluate(() => window.__seen);
    console.log(`Hugging Face folder picked: ${await page.textContent("#model-info")}`);
    const preview = seen.lines.find((l) => /parameters/.test(l) && !/loaded in/.test(l));
    assert.ok(preview, `no description before loading; saw ${JSON.stringify(seen.lines)}`);
    assert.ok(preview.includes(`llama · 135M parameters · F32 · files ${(all / 1e6).toFixed(1)} MB · about ${(weights / 1e6).toFixed(0)} MB in memory`), preview);
    assert.equal(seen.progress, weights, "the progress bar reached the size of the weights");
    // Kept in this browser: listed with its size (once the copy into storage has finished), still there
    // after a reload, and loads from there.
    const listed = `#stored-models:has-text('hf-model (${(all / 1e6).toFixed(0)} MB)')`;
    await page.waitForSelector(listed, { timeout: 60_000 });
    await page.reload();
    await page.waitForSelector(listed, { timeout: 30_000 });
    await page.waitForSelector("#run:not([disabled])", { timeout: 60_000 });
    await page.click("#stored-models .stored-model:has-text('hf-model')");
    await page.waitForSelector("#model-info:has-text('loaded in')", { timeout: 300_000 });
    const n = 3;
    await setLimit(page, n);
    await page.click("#run");
    await page.waitForSelector("#card-accuracy", { timeout: 600_000 });
    const saved = await savedRun(page);
    const cli = cliRun(n, "models/SmolLM2-135M-Instruct-hf");
    assert.equal(saved.header.config.model.sha256, cli.header.config.model.sha256, "one checkpoint identity in the browser and the CLI");
    assert.deepEqual(saved.records.map((r) => [r.id, r.pred]), cli.records.map((r) => [r.id, r.pred]));
    for (const [a, b] of saved.records.map((r, i) => [r, cli.records[i]])) {
      a.scores.forEach((s, k) => assert.ok(Math.abs(s - b.scores[k]) < 1e-3, `item ${a.id} option ${k}: ${s} vs ${b.scores[k]}`));
    }
    // Deleting it frees the storage.
    await page.click("nav button[data-page='run']");
    // One at a time: each click waits for the list to shrink (a second click before the re-render would
    // hit the same entry again).
    for (let left = 2; left > 0; left--) {
      await page.click("#stored-models button[title^='delete'] >> nth=0");
      await page.waitForFunction((n) => document.querySelectorAll("#stored-models .stored-model").length === n, left - 1, { timeout: 30_000 });
    }
  } finally {
    await context.close();
  }
});

test("a malformed shard shows line-numbered errors and the app keeps working", async () => {
  const context = await launch(false);
  try {
    const page = await openApp(context);
    const good = '{"id":"1","question":"Which vitamin deficiency causes scurvy?","options":["A","C","D","K"],"answer":1}';
    await page.setInputFiles("#bench-files", [{ name: "broken.jsonl", mimeType: "application/jsonl", buffer: Buffer.from(good + "\n{\"id\":\"2\",\"question\":\"q\",\"options\":[\"x\"],\"answer\":0}\nnot json\n") }]);
    await page.waitForSelector("#bench-problems", { timeout: 30_000 });
    const text = await page.textContent("#bench-problems");
    assert.match(text, /broken\.jsonl:2/);
    assert.match(text, /broken\.jsonl:3/);
    assert.ok(await page.isDisabled("#run"), "an invalid benchmark cannot be run");
    // Still working: pick a bundled sample again.
    await page.selectOption("#sample", "medmcqa");
    await page.waitForSelector("#bench-summary:has-text('medmcqa')", { timeout: 30_000 });
    assert.match(await page.textContent("#bench-summary"), /valid/);
    assert.ok(!(await page.isDisabled("#run")));
    // A valid benchmark from the user's files (real items, no manifest) is kept in this browser.
    const real = fs.readFileSync(path.join(root, "data/samples/medmcqa/test-000.jsonl"), "utf8").split("\n").slice(0, 3).join("\n") + "\n";
    await page.setInputFiles("#bench-files", [{ name: "mine.jsonl", mimeType: "application/jsonl", buffer: Buffer.from(real) }]);
    await page.waitForSelector("#bench-summary:has-text('mine: 3 items, valid')", { timeout: 30_000 });
    await page.reload();
    await page.waitForSelector("#stored-benches:has-text('mine')", { timeout: 30_000 });
    // Without --enable-unsafe-webgpu there is no adapter: the CPU path is named.
    await page.waitForSelector("#backend:has-text('no WebGPU adapter')", { timeout: 30_000 });
  } finally {
    await context.close();
  }
});

test("reload mid-run offers resume and finishes with the uninterrupted result", async () => {
  const context = await launch(false);
  try {
    let page = await openApp(context);
    const n = LIMIT + 2;
    await setLimit(page, n);
    await page.click("#run");
    await page.waitForSelector("#progress[data-done='2']", { timeout: 300_000 });
    await page.reload();
    await page.waitForSelector("#resume-banner", { timeout: 60_000 });
    const before = await savedRun(page);
    assert.ok(before.records.length >= 2 && before.records.length < n, `saved ${before.records.length} records`);
    await page.click("#resume");
    await page.waitForSelector("#card-accuracy", { timeout: 600_000 });
    const saved = await savedRun(page);
    assert.equal(saved.records.length, n);
    assert.deepEqual(saved.records.slice(0, before.records.length).map((r) => r.id), before.records.map((r) => r.id), "records from before the reload are kept");
    const cli = cliRun(n);
    assert.deepEqual(saved.records.map((r) => [r.id, r.pred]), cli.records.map((r) => [r.id, r.pred]));
    const correct = cli.records.filter((r) => r.correct).length;
    assert.equal(await page.textContent("#card-accuracy .v"), `${(100 * correct / n).toFixed(1)}%`);
  } finally {
    await context.close();
  }
});
