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

// Every [key, value] whose key starts with `prefix`, in key order (one run's records: `rec:<hash>:`).
const range = (prefix) => IDBKeyRange.bound(prefix, prefix + "\uffff");
export function idb_prefix(prefix) {
  return openDb().then((db) => new Promise((resolve, reject) => {
    const t = db.transaction(STORE, "readonly");
    const s = t.objectStore(STORE);
    const keys = s.getAllKeys(range(prefix));
    const values = s.getAll(range(prefix));
    t.oncomplete = () => { db.close(); resolve(keys.result.map((k, i) => [k, values.result[i]])); };
    t.onerror = () => { db.close(); reject(t.error); };
  }));
}
export function idb_delete_prefix(prefix) { return tx("readwrite", (s) => s.delete(range(prefix))); }

// Ask the browser not to evict this origin's data under storage pressure; true when granted.
export async function storage_persist() {
  try { return navigator.storage && navigator.storage.persist ? await navigator.storage.persist() : false; } catch (e) { return false; }
}
export async function storage_quota() {
  try { const e = await navigator.storage.estimate(); return e.quota || 0; } catch (e) { return 0; }
}

async function modelsDir() {
  const root = await navigator.storage.getDirectory();
  return root.getDirectoryHandle("models", { create: true });
}

// Model files are kept under models/: a .gguf as models/<file>, a Hugging Face checkpoint as
// models/<folder>/<file>. `paths` name where each of `files` (File objects) goes; each is streamed from
// the user's disk into storage, never held whole in memory here.
export async function opfs_save_files(paths, files) {
  const dir = await modelsDir();
  for (let i = 0; i < paths.length; i++) {
    const parts = paths[i].split("/");
    let d = dir;
    for (const p of parts.slice(0, -1)) d = await d.getDirectoryHandle(p, { create: true });
    const fh = await d.getFileHandle(parts[parts.length - 1], { create: true });
    const w = await fh.createWritable();
    await w.write(files[i]);
    await w.close();
  }
}

// The stored files of one model: { paths, files } (a .gguf alone, or a folder's files as folder/file).
export async function opfs_files(name) {
  const dir = await modelsDir();
  const paths = [], files = [];
  let h;
  try { h = await dir.getFileHandle(name); } catch (e) { h = await dir.getDirectoryHandle(name); }
  if (h.kind === "file") { paths.push(name); files.push(await h.getFile()); }
  else for await (const [n, c] of h.entries()) if (c.kind === "file") { paths.push(name + "/" + n); files.push(await c.getFile()); }
  return { paths, files };
}

// Stored models: [name, bytes] (a folder counts the bytes of its files).
export async function opfs_list() {
  const out = [];
  try {
    const dir = await modelsDir();
    for await (const [name, h] of dir.entries()) {
      if (h.kind === "file") { out.push([name, (await h.getFile()).size]); continue; }
      let size = 0;
      for await (const [, c] of h.entries()) if (c.kind === "file") size += (await c.getFile()).size;
      out.push([name, size]);
    }
  } catch (e) { /* no OPFS */ }
  return out;
}

export async function opfs_delete(name) {
  const dir = await modelsDir();
  await dir.removeEntry(name, { recursive: true });
}

// Files of an <input type=file> (with `webkitdirectory`, paths include the folder): { paths, files }.
export function picked_files(input) {
  const files = Array.from(input.files || []);
  return { paths: files.map((f) => f.webkitRelativePath || f.name), files };
}

// Files dropped on the page, walking into dropped folders: a promise of { paths, files }. The entries
// must be taken while the drop event runs, so call this from the handler.
export function dropped_files(dataTransfer) {
  const entries = Array.from(dataTransfer.items || []).map((i) => i.webkitGetAsEntry && i.webkitGetAsEntry()).filter(Boolean);
  if (!entries.length) return Promise.resolve(picked_files(dataTransfer));
  const paths = [], files = [];
  const walk = async (entry, prefix) => {
    if (entry.isFile) {
      files.push(await new Promise((res, rej) => entry.file(res, rej)));
      paths.push(prefix + entry.name);
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      for (;;) {
        const batch = await new Promise((res, rej) => reader.readEntries(res, rej));
        if (!batch.length) break;
        for (const e of batch) await walk(e, prefix + entry.name + "/");
      }
    }
  };
  return (async () => { for (const e of entries) await walk(e, ""); return { paths, files }; })();
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
