//! The GGUF parser and every block format against the `gguf` Python package, on the two real models.
//! Fixture: tests/fixtures/gguf_reference.json, written by scripts/reference_gguf.py.
//! Tolerances: sampled values must be equal as f32 (both sides compute the same f32 products); the sums
//! over all elements are compared at 1e-9 relative (float64 accumulation in a different order).

mod common;
use bedside_model::Gguf;
use common::*;
use serde_json::Value;

fn check_model(name: &str) {
    let fixture: Value =
        serde_json::from_str(include_str!("fixtures/gguf_reference.json")).unwrap();
    let want = &fixture["models"][name];
    let bytes = model_bytes(name);
    let g = Gguf::parse(name, &bytes).unwrap();
    assert_eq!(g.architecture(), want["architecture"].as_str());
    assert_eq!(
        g.tensors.len() as u64,
        want["tensor_count"].as_u64().unwrap()
    );
    for wt in want["tensors"].as_array().unwrap() {
        let tname = wt["name"].as_str().unwrap();
        let t = g.tensor(tname).unwrap_or_else(|| panic!("{tname} missing"));
        assert_eq!(t.ty.name(), wt["type"].as_str().unwrap(), "{tname}");
        let dims: Vec<u64> = wt["dims"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_u64().unwrap())
            .collect();
        assert_eq!(t.dims, dims, "{tname}");
        let (x, _) = g.dequantize(&bytes, tname, None).unwrap();
        for (i, v) in wt["first"].as_array().unwrap().iter().enumerate() {
            assert_eq!(x[i], v.as_f64().unwrap() as f32, "{tname}[{i}]");
        }
        for (p, v) in wt["positions"]
            .as_array()
            .unwrap()
            .iter()
            .zip(wt["values"].as_array().unwrap())
        {
            let p = p.as_u64().unwrap() as usize;
            assert_eq!(x[p], v.as_f64().unwrap() as f32, "{tname}[{p}]");
        }
        let sum: f64 = x.iter().map(|&v| v as f64).sum();
        let sum_sq: f64 = x.iter().map(|&v| (v as f64) * (v as f64)).sum();
        let (ws, wq) = (wt["sum"].as_f64().unwrap(), wt["sum_sq"].as_f64().unwrap());
        assert!(
            (sum - ws).abs() <= 1e-9 * wq.sqrt().max(1.0) * (x.len() as f64).sqrt(),
            "{tname}: sum {sum} vs {ws}"
        );
        assert!(
            (sum_sq - wq).abs() <= 1e-9 * wq.max(1.0),
            "{tname}: sum_sq {sum_sq} vs {wq}"
        );
    }
}

#[test]
fn smollm2_q4_1_q8_0_f32_match_gguf_python() {
    check_model(SMOL);
}

#[test]
fn gemma3_q5_0_q4_k_q6_k_q8_0_match_gguf_python() {
    check_model(GEMMA);
}

#[test]
fn truncated_real_file_names_the_tensor() {
    let bytes = model_bytes(SMOL);
    let cut = &bytes[..bytes.len() - 1000];
    let e = Gguf::parse("cut.gguf", cut).unwrap_err().to_string();
    assert!(
        e.starts_with("cut.gguf: tensor `") && e.contains("truncated"),
        "{e}"
    );
}
