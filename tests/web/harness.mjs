// Shared by the browser tests (app.test.mjs) and the in-browser benchmark (bench.mjs): the static
// server for dist/, headless Chromium with a fresh profile, opening the app, and `bedside eval` runs.
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import os from "node:os";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, "../..");
export const dist = process.env.BEDSIDE_DIST || path.join(root, "dist");
export const bedside = process.env.BEDSIDE_BIN || path.join(root, "target/release/bedside");
const MIME = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm", ".css": "text/css", ".json": "application/json", ".jsonl": "application/jsonl", ".svg": "image/svg+xml", ".gguf": "application/octet-stream" };

// Every URL any page or worker requested (the no-egress check reads it).
export const requests = [];

export function serve() {
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

export async function launch(webgpu) {
  const args = ["--headless=new", "--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-default-apps"];
  if (webgpu) args.push("--enable-unsafe-webgpu");
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), "bedside-chromium-"));
  const context = await chromium.launchPersistentContext(userDir, { executablePath: process.env.CHROMIUM || "/usr/bin/chromium", headless: true, args, viewport: { width: 1280, height: 900 } });
  context.on("request", (r) => requests.push(r.url()));
  return context;
}

export async function openApp(context, origin) {
  const page = context.pages()[0] || (await context.newPage());
  page.on("request", (r) => requests.push(r.url()));
  page.on("worker", (w) => w.on("request", (r) => requests.push(r.url())));
  page.on("pageerror", (e) => console.error("page error:", e.message));
  await page.goto(origin + "/");
  await page.waitForSelector("#bench-summary:has-text('valid')", { timeout: 60_000 });
  await page.waitForSelector("#run:not([disabled])", { timeout: 60_000 });
  return page;
}

export async function setLimit(page, n) {
  await page.fill("#limit", String(n));
  await page.dispatchEvent("#limit", "change");
}

// Run the first `n` items on the CPU path with the "CPU workers" choice `workers` ("" is auto) and time
// it from the click: seconds to the first result and to the Results page.
export async function runOnCpu(page, n, workers = "") {
  await page.selectOption("#backend-choice", "cpu");
  await page.selectOption("#workers", workers);
  await setLimit(page, n);
  const t0 = Date.now();
  await page.click("#run");
  await page.waitForSelector("#progress[data-done='1']", { timeout: 300_000 });
  const first = (Date.now() - t0) / 1000;
  await page.waitForSelector("#card-accuracy", { timeout: 1_800_000 });
  return { first, total: (Date.now() - t0) / 1000 };
}

export function cliRun(limit, model = "models/SmolLM2-135M-Instruct.Q4_1.gguf", extra = [], bench = "mmlu-medical") {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "bedside-cli-")), "run.jsonl");
  execFileSync(bedside, ["eval", "--model", path.join(root, model), "--bench", path.join(root, "data/samples", bench), "--limit", String(limit), "--out", out, "--quiet", ...extra]);
  const lines = fs.readFileSync(out, "utf8").trim().split("\n").map((l) => JSON.parse(l));
  return { header: lines[0], records: lines.slice(1), file: out };
}

