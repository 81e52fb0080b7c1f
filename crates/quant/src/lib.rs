//! `bedside-quant`: GGML tensor types and their block formats, and two ways to multiply with them:
//!
//! - [`dequant`]: the exact dequantisation (ggml-quants.c's `dequantize_row_*`), the oracle of everything
//!   here and the `quantized` precision tier (dequantise a tile, then a float `gemm`);
//! - [`q8`] + [`dot`]: the `q8-activations` tier, as llama.cpp and candle do it: the activations are
//!   quantised once per product to 8-bit blocks and each weight row is multiplied block by block with
//!   integer dot products. [`scalar`] is the portable version and the oracle of the SIMD ones
//!   ([`avx2`] on x86-64, chosen at run time; [`simd128`] in wasm when built with `+simd128`);
//! - [`tile`]: the same product for many rows of activations (a prompt): up to eight weight rows
//!   unpacked once and multiplied with every row ([`avx2`]'s AVX2 and AVX-VNNI kernels);
//! - [`device_blocks`]: the blocks re-packed for a GPU kernel that dequantises as it multiplies.

#[cfg(target_arch = "x86_64")]
pub mod avx2;
pub mod dequant;
pub mod device_blocks;
pub mod dot;
pub mod q8;
pub mod scalar;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub mod simd128;
pub mod testing;
pub mod tile;

pub use dequant::{dequantize, dequantize_block};

/// The ggml tensor types Bedside reads. Numbers are ggml's `ggml_type` ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GgmlType {
    F32,
    F16,
    /// bfloat16 (the usual dtype of Hugging Face checkpoints).
    BF16,
    Q4_0,
    Q4_1,
    Q5_0,
    Q8_0,
    Q4K,
    Q6K,
}

impl GgmlType {
    /// `Err(id)` for a type Bedside does not read (its name, when known, is in [`ggml_type_name`]).
    pub fn from_id(id: u32) -> Result<Self, u32> {
        Ok(match id {
            0 => GgmlType::F32,
            1 => GgmlType::F16,
            2 => GgmlType::Q4_0,
            3 => GgmlType::Q4_1,
            6 => GgmlType::Q5_0,
            8 => GgmlType::Q8_0,
            12 => GgmlType::Q4K,
            14 => GgmlType::Q6K,
            30 => GgmlType::BF16,
            other => return Err(other),
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            GgmlType::F32 => "F32",
            GgmlType::F16 => "F16",
            GgmlType::BF16 => "BF16",
            GgmlType::Q4_0 => "Q4_0",
            GgmlType::Q4_1 => "Q4_1",
            GgmlType::Q5_0 => "Q5_0",
            GgmlType::Q8_0 => "Q8_0",
            GgmlType::Q4K => "Q4_K",
            GgmlType::Q6K => "Q6_K",
        }
    }

    /// (elements per block, bytes per block).
    pub fn block(self) -> (usize, usize) {
        match self {
            GgmlType::F32 => (1, 4),
            GgmlType::F16 => (1, 2),
            GgmlType::BF16 => (1, 2),
            GgmlType::Q4_0 => (32, 18),
            GgmlType::Q4_1 => (32, 20),
            GgmlType::Q5_0 => (32, 22),
            GgmlType::Q8_0 => (32, 34),
            GgmlType::Q4K => (256, 144),
            GgmlType::Q6K => (256, 210),
        }
    }

    /// Bytes needed for `n` elements, or `None` when `n` is not a whole number of blocks.
    pub fn bytes_for(self, n: usize) -> Option<usize> {
        let (be, bb) = self.block();
        (n % be == 0).then(|| n / be * bb)
    }
}

/// Names of ggml types Bedside does not read, for error messages.
pub fn ggml_type_name(id: u32) -> String {
    let known = [
        (7, "Q5_1"),
        (9, "Q8_1"),
        (10, "Q2_K"),
        (11, "Q3_K"),
        (13, "Q5_K"),
        (15, "Q8_K"),
        (16, "IQ2_XXS"),
        (17, "IQ2_XS"),
        (18, "IQ3_XXS"),
        (19, "IQ1_S"),
        (20, "IQ4_NL"),
        (21, "IQ3_S"),
        (22, "IQ2_S"),
        (23, "IQ4_XS"),
        (24, "I8"),
        (25, "I16"),
        (26, "I32"),
        (27, "I64"),
        (28, "F64"),
        (29, "IQ1_M"),
        (34, "TQ1_0"),
        (35, "TQ2_0"),
        (39, "MXFP4"),
    ];
    known
        .iter()
        .find(|(i, _)| *i == id)
        .map_or_else(|| format!("type id {id}"), |(_, n)| n.to_string())
}
