//! The worker pool's bookkeeping (`bedside_web::pool`), natively: every planned item is counted exactly
//! once however the helpers' records arrive (out of order, twice, late, for another run), a helper with
//! another configuration gets no item, a dropped helper's items are handed out again, and the number of
//! workers follows the cores and the memory.

mod common;
use bedside_eval::ItemRecord;
use bedside_web::pool::{self, Helper, Pool};
use bedside_web::protocol::RunSpec;
use bedside_web::runner::{self, ActiveRun};
use common::{info, sample_files};
use std::collections::BTreeSet;

/// A run of `items` items of the MMLU sample, as the primary worker holds it.
fn active(items: usize) -> ActiveRun {
    let (b, h) = runner::load_bench(&sample_files("mmlu-medical")).unwrap();
    let spec = RunSpec {
        limit: Some(items),
        ..RunSpec::default()
    };
    ActiveRun::start(&spec, &info("SmolLM2", "aaa"), &b, &h, &[], "cpu", None).unwrap()
}

fn record(a: &ActiveRun, i: usize) -> ItemRecord {
    let id = &a.plan.items[i].item.id;
    serde_json::from_value(serde_json::json!({
        "index": i, "id": id, "shard": "test-000.jsonl", "prompt_hash": "", "options": 4,
        "pred": 1, "gold": 1, "correct": true, "status": "scored",
        "prompt_tokens": 1, "extra_tokens": 0, "latency_ms": 1.0,
        "presented": ["a", "b", "c", "d"], "prompt": "Q"
    }))
    .unwrap()
}

#[test]
fn helpers_get_items_only_after_their_configuration_is_checked() {
    let mut a = active(8);
    let ours = a.header.config_hash.clone();
    let mut p = Pool::new(2);
    // Both still loading: nobody to send the run to, no item handed out.
    assert!(p.start(1).is_empty());
    assert!(p.assign(&mut a.state, &a.plan).is_empty());
    // Helper 0 loads during the run: it is sent the run, and gets items once its hash matches.
    assert!(p.loaded(0));
    assert_eq!(p.helpers[0], Helper::Sharing(1));
    assert!(p.assign(&mut a.state, &a.plan).is_empty());
    p.shared(0, 1, &ours, &ours);
    let given = p.assign(&mut a.state, &a.plan);
    assert_eq!(given, vec![(0, 0), (0, 1)], "two ahead, in plan order");
    // Helper 1 built another configuration (another model's SHA-256, say): dropped, never given items.
    assert!(p.loaded(1));
    assert!(p
        .shared(1, 1, "another", &ours)
        .is_some_and(|why| why.contains("another configuration")));
    assert!(matches!(&p.helpers[1], Helper::Gone(why) if why.contains("another")));
    assert!(p.assign(&mut a.state, &a.plan).is_empty());
    assert_eq!((p.alive(), p.working(), p.in_flight()), (1, 1, 2));
    // The primary takes the next item itself.
    assert_eq!(a.state.next_index(&a.plan), Some(2));
}

#[test]
fn records_count_once_and_only_from_the_helper_and_run_that_hold_them() {
    let mut a = active(8);
    let ours = a.header.config_hash.clone();
    let mut p = Pool::new(1);
    p.loaded(0);
    p.start(7);
    p.shared(0, 7, &ours, &ours);
    let given = p.assign(&mut a.state, &a.plan);
    assert_eq!(given.len(), 2);
    let id = |i: usize| a.plan.items[i].item.id.clone();
    // Another run's record, or an item the helper was not given: ignored.
    assert!(!p.finished(0, 6, &a.plan, &id(0)));
    assert!(!p.finished(0, 7, &a.plan, &id(5)));
    // Out of order is fine; the same record twice counts once.
    assert!(p.finished(0, 7, &a.plan, &id(1)));
    assert!(!p.finished(0, 7, &a.plan, &id(1)));
    assert_eq!(p.in_flight(), 1);
    // After the run ends (cancelled), what the helper still sends is ignored, and it goes idle.
    p.end();
    assert!(!p.finished(0, 7, &a.plan, &id(0)));
    assert_eq!(p.helpers[0], Helper::Idle);
    // RunState counts an item once even if told twice.
    let r = record(&a, 3);
    assert!(a.state.finished(&r, 5.0));
    assert!(!a.state.finished(&r, 5.0));
    assert_eq!(
        (a.state.progress.done, a.state.progress.session_ms),
        (1, 5.0)
    );
}

#[test]
fn a_lost_helpers_items_are_handed_out_again_first() {
    let mut a = active(8);
    let ours = a.header.config_hash.clone();
    let mut p = Pool::new(2);
    p.loaded(0);
    p.loaded(1);
    for h in p.start(1) {
        p.shared(h, 1, &ours, &ours);
    }
    assert_eq!(
        p.assign(&mut a.state, &a.plan),
        vec![(0, 0), (0, 1), (1, 2), (1, 3)]
    );
    assert!(p.finished(0, 1, &a.plan, &a.plan.items[0].item.id.clone()));
    p.lost(0, "out of memory".into());
    // Its unfinished item 1 goes to the helper left, before any new item.
    assert_eq!(p.assign(&mut a.state, &a.plan), vec![]);
    p.lost(1, "crashed".into());
    p.give_back(&mut a.state);
    // No helper left: the primary takes 1, 2, 3 back, then goes on with 4.
    let mine: Vec<usize> = std::iter::from_fn(|| a.state.next_index(&a.plan))
        .take(4)
        .collect();
    assert_eq!(mine, vec![1, 2, 3, 4]);
    assert_eq!(p.alive(), 0);
}

/// The primary's loop against helpers that answer in any order, late, or die: every item is counted
/// exactly once and the run's records are the plan's items.
#[test]
fn a_simulated_run_counts_every_item_exactly_once() {
    for seed in 1..=40u64 {
        let mut rng = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut next = move |n: usize| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            (rng % n as u64) as usize
        };
        let mut a = active(20);
        let ours = a.header.config_hash.clone();
        let helpers = 1 + next(3);
        let mut p = Pool::new(helpers);
        for h in 0..helpers {
            if next(2) == 0 {
                p.loaded(h);
            }
        }
        let mut sends = p.start(1);
        // Each helper's queue of (job, plan index), as it would receive them.
        let mut queues: Vec<Vec<usize>> = vec![Vec::new(); helpers];
        let mut counted: Vec<String> = Vec::new();
        for _ in 0..10_000 {
            for h in sends.drain(..) {
                p.shared(h, 1, &ours, &ours);
            }
            for (h, i) in p.assign(&mut a.state, &a.plan) {
                queues[h].push(i);
            }
            match next(6) {
                // A helper still loading finishes loading.
                0 => {
                    let h = next(helpers);
                    if p.loaded(h) {
                        sends.push(h);
                    }
                }
                // A helper answers one of its items (any of them), maybe twice.
                1 | 2 => {
                    let h = next(helpers);
                    if !queues[h].is_empty() {
                        let k = next(queues[h].len());
                        let i = queues[h][k];
                        if next(3) > 0 {
                            queues[h].remove(k);
                        }
                        let r = record(&a, i);
                        if p.finished(h, 1, &a.plan, &r.id) && a.state.finished(&r, 1.0) {
                            counted.push(r.id.clone());
                        }
                    }
                }
                // Rarely, a helper dies with what it holds.
                3 if next(8) == 0 => {
                    let h = next(helpers);
                    p.lost(h, "crashed".into());
                }
                // The primary evaluates an item itself.
                _ => {
                    if let Some(i) = a.state.next_index(&a.plan) {
                        let r = record(&a, i);
                        assert!(a.state.finished(&r, 1.0));
                        counted.push(r.id.clone());
                    } else if p.in_flight() == 0 {
                        p.give_back(&mut a.state);
                        if a.state.progress.done == a.plan.items.len() {
                            break;
                        }
                    }
                }
            }
        }
        let want: BTreeSet<String> = a.plan.items.iter().map(|p| p.item.id.clone()).collect();
        let got: BTreeSet<String> = counted.iter().cloned().collect();
        assert_eq!(
            counted.len(),
            want.len(),
            "seed {seed}: an item counted twice"
        );
        assert_eq!(got, want, "seed {seed}");
        assert_eq!(a.state.progress.done, want.len());
    }
}

#[test]
fn workers_follow_the_cores_and_fit_in_memory() {
    let mb = 1 << 20;
    assert_eq!(pool::workers(None, 2, 100 * mb), 2);
    assert_eq!(pool::workers(None, 16, 100 * mb), pool::MAX_AUTO_WORKERS);
    assert_eq!(pool::workers(None, 1, 100 * mb), 1);
    // Asked for: more than the cores is allowed, within the cap and the memory.
    assert_eq!(pool::workers(Some(3), 2, 100 * mb), 3);
    assert_eq!(pool::workers(Some(99), 2, 10 * mb), pool::MAX_WORKERS);
    assert_eq!(pool::workers(Some(0), 2, 10 * mb), 1);
    // 600 MB models: two copies at twice the model each do not fit in 2 GiB.
    assert_eq!(pool::workers(None, 8, 600 * mb), 1);
    assert_eq!(pool::workers(Some(4), 8, 300 * mb), 3);
}
