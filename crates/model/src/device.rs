//! Where a model runs: the GPU through Burn's wgpu backend (WebGPU in the browser, Vulkan/Metal/DX12
//! natively) when an adapter exists, otherwise the CPU. The CPU backend is Burn's `flex`, measured faster
//! than `ndarray` on both models (see `bedside bench model`).

/// The backends Bedside runs models on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    /// Burn `flex` (portable CPU, SIMD; also in wasm).
    Cpu,
    /// Burn `ndarray` (CPU), kept as a second CPU implementation.
    NdArray,
    /// Burn `wgpu` (GPU).
    Wgpu,
}

impl BackendKind {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "cpu" | "flex" => BackendKind::Cpu,
            "ndarray" => BackendKind::NdArray,
            "wgpu" | "gpu" | "webgpu" => BackendKind::Wgpu,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Cpu => "cpu (burn-flex)",
            BackendKind::NdArray => "cpu (burn-ndarray)",
            BackendKind::Wgpu => "gpu (burn-wgpu)",
        }
    }
}

/// Initialise the default wgpu device natively; `None` when there is no usable adapter (the caller then
/// falls back to the CPU). Set up once per process (cubecl refuses a second setup of a device, so
/// callers on several threads share the first answer). In the browser use the async setup instead.
#[cfg(all(feature = "wgpu", not(target_family = "wasm")))]
pub fn native_wgpu_device() -> Option<burn::backend::wgpu::WgpuDevice> {
    static DEVICE: std::sync::OnceLock<Option<burn::backend::wgpu::WgpuDevice>> =
        std::sync::OnceLock::new();
    DEVICE.get_or_init(setup_native_wgpu).clone()
}

#[cfg(all(feature = "wgpu", not(target_family = "wasm")))]
fn setup_native_wgpu() -> Option<burn::backend::wgpu::WgpuDevice> {
    use burn::backend::wgpu::{graphics::AutoGraphicsApi, init_setup, WgpuDevice};
    let device = WgpuDevice::default();
    // cubecl panics when no adapter is found; contain that and report "no GPU" instead.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let ok = std::panic::catch_unwind(|| {
        init_setup::<AutoGraphicsApi>(&device, Default::default());
    })
    .is_ok();
    std::panic::set_hook(hook);
    ok.then_some(device)
}
