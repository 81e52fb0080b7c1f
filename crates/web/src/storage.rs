//! Browser storage (IndexedDB for runs and benchmarks, OPFS for model files) through `js/store.js`.

use wasm_bindgen::prelude::*;

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
    async fn opfs_save(name: &str, bytes: &js_sys::Uint8Array) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    async fn opfs_load(name: &str) -> Result<JsValue, JsValue>;
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

pub async fn put(key: &str, value: &str) -> Result<(), String> {
    idb_put(key, value)
        .await
        .map(|_| ())
        .map_err(|e| format!("{e:?}"))
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

pub async fn save_model(name: &str, bytes: &js_sys::Uint8Array) -> Result<(), String> {
    opfs_save(name, bytes)
        .await
        .map(|_| ())
        .map_err(|e| format!("{e:?}"))
}

pub async fn load_model(name: &str) -> Result<js_sys::Uint8Array, String> {
    opfs_load(name)
        .await
        .map(|v| v.into())
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
