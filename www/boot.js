// Starts the Bedside app (Trunk's script injection is off so the page needs no inline script under its CSP).
import init from "./bedside-web.js";
init({ module_or_path: "./bedside-web_bg.wasm" });
