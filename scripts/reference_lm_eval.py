#!/usr/bin/env python3
"""Reference per-item results from lm-evaluation-harness for Bedside's lm-eval-compatible templates.

lm-eval-harness (PyPI `lm_eval`, version pinned below) builds every request with its own task configs
(`medqa_4options`, `medmcqa`, `pubmedqa`, `mmlu_<subject>`), pointed at Bedside's sample items rewritten
into each dataset's original schema. The log-likelihoods come from llama.cpp (PyPI `llama-cpp-python`)
through a small lm-eval model class: an implementation independent of Bedside's tokenizer and Burn
runtime. lm-eval then computes acc and acc_norm per item.

llama.cpp runs twice per model: on the GGUF as shipped (its quantised kernels, which also quantise the
activations to 8 bits), and on the same weights dequantised to an all-F32 GGUF (written here with the
`gguf` package), which is the model Bedside's f32 path computes. The F32 run isolates the evaluation
engine (prompt, tokenisation, scoring) from kernel rounding; the quantised run shows how far the
shipped-kernel numbers are.

Output: crates/eval/tests/fixtures/lm_eval_reference.json with, per item, lm-eval's exact context and
continuations, the per-option log-likelihoods, the predictions and acc/acc_norm; plus MMLU 5-shot contexts
(lm-eval's `first_n` few-shot sampler) to check Bedside's few-shot prompt byte for byte.

Usage: python3 scripts/reference_lm_eval.py [N items per benchmark, default 40]
Needs: pip install lm_eval==0.4.13 llama-cpp-python==0.3.36 numpy; models from scripts/get_models.sh.
"""
import json
import os
import sys
import tempfile

import numpy as np
import lm_eval
from lm_eval import evaluator
from lm_eval.api.model import TemplateLM
from lm_eval.tasks import TaskManager
import llama_cpp
from llama_cpp import Llama

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TASKS = os.path.join(os.path.dirname(lm_eval.__file__), "tasks")
N = int(sys.argv[1]) if len(sys.argv) > 1 else 40
MODELS = {
    "smollm2-135m-instruct": ("models/SmolLM2-135M-Instruct.Q4_1.gguf", ["medqa-4options", "medmcqa", "pubmedqa", "mmlu-medical"]),
    "gemma3-270m": ("models/gemma-3-270m-q4_k_m.gguf", ["medqa-4options", "pubmedqa"]),
}
# Items per benchmark for each model (the larger model is slower).
LIMIT = {
    "smollm2-135m-instruct": N,
    "gemma3-270m": min(N, 25),
}


def write_f32_gguf(src, dest):
    """The same model with every tensor dequantised to F32 (metadata copied, file type ALL_F32)."""
    import gguf

    r = gguf.GGUFReader(src)
    arch = r.fields["general.architecture"].contents()
    w = gguf.GGUFWriter(dest, arch)
    for name, f in r.fields.items():
        if name.startswith("GGUF.") or name == "general.architecture":
            continue
        vtype = f.types[0]
        sub = f.types[1] if vtype == gguf.GGUFValueType.ARRAY else None
        val = f.contents()
        if name == "general.file_type":
            val = 0
        w.add_key_value(name, val, vtype, sub_type=sub)
    for t in r.tensors:
        data = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32)
        w.add_tensor(t.name, data, raw_dtype=gguf.GGMLQuantizationType.F32)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def to_lm_eval_schema(bench, item):
    """A Bedside item in the field layout of the dataset the lm-eval task loads."""
    o = item["options"]
    if bench == "medqa-4options":
        return {"sent1": item["question"], **{f"ending{i}": o[i] for i in range(4)}, "label": item["answer"]}
    if bench == "medmcqa":
        return {"question": item["question"], "opa": o[0], "opb": o[1], "opc": o[2], "opd": o[3], "cop": item["answer"]}
    if bench == "pubmedqa":
        return {"QUESTION": item["question"], "CONTEXTS": item["context"].split("\n"), "final_decision": o[item["answer"]]}
    if bench == "mmlu-medical":
        return {"question": item["question"], "choices": o, "answer": item["answer"]}
    raise ValueError(bench)


class LlamaCppLM(TemplateLM):
    """lm-eval model over llama.cpp: tokenizer and log-probabilities both from llama.cpp."""

    def __init__(self, path):
        super().__init__()
        self.llm = Llama(path, n_ctx=4096, logits_all=True, n_threads=os.cpu_count(), verbose=False)
        self.add_bos = bool(self.llm.metadata.get("tokenizer.ggml.add_bos_token", "false") == "true")
        self.requests = []
        self.dry_run = False  # record requests only (for few-shot contexts)
        self.last_ctx = None

    @property
    def eot_token_id(self):
        return self.llm.token_eos()

    @property
    def prefix_token_id(self):
        return self.llm.token_bos()

    def tok_encode(self, string, add_special_tokens=None, **kwargs):
        # BOS as the GGUF metadata asks (Gemma: yes, SmolLM2: no), which is also what lm-eval's HF backend
        # does for these two models.
        return self.llm.tokenize(string.encode("utf-8"), add_bos=self.add_bos, special=False)

    def _loglikelihood_tokens(self, requests, **kwargs):
        out = []
        for (ctx, cont), ctx_enc, cont_enc in requests:
            self.requests.append((ctx, cont, len(ctx_enc), len(cont_enc)))
            toks = list(ctx_enc) + list(cont_enc)
            if self.dry_run:
                out.append((0.0, False))
                continue
            if self.last_ctx == list(ctx_enc):
                # Same context as the previous request (another option of the same item): keep llama.cpp's
                # KV cache for the context and evaluate only the continuation.
                self.llm.n_tokens = len(ctx_enc)
                self.llm.eval(list(cont_enc))
            else:
                self.llm.reset()
                self.llm.eval(toks)
                self.last_ctx = list(ctx_enc)
            logits = np.asarray(self.llm.scores[: len(toks)], dtype=np.float64)
            ll, greedy = 0.0, True
            for j, t in enumerate(cont_enc):
                row = logits[len(ctx_enc) - 1 + j]
                m = row.max()
                lse = m + np.log(np.exp(row - m).sum())
                ll += row[t] - lse
                greedy &= int(row.argmax()) == t
            out.append((float(ll), bool(greedy)))
        return out

    def loglikelihood_rolling(self, requests, disable_tqdm=False):
        raise NotImplementedError

    def generate_until(self, requests, disable_tqdm=False):
        raise NotImplementedError


def task_yaml(dirname, name, include, data_files, extra=""):
    files = "\n".join(f"    {k}: {v}" for k, v in data_files.items())
    text = f"task: {name}\ninclude: {include}\ndataset_path: json\ndataset_name: null\ndataset_kwargs:\n  data_files:\n{files}\n{extra}"
    with open(os.path.join(dirname, name + ".yaml"), "w") as f:
        f.write(text)


def write_data(dirname, name, docs):
    path = os.path.join(dirname, name + ".jsonl")
    with open(path, "w") as f:
        for d in docs:
            f.write(json.dumps(d) + "\n")
    return path


def build_tasks(tmp, bench, items, dev):
    """Task names (in item order) and the item ids per task."""
    splits = "test_split: test\ntraining_split: null\nvalidation_split: null\n"
    if bench != "mmlu-medical":
        include = {"medqa-4options": "medqa/medqa.yaml", "medmcqa": "medmcqa/medmcqa.yaml", "pubmedqa": "pubmedqa/pubmedqa.yaml"}[bench]
        name = "bedside_" + bench.replace("-", "_")
        path = write_data(tmp, name, [to_lm_eval_schema(bench, it) for it in items])
        task_yaml(tmp, name, os.path.join(TASKS, include), {"test": path}, splits)
        return [(name, [it["id"] for it in items])]
    out = []
    for subject in dict.fromkeys(it["subject"] for it in items):
        sub = [it for it in items if it["subject"] == subject]
        name = f"bedside_mmlu_{subject}"
        test = write_data(tmp, name, [to_lm_eval_schema(bench, it) for it in sub])
        devp = write_data(tmp, name + "_dev", [to_lm_eval_schema(bench, it) for it in dev if it["subject"] == subject])
        task_yaml(tmp, name, os.path.join(TASKS, f"mmlu/default/mmlu_{subject}.yaml"), {"test": test, "dev": devp}, "test_split: test\nfewshot_split: dev\n")
        out.append((name, [it["id"] for it in sub]))
    return out


def run(lm, tmp, tasks, shots):
    tm = TaskManager(include_path=tmp, include_defaults=True)
    names = [t for t, _ in tasks]
    res = evaluator.simple_evaluate(model=lm, tasks=names, task_manager=tm, num_fewshot=shots, log_samples=True, bootstrap_iters=0)
    per_item = []
    for name, ids in tasks:
        samples = sorted(res["samples"][name], key=lambda s: s["doc_id"])
        assert len(samples) == len(ids)
        for s, item_id in zip(samples, ids):
            lls = [float(r[0]) for r in s["filtered_resps"]]
            per_item.append({
                "id": item_id,
                "context": s["arguments"][0][0],
                "continuations": [a[1] for a in s["arguments"]],
                "loglik": lls,
                "pred": int(np.argmax(lls)),
                "acc": float(s["acc"]),
                "acc_norm": float(s["acc_norm"]) if "acc_norm" in s else None,
            })
    return per_item


def main():
    out = {"lm_eval_version": getattr(lm_eval, "__version__", "0.4.13"), "llama_cpp_python": llama_cpp.__version__, "runs": []}
    work = tempfile.mkdtemp()
    for model_id, (path, benches) in MODELS.items():
        f32 = os.path.join(work, model_id + "-f32.gguf")
        write_f32_gguf(os.path.join(ROOT, path), f32)
        lm = LlamaCppLM(os.path.join(ROOT, path))
        lm32 = LlamaCppLM(f32)
        for bench in benches:
            d = os.path.join(ROOT, "data/samples", bench)
            items = read_jsonl(os.path.join(d, "test-000.jsonl"))[: LIMIT[model_id]]
            dev = read_jsonl(os.path.join(d, "dev-000.jsonl")) if os.path.exists(os.path.join(d, "dev-000.jsonl")) else []
            with tempfile.TemporaryDirectory() as tmp:
                tasks = build_tasks(tmp, bench, items, dev)
                per_item = run(lm, tmp, tasks, 0)
                by_id = {r["id"]: r for r in per_item}
                per_item = [by_id[it["id"]] for it in items]
                f32_items = {r["id"]: r for r in run(lm32, tmp, tasks, 0)}
                for r in per_item:
                    g = f32_items[r["id"]]
                    assert g["context"] == r["context"] and g["continuations"] == r["continuations"]
                    r["loglik_quantized"] = r["loglik"]
                    r["pred_quantized"] = r["pred"]
                    r["acc_quantized"] = r["acc"]
                    r["loglik"], r["pred"], r["acc"], r["acc_norm"] = g["loglik"], g["pred"], g["acc"], g["acc_norm"]
                entry = {"model": model_id, "benchmark": bench, "shots": 0, "items": per_item}
                acc = np.mean([r["acc"] for r in per_item])
                accq = np.mean([r["acc_quantized"] for r in per_item])
                print(f"{model_id} {bench}: {len(per_item)} items, acc {acc:.3f} (f32 weights), {accq:.3f} (quantised kernels)", file=sys.stderr)
                out["runs"].append(entry)
                if bench == "mmlu-medical" and model_id == "smollm2-135m-instruct":
                    lm.dry_run = True
                    five = run(lm, tmp, tasks, 5)
                    lm.dry_run = False
                    by_id = {r["id"]: r for r in five}
                    out["mmlu_5shot_contexts"] = [{"id": it["id"], "context": by_id[it["id"]]["context"]} for it in items[:10]]
        del lm, lm32
        os.remove(f32)
    dest = os.path.join(ROOT, "crates/eval/tests/fixtures/lm_eval_reference.json")
    with open(dest, "w") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print("wrote", dest, file=sys.stderr)


if __name__ == "__main__":
    main()
