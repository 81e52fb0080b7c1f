#!/usr/bin/env python3
"""Reference token ids from llama.cpp (via llama-cpp-python, vocab only) for both real models, written to
crates/model/tests/fixtures/tokens_reference.json. crates/model/tests/tokenizer_reference.rs requires
Bedside's tokenizers to produce exactly these ids.

    pip install llama-cpp-python   # builds llama.cpp from source
    bash scripts/get_models.sh && python3 scripts/reference_tokens.py
"""
import json
import os

from llama_cpp import Llama

root = os.path.join(os.path.dirname(__file__), "..")
models_dir = os.environ.get("BEDSIDE_MODELS", os.path.join(root, "models"))
shared = os.environ.get("BEDSIDE_SHARED", os.path.join(root, "..", "shared"))
medqa_stem = json.loads(open(os.path.join(shared, "datasets", "medqa_usmle", "4_options", "phrases_no_exclude_test.jsonl")).readline())["question"]

texts = [
    "Hello world",
    " leading space and  double  spaces ",
    "Metformin 500 mg PO BID; max 2,550 mg/day.",
    "Give amoxicillin-clavulanate 875/125mg q12h x 7d",
    "Na+ 128 mEq/L, K+ 5.9 mmol/L, HbA1c 9.4%, eGFR <30 mL/min/1.73m²",
    "BP 150/90 mm Hg, HR 112/min, T 38.9°C (102°F), SpO₂ 91% on room air",
    "Paracétamol 1 g toutes les 6 heures; ne pas dépasser 4 g/jour. Ñandú, über, façade",
    "Инфаркт миокарда и острый коронарный синдром",
    "心肌梗死的治疗 / 心筋梗塞の治療 / 심근경색 치료",
    "العلاج الطبي للمريض",
    "Patient 😷 with fever 🤒 → ICU 🏥 ✅",
    "don't can't I'll we've they're it's O'Neil",
    "Line one\nLine two\n\n\tTabbed\r\nWindows\n",
    "12345678901234567890 3.14159 1e-5 -42",
    "(A) Aspirin (B) Heparin (C) Warfarin (D) None of the above\nAnswer:",
    medqa_stem,
]
special_texts = [
    "<|im_start|>user\nWhat is the first-line treatment for anaphylaxis?<|im_end|>\n<|im_start|>assistant\n",
    "<start_of_turn>user\nWhat is the first-line treatment for anaphylaxis?<end_of_turn>\n<start_of_turn>model\n",
]

out = {"generated_by": "scripts/reference_tokens.py", "llama_cpp_python": __import__("llama_cpp").__version__, "models": {}}
for fname in ["SmolLM2-135M-Instruct.Q4_1.gguf", "gemma-3-270m-q4_k_m.gguf"]:
    llm = Llama(os.path.join(models_dir, fname), vocab_only=True, verbose=False)
    cases = []
    for t in texts:
        cases.append({"text": t, "add_special": False, "parse_special": False, "ids": llm.tokenize(t.encode(), add_bos=False, special=False)})
        cases.append({"text": t, "add_special": True, "parse_special": False, "ids": llm.tokenize(t.encode(), add_bos=True, special=False)})
    for t in special_texts:
        cases.append({"text": t, "add_special": False, "parse_special": True, "ids": llm.tokenize(t.encode(), add_bos=False, special=True)})
        cases.append({"text": t, "add_special": False, "parse_special": False, "ids": llm.tokenize(t.encode(), add_bos=False, special=False)})
    out["models"][fname] = {"n_vocab": llm.n_vocab(), "bos": llm.token_bos(), "eos": llm.token_eos(), "cases": cases}

path = os.path.join(root, "crates", "model", "tests", "fixtures", "tokens_reference.json")
with open(path, "w") as f:
    json.dump(out, f, ensure_ascii=False, indent=0)
    f.write("\n")
print("wrote", os.path.normpath(path))
