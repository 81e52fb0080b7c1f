//! Browser storage (IndexedDB for runs and benchmarks, OPFS for model files) through `js/store.js`.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen(module = "/js/store.js")]
extern "C" {
    #[wasm_bindgen(catch)]
    async fn idb_get(key: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    async fn idb_put(key: &str, value: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    async fn idb_delete(key: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    async fn idb_keys() -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    async fn idb_prefix(prefix: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    async fn idb_delete_prefix(prefix: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    async fn storage_persist() -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    async fn storage_quota() -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    async fn opfs_save_files(
        paths: js_sys::Array,
        files: &js_sys::Array,
    ) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    async fn opfs_files(name: &str) -> Result<JsValue, JsValue>;
    fn picked_files(input: &web_sys::HtmlInputElement) -> JsValue;
    fn dropped_files(data: &web_sys::DataTransfer) -> js_sys::Promise;
    #[wasm_bindgen(catch)]
    async fn opfs_list() -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    async fn opfs_delete(name: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    async fn wipe_all() -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    async fn storage_used() -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    async fn gpu_adapter() -> Result<JsValue, JsValue>;
    pub fn download(name: &str, mime: &str, text: &str);
}

pub async fn get(key: &str) -> Option<String> {
    idb_get(key).await.ok().and_then(|v| v.as_string())
}

/// Why a write to browser storage failed.
#[derive(Debug, Clone, PartialEq)]
pub enum StorageError {
    /// The browser's quota for this site is used up.
    Full,
    Other(String),
}

impl std::fmt::Display for StorageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StorageError::Full => f.write_str("this browser's storage for the site is full: delete runs or models you no longer need (Runs and Privacy pages)"),
            StorageError::Other(m) => write!(f, "could not write to browser storage: {m}"),
        }
    }
}

fn storage_error(e: JsValue) -> StorageError {
    let name = js_sys::Reflect::get(&e, &"name".into())
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default();
    if name == "QuotaExceededError" {
        return StorageError::Full;
    }
    let msg = js_sys::Reflect::get(&e, &"message".into())
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_else(|| format!("{e:?}"));
    StorageError::Other(format!("{name} {msg}").trim().to_string())
}

pub async fn put(key: &str, value: &str) -> Result<(), StorageError> {
    idb_put(key, value).await.map(|_| ()).map_err(storage_error)
}

/// Every (key, value) whose key starts with `prefix`, in key order.
pub async fn with_prefix(prefix: &str) -> Vec<(String, String)> {
    let Ok(v) = idb_prefix(prefix).await else {
        return Vec::new();
    };
    js_sys::Array::from(&v)
        .iter()
        .filter_map(|e| {
            let a = js_sys::Array::from(&e);
            Some((a.get(0).as_string()?, a.get(1).as_string()?))
        })
        .collect()
}

pub async fn delete_prefix(prefix: &str) {
    idb_delete_prefix(prefix).await.ok();
}

/// Ask for persistent storage (not evicted under pressure); whether it was granted.
pub async fn persist() -> bool {
    storage_persist()
        .await
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

/// The browser's quota for this site in bytes (0: unknown).
pub async fn quota_bytes() -> f64 {
    storage_quota()
        .await
        .ok()
        .and_then(|v| v.as_f64())
        .unwrap_or(0.0)
}

pub async fn delete(key: &str) {
    idb_delete(key).await.ok();
}

/// Stored keys that start with `prefix`, without it.
pub async fn keys(prefix: &str) -> Vec<String> {
    let Ok(v) = idb_keys().await else {
        return Vec::new();
    };
    js_sys::Array::from(&v)
        .iter()
        .filter_map(|k| k.as_string())
        .filter_map(|k| k.strip_prefix(prefix).map(str::to_string))
        .collect()
}

/// Files the user gave (picked, dropped or stored), with their paths (`folder/file` inside a folder).
#[derive(Clone, Default)]
pub struct FileSet {
    pub paths: Vec<String>,
    pub files: Vec<web_sys::File>,
}

impl FileSet {
    fn from_js(v: &JsValue) -> FileSet {
        let get =
            |k: &str| js_sys::Array::from(&js_sys::Reflect::get(v, &k.into()).unwrap_or_default());
        let paths: Vec<String> = get("paths").iter().filter_map(|p| p.as_string()).collect();
        let files: Vec<web_sys::File> = get("files")
            .iter()
            .filter_map(|f| f.dyn_into().ok())
            .collect();
        if paths.len() == files.len() {
            FileSet { paths, files }
        } else {
            FileSet::default()
        }
    }

    /// Only the files at `idx`, in that order.
    pub fn select(&self, idx: &[usize]) -> FileSet {
        FileSet {
            paths: idx.iter().map(|&i| self.paths[i].clone()).collect(),
            files: idx.iter().map(|&i| self.files[i].clone()).collect(),
        }
    }

    pub fn js_files(&self) -> js_sys::Array {
        self.files.iter().collect()
    }
}

/// The files of a file input.
pub fn picked(input: &web_sys::HtmlInputElement) -> FileSet {
    FileSet::from_js(&picked_files(input))
}

/// The files of a file list (an `<input type="file">`'s or a drop's), in order.
pub fn files_of(list: Option<web_sys::FileList>) -> Vec<web_sys::File> {
    list.map(|l| (0..l.length()).filter_map(|i| l.get(i)).collect())
        .unwrap_or_default()
}

/// A file's bytes; `None` when the browser cannot read it.
pub async fn read_bytes(f: &web_sys::File) -> Option<Vec<u8>> {
    let buf = wasm_bindgen_futures::JsFuture::from(f.array_buffer())
        .await
        .ok()?;
    Some(js_sys::Uint8Array::new(&buf).to_vec())
}

/// The files of a drop, walking into dropped folders. Call it while the drop event runs.
pub fn dropped(data: &web_sys::DataTransfer) -> impl std::future::Future<Output = FileSet> {
    let p = dropped_files(data);
    async move {
        wasm_bindgen_futures::JsFuture::from(p)
            .await
            .map(|v| FileSet::from_js(&v))
            .unwrap_or_default()
    }
}

/// Keep a model's files in the browser's private file system, each under `paths` (streamed, not read
/// into memory).
pub async fn save_model_files(paths: &[String], files: &FileSet) -> Result<(), String> {
    let p: js_sys::Array = paths.iter().map(|p| JsValue::from_str(p)).collect();
    opfs_save_files(p, &files.js_files())
        .await
        .map(|_| ())
        .map_err(|e| format!("{e:?}"))
}

/// A stored model's files (lazy `File`s on the browser's storage).
pub async fn model_files(name: &str) -> Result<FileSet, String> {
    opfs_files(name)
        .await
        .map(|v| FileSet::from_js(&v))
        .map_err(|e| format!("{e:?}"))
}

/// Stored model files: (name, bytes).
pub async fn list_models() -> Vec<(String, f64)> {
    let Ok(v) = opfs_list().await else {
        return Vec::new();
    };
    js_sys::Array::from(&v)
        .iter()
        .filter_map(|e| {
            let a = js_sys::Array::from(&e);
            Some((a.get(0).as_string()?, a.get(1).as_f64()?))
        })
        .collect()
}

pub async fn delete_model(name: &str) {
    opfs_delete(name).await.ok();
}

pub async fn wipe() {
    wipe_all().await.ok();
}

pub async fn used_bytes() -> f64 {
    storage_used()
        .await
        .ok()
        .and_then(|v| v.as_f64())
        .unwrap_or(0.0)
}

/// A description of the WebGPU adapter, or empty when there is none.
pub async fn gpu() -> String {
    gpu_adapter()
        .await
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}

/// Offer `bytes` as a download named `name` (through a blob: URL, which the page's CSP allows).
pub fn download_bytes(name: &str, mime: &str, bytes: &[u8]) -> Result<(), String> {
    let err = |e: JsValue| format!("could not offer {name} for download: {e:?}");
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(mime);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &opts).map_err(err)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(err)?;
    let window = web_sys::window().ok_or("no window")?;
    let doc = window.document().ok_or("no document")?;
    let a: web_sys::HtmlAnchorElement = doc
        .create_element("a")
        .map_err(err)?
        .dyn_into()
        .map_err(|_| "not an anchor".to_string())?;
    a.set_href(&url);
    a.set_download(name);
    if let Some(body) = doc.body() {
        body.append_child(&a).map_err(err)?;
    }
    a.click();
    a.remove();
    // The URL is released once the download has started.
    let revoke = wasm_bindgen::closure::Closure::once_into_js(move || {
        web_sys::Url::revoke_object_url(&url).ok();
    });
    window
        .set_timeout_with_callback_and_timeout_and_arguments_0(revoke.unchecked_ref(), 1000)
        .map_err(err)?;
    Ok(())
}
