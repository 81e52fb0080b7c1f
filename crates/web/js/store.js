// Browser storage for Bedside: IndexedDB for runs and benchmarks (small JSON), the Origin Private File
// System for model files (large). Nothing here talks to the network.
const DB = "bedside";
const STORE = "kv";

function openDb() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function tx(mode, fn) {
  return openDb().then((db) => new Promise((resolve, reject) => {
    const t = db.transaction(STORE, mode);
    const req = fn(t.objectStore(STORE));
    t.oncomplete = () => { db.close(); resolve(req && req.result !== undefined ? req.result : null); };
    t.onerror = () => { db.close(); reject(t.error); };
  }));
}

export function idb_get(key) { return tx("readonly", (s) => s.get(key)); }
export function idb_put(key, value) { return tx("readwrite", (s) => s.put(value, key)); }
export function idb_delete(key) { return tx("readwrite", (s) => s.delete(key)); }
export function idb_keys() { return tx("readonly", (s) => s.getAllKeys()); }

async function modelsDir() {
  const root = await navigator.storage.getDirectory();
  return root.getDirectoryHandle("models", { create: true });
}

export async function opfs_save(name, bytes) {
  const dir = await modelsDir();
  const fh = await dir.getFileHandle(name, { create: true });
  const w = await fh.createWritable();
  await w.write(bytes);
  await w.close();
}

export async function opfs_load(name) {
  const dir = await modelsDir();
  const fh = await dir.getFileHandle(name);
  const f = await fh.getFile();
  return new Uint8Array(await f.arrayBuffer());
}

export async function opfs_list() {
  const out = [];
  try {
    const dir = await modelsDir();
    for await (const [name, h] of dir.entries()) {
      if (h.kind === "file") { const f = await h.getFile(); out.push([name, f.size]); }
    }
  } catch (e) { /* no OPFS */ }
  return out;
}

export async function opfs_delete(name) {
  const dir = await modelsDir();
  await dir.removeEntry(name);
}

export async function wipe_all() {
  await new Promise((resolve) => { const r = indexedDB.deleteDatabase(DB); r.onsuccess = r.onerror = r.onblocked = () => resolve(); });
  try { const root = await navigator.storage.getDirectory(); await root.removeEntry("models", { recursive: true }); } catch (e) { /* nothing stored */ }
}

export async function storage_used() {
  try { const e = await navigator.storage.estimate(); return e.usage || 0; } catch (e) { return 0; }
}

export async function gpu_adapter() {
  if (!("gpu" in navigator)) return "";
  try {
    const a = await navigator.gpu.requestAdapter();
    if (!a) return "";
    const info = a.info || {};
    return [info.vendor, info.architecture, info.description].filter(Boolean).join(" ") || "WebGPU adapter";
  } catch (e) { return ""; }
}

export function download(name, mime, text) {
  const url = URL.createObjectURL(new Blob([text], { type: mime }));
  const a = document.createElement("a");
  a.href = url; a.download = name; document.body.appendChild(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
