# How often llama.cpp (llama-cpp-python, the same GGUF files) picks the f32 oracle's top-1 token at every position
# of the logits fixture prompts (or the first N with an argument): the yardstick of the q8-activations test in
# crates/model/tests/logits_reference.rs. Run from the repository root: python scripts/llama_cpp_agreement.py [N]
import json, sys
import numpy as np
from llama_cpp import Llama
limit = int(sys.argv[1]) if len(sys.argv) > 1 else None
fx = json.load(open("crates/model/tests/fixtures/logits_reference.json"))
for name, m in fx["models"].items():
    llm = Llama(model_path=f"models/{name}", logits_all=True, n_ctx=2048, n_threads=2, verbose=False)
    agree = total = 0
    for c in m["cases"]:
        ids = c["ids"][:limit]
        llm.reset(); llm.eval(ids)
        lg = np.array(llm.scores[:len(ids)])
        am = lg.argmax(1)
        ref = c["argmax"][:len(ids)]
        agree += int((am == np.array(ref)).sum()); total += len(ids)
    print(name, f"llama.cpp vs f32 oracle top-1 {agree}/{total} = {agree/total:.4f}")
