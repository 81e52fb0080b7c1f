//! Prefill and decode timing of one GGUF model on the flex backend, repeated, for profiling
//! (`perf record -g cargo run --release -p bedside-model --example prefill -- MODEL [PRECISION] [REPS] [DECODE]`).
//! Not a benchmark against a peer: `bedside bench model` is.
use bedside_model::{Model, Precision};
use std::sync::Arc;
use std::time::Instant;

type B = burn::backend::Flex<f32>;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args
        .get(1)
        .expect("usage: prefill MODEL.gguf [precision] [reps] [decode tokens]");
    let precision = Precision::parse(args.get(2).map_or("q8-activations", |s| s.as_str()))
        .expect("precision: f32, quantized or q8-activations");
    let reps: usize = args.get(3).map_or(5, |s| s.parse().expect("reps"));
    let decode: usize = args
        .get(4)
        .map_or(16, |s| s.parse().expect("decode tokens"));
    let bytes = std::fs::read(path).expect("reading the model");
    let m = Model::<B>::from_gguf_blob(path, Arc::new(bytes), precision, &Default::default())
        .expect("loading");
    let text = "Question: A 23-year-old pregnant woman at 22 weeks gestation presents with burning upon \
        urination. She states it started 1 day ago and has been worsening despite drinking more water and \
        taking cranberry extract. She otherwise feels well and is followed by a doctor for her pregnancy. \
        Her temperature is 97.7°F (36.5°C), blood pressure is 122/77 mmHg, pulse is 80/min, respirations \
        are 19/min, and oxygen saturation is 98% on room air. Physical exam is notable for an absence of \
        costovertebral angle tenderness and a gravid uterus. Which of the following is the best treatment \
        for this patient?\nA. Ampicillin\nB. Ceftriaxone\nC. Doxycycline\nD. Nitrofurantoin\nAnswer:";
    let ids = m.tokenizer.encode(text, true, false);
    for _ in 0..reps {
        let t = Instant::now();
        let mut state = m.prefix(&ids);
        let p = t.elapsed().as_secs_f64();
        let t = Instant::now();
        for _ in 0..decode {
            let next = bedside_model::sampling::argmax(&state.last_logits);
            m.step(&mut state, next);
        }
        let d = t.elapsed().as_secs_f64();
        println!(
            "{} tokens: prefill {:.1} tok/s, decode {:.1} tok/s",
            ids.len(),
            ids.len() as f64 / p,
            decode as f64 / d
        );
    }
}
