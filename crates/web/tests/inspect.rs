//! The worker's model inspection, natively: a model is described from its first bytes (before its
//! weights are read) exactly as from the whole file, and picked files are sorted into a model.

use bedside_web::runner::{
    classify, describe, inspect_gguf, inspect_hf, select_model, HfFileSet, ModelFileSet,
    ModelSelection,
};
use std::path::PathBuf;

fn models() -> PathBuf {
    std::env::var_os("BEDSIDE_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models"))
}

fn read(name: &str) -> Vec<u8> {
    let p = models().join(name);
    std::fs::read(&p).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run `bash scripts/get_models.sh` (or set BEDSIDE_MODELS)",
            p.display()
        )
    })
}

#[test]
fn a_gguf_header_describes_the_model_before_its_weights() {
    for file in [
        "SmolLM2-135M-Instruct.Q4_1.gguf",
        "gemma-3-270m-q4_k_m.gguf",
    ] {
        let bytes = read(file);
        let len = bytes.len() as u64;
        let whole = describe(file, &bytes).unwrap();
        assert_eq!(whole.sha256.len(), 64);
        // Grow the prefix as the worker does (whole MiB chunks) until the header parses.
        let mut n = 1 << 20;
        let early = loop {
            match inspect_gguf(file, &bytes[..n], len) {
                Ok(i) => break i,
                Err(e) => {
                    assert!(e.contains(file), "{e}");
                    n += 1 << 20;
                    assert!(n < bytes.len() / 4, "header not found in {n} bytes");
                }
            }
        };
        assert_eq!(early.parameters, whole.parameters);
        assert_eq!(early.quantization, whole.quantization);
        assert_eq!(early.architecture, whole.architecture);
        assert_eq!(early.file_bytes, len);
        assert!(early.parameters > 100_000_000, "{}", early.parameters);
        // A download of unknown length: the size comes from the header (the end of the last tensor).
        let unknown = inspect_gguf(file, &bytes[..n], 0).unwrap();
        assert_eq!(unknown.parameters, whole.parameters);
        assert!(
            unknown.file_bytes <= len && unknown.file_bytes + 64 > len,
            "{} vs {len}",
            unknown.file_bytes
        );
        // A file cut short is found out from the header alone.
        assert!(inspect_gguf(file, &bytes[..n], n as u64)
            .unwrap_err()
            .contains("truncated"));
    }
}

#[test]
fn a_safetensors_header_counts_the_same_parameters_as_the_gguf() {
    let dir = "SmolLM2-135M-Instruct-hf";
    let st = read(&format!("{dir}/model.safetensors"));
    let config = String::from_utf8(read(&format!("{dir}/config.json"))).unwrap();
    let head = bedside_model::hf::safetensors_header_len(&st).unwrap();
    let hf = inspect_hf(
        dir,
        &config,
        &[(
            "model.safetensors".into(),
            st[..head].to_vec(),
            st.len() as u64,
        )],
        0,
    )
    .unwrap();
    let gguf = describe("g.gguf", &read("SmolLM2-135M-Instruct.Q4_1.gguf")).unwrap();
    assert_eq!(hf.parameters, gguf.parameters);
    assert_eq!(hf.architecture, "llama");
    assert_eq!(hf.format, "safetensors");
    assert_eq!(hf.memory_bytes, st.len() as u64);
    // A header that promises more data than the file has.
    let e = inspect_hf(
        dir,
        &config,
        &[(
            "model.safetensors".into(),
            st[..head].to_vec(),
            head as u64 + 10,
        )],
        0,
    )
    .unwrap_err();
    assert!(
        e.contains("truncated") && e.contains("model.safetensors"),
        "{e}"
    );
    assert!(inspect_hf(dir, "{", &[], 0)
        .unwrap_err()
        .contains("config.json"));
}

#[test]
fn picked_files_are_sorted_into_one_model() {
    let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(classify(&names(&["a.gguf"])), Ok(ModelFileSet::Gguf(0)));
    assert_eq!(
        classify(&names(&[
            "m/README.md",
            "m/model-00002-of-00002.safetensors",
            "m/tokenizer.json",
            "m/config.json",
            "m/model-00001-of-00002.safetensors",
        ])),
        Ok(ModelFileSet::Hf(HfFileSet {
            config: 3,
            tokenizer: 2,
            tokenizer_config: None,
            safetensors: vec![4, 1],
        }))
    );
    let err = |v: &[&str]| classify(&names(v)).unwrap_err();
    assert!(err(&["a.gguf", "b.gguf"]).contains("pick one"));
    assert!(err(&["model.safetensors", "tokenizer.json"]).contains("config.json is missing"));
    assert!(err(&["model.safetensors", "config.json"]).contains("tokenizer.json is missing"));
    assert!(err(&["notes.txt"]).contains("no model file among notes.txt"));
    assert!(err(&["a.gguf", "model.safetensors"]).contains("pick one model"));
}

#[test]
fn a_selection_is_named_after_its_file_or_folder_and_stored_under_it() {
    let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        select_model(&names(&["notes.md", "dir/m.Q4_1.gguf"])),
        Ok(ModelSelection {
            name: "m.Q4_1.gguf".into(),
            files: vec![1],
            stored_as: vec!["m.Q4_1.gguf".into()],
        })
    );
    // A dropped parent folder: the checkpoint is named after the folder that holds config.json.
    let s = select_model(&names(&[
        "parent/smol/model.safetensors",
        "parent/smol/README.md",
        "parent/smol/tokenizer_config.json",
        "parent/smol/tokenizer.json",
        "parent/smol/config.json",
    ]))
    .unwrap();
    assert_eq!(s.name, "smol");
    assert_eq!(s.files, vec![4, 3, 2, 0]);
    assert_eq!(
        s.stored_as,
        [
            "smol/config.json",
            "smol/tokenizer.json",
            "smol/tokenizer_config.json",
            "smol/model.safetensors"
        ]
    );
    // Files picked one by one (no folder) and stored ones read back (folder/file) agree on the files.
    let loose = select_model(&names(&[
        "config.json",
        "tokenizer.json",
        "model.safetensors",
    ]))
    .unwrap();
    assert_eq!(loose.name, "hf-model");
    assert_eq!(
        select_model(&loose.stored_as).unwrap().stored_as,
        loose.stored_as
    );
}
