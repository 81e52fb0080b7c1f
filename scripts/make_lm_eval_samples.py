#!/usr/bin/env python3
"""A real lm-evaluation-harness `--log_samples` file, for the test of `bedside import-lm-eval`.

Runs lm-eval's own command line (`lm_eval ... --log_samples --output_path ...`), with its own task files
for `medqa_4options` and `pubmedqa` pointed at Bedside's bundled sample items rewritten into each dataset's
original schema (the machine has no model hub: `dataset_path: json` replaces the hub dataset; everything
else, prompt and metrics, is lm-eval's task file), and SmolLM2-135M-Instruct scored by llama.cpp through the
small lm-eval model class of scripts/reference_lm_eval.py. lm-eval writes the samples files; they are
copied as they are to crates/eval/tests/fixtures/lm_eval_samples/.

    python3 -m venv /tmp/pyref && /tmp/pyref/bin/pip install lm_eval==0.4.13 llama-cpp-python==0.3.36 numpy
    /tmp/pyref/bin/python scripts/make_lm_eval_samples.py [items per task, default 12]

The command line it runs is printed and written next to the files (COMMAND.txt).
"""
import glob
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import reference_lm_eval as ref  # noqa: E402  (LlamaCppLM, to_lm_eval_schema, task_yaml, ...)
from lm_eval.api.registry import register_model  # noqa: E402

ROOT = os.path.dirname(HERE)
N = int(sys.argv[1]) if len(sys.argv) > 1 else 12
DEST = os.path.join(ROOT, "crates/eval/tests/fixtures/lm_eval_samples")
TASKS = {"medqa_4options": ("medqa-4options", "medqa/medqa.yaml"), "pubmedqa": ("pubmedqa", "pubmedqa/pubmedqa.yaml")}


@register_model("bedside_llamacpp")
class Registered(ref.LlamaCppLM):
    @classmethod
    def create_from_arg_string(cls, arg_string, additional_config=None):
        args = dict(kv.split("=", 1) for kv in arg_string.split(",") if kv)
        return cls(args["path"])

    @classmethod
    def create_from_arg_obj(cls, arg_dict, additional_config=None):
        return cls(arg_dict["path"])


def main():
    tmp = tempfile.mkdtemp()
    splits = "test_split: test\ntraining_split: null\nvalidation_split: null\n"
    for task, (bench, include) in TASKS.items():
        items = ref.read_jsonl(os.path.join(ROOT, "data/samples", bench, "test-000.jsonl"))[:N]
        path = ref.write_data(tmp, task + "_data", [ref.to_lm_eval_schema(bench, it) for it in items])
        ref.task_yaml(tmp, task, os.path.join(ref.TASKS, include), {"test": path}, splits)
    out = os.path.join(tmp, "out")
    model = os.path.join(ROOT, "models/SmolLM2-135M-Instruct.Q4_1.gguf")
    argv = ["lm-eval", "run", "--model", "bedside_llamacpp", "--model_args", f"path={model}",
            "--tasks", *TASKS, "--include_path", tmp, "--num_fewshot", "0",
            "--log_samples", "--output_path", out]
    print(" ".join(argv), file=sys.stderr)
    from lm_eval.__main__ import cli_evaluate
    sys.argv = argv
    cli_evaluate()
    files = glob.glob(os.path.join(out, "**", "samples_*.jsonl"), recursive=True)
    results = glob.glob(os.path.join(out, "**", "results_*.json"), recursive=True)
    assert len(files) == len(TASKS), files
    os.makedirs(DEST, exist_ok=True)
    for f in glob.glob(os.path.join(DEST, "*")):
        os.remove(f)
    for f in files:
        task = next(t for t in TASKS if os.path.basename(f).startswith(f"samples_{t}_"))
        shutil.copy(f, os.path.join(DEST, f"samples_{task}.jsonl"))
    shutil.copy(results[0], os.path.join(DEST, "results.json"))
    with open(os.path.join(DEST, "COMMAND.txt"), "w") as f:
        f.write("Made by scripts/make_lm_eval_samples.py, which runs (task files in a temporary --include_path):\n")
        f.write(" ".join(a.replace(ROOT + "/", "") for a in argv) + "\n")
        f.write(f"lm_eval {getattr(ref.lm_eval, '__version__', '0.4.13')}, llama-cpp-python {ref.llama_cpp.__version__}, {N} items per task\n")
    print("wrote", DEST, file=sys.stderr)


if __name__ == "__main__":
    main()
