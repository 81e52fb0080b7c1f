//! `bedside report --html`: one self-contained HTML file (inline CSS and SVG; no scripts, fonts or
//! requests) with the summary, per-subject chart with intervals, reliability diagram, answer positions
//! and the per-item table.

use crate::record::{ItemRecord, Status};
use crate::report::pct;
use crate::report::Report;
use bedside_bench::task::option_letter;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Horizontal bars with interval whiskers, 0-100%; an optional dashed reference line (chance).
pub fn bar_chart(rows: &[(String, f64, f64, f64, usize)], reference: Option<f64>) -> String {
    // Room for the longest label (about 6 px a character at font size 11), within reason.
    let longest = rows
        .iter()
        .map(|r| r.0.chars().count() + 6)
        .max()
        .unwrap_or(0);
    let label_w = (longest as f64 * 6.0).clamp(220.0, 420.0);
    let (w, row_h) = (640.0 + (label_w - 220.0), 22.0);
    let h = rows.len() as f64 * row_h + 30.0;
    let x = |v: f64| label_w + v * (w - label_w - 20.0);
    let mut s =
        format!(r#"<svg viewBox="0 0 {w} {h}" role="img" width="100%" style="max-width:{w}px">"#);
    for t in [0.0, 0.25, 0.5, 0.75, 1.0] {
        s += &format!(
            r##"<line x1="{0:.1}" x2="{0:.1}" y1="0" y2="{1:.1}" stroke="#ddd"/><text x="{0:.1}" y="{2:.1}" font-size="10" text-anchor="middle">{3:.0}%</text>"##,
            x(t),
            h - 20.0,
            h - 6.0,
            t * 100.0
        );
    }
    for (i, (label, v, lo, hi, n)) in rows.iter().enumerate() {
        let y = i as f64 * row_h + 4.0;
        s += &format!(
            r##"<text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end">{} ({n})</text><rect x="{:.1}" y="{y:.1}" width="{:.1}" height="14" fill="#4a7fb5"><title>{}: {} [{}, {}]</title></rect><line x1="{:.1}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="#222"/>"##,
            label_w - 6.0,
            y + 11.0,
            esc(label),
            x(0.0),
            (x(*v) - x(0.0)).max(0.5),
            esc(label),
            pct(*v),
            pct(*lo),
            pct(*hi),
            x(*lo),
            x(*hi),
            y + 7.0,
            y + 7.0
        );
    }
    if let Some(r) = reference {
        s += &format!(
            r##"<line x1="{0:.1}" x2="{0:.1}" y1="0" y2="{1:.1}" stroke="#c0392b" stroke-dasharray="4 3"><title>chance {2}</title></line>"##,
            x(r),
            h - 20.0,
            pct(r)
        );
    }
    s + "</svg>"
}

pub fn reliability_chart(r: &Report) -> String {
    let Some(c) = &r.calibration else {
        return String::new();
    };
    let (size, pad) = (300.0, 30.0);
    let sc = |v: f64| pad + v * (size - 2.0 * pad);
    let y = |v: f64| size - sc(v);
    let mut s = format!(
        r##"<svg viewBox="0 0 {size} {size}" width="100%" style="max-width:{size}px" role="img"><line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#999" stroke-dasharray="4 3"/>"##,
        sc(0.0),
        y(0.0),
        sc(1.0),
        y(1.0)
    );
    for b in c.reliability.iter().filter(|b| b.count > 0) {
        let (Some(acc), Some(conf)) = (b.accuracy, b.mean_confidence) else {
            continue;
        };
        let bw = sc(b.high) - sc(b.low) - 2.0;
        s += &format!(
            r##"<rect x="{:.1}" y="{:.1}" width="{bw:.1}" height="{:.1}" fill="#4a7fb5" opacity="0.8"><title>confidence {:.1}-{:.1}: {} items, accuracy {}, mean confidence {}</title></rect>"##,
            sc(b.low) + 1.0,
            y(acc),
            (sc(acc) - sc(0.0)).max(0.5),
            b.low,
            b.high,
            b.count,
            pct(acc),
            pct(conf)
        );
        s += &format!(
            r##"<circle cx="{:.1}" cy="{:.1}" r="3" fill="#c0392b"/>"##,
            sc(conf),
            y(acc)
        );
    }
    for t in [0.0, 0.25, 0.5, 0.75, 1.0] {
        s += &format!(
            r##"<line x1="{0:.1}" x2="{0:.1}" y1="{1:.1}" y2="{2:.1}" stroke="#999"/><text x="{0:.1}" y="{3:.1}" font-size="9" text-anchor="middle">{4:.0}%</text><line x1="{5:.1}" x2="{6:.1}" y1="{7:.1}" y2="{7:.1}" stroke="#999"/><text x="{8:.1}" y="{9:.1}" font-size="9" text-anchor="end">{4:.0}%</text>"##,
            sc(t),
            y(0.0),
            y(0.0) + 4.0,
            y(0.0) + 13.0,
            t * 100.0,
            sc(0.0) - 4.0,
            sc(0.0),
            y(t),
            sc(0.0) - 5.0,
            y(t) + 3.0
        );
    }
    s += &format!(
        r##"<text x="{:.1}" y="{:.1}" font-size="11" text-anchor="middle">confidence</text><text x="10" y="{:.1}" font-size="11" transform="rotate(-90 10 {:.1})" text-anchor="middle">accuracy</text></svg>"##,
        size / 2.0,
        size - 6.0,
        size / 2.0,
        size / 2.0
    );
    s
}

pub fn positions_chart(r: &Report) -> String {
    let k = r.gold_positions.len();
    if k == 0 {
        return String::new();
    }
    let total_g: usize = r.gold_positions.iter().sum();
    let total_p: usize = r.pred_positions.iter().sum();
    let (w, h, pad) = ((60.0 * k as f64 + 40.0).max(260.0), 200.0, 24.0);
    let max = r
        .gold_positions
        .iter()
        .chain(&r.pred_positions)
        .map(|&x| x as f64 / total_g.max(1) as f64)
        .fold(0.01, f64::max);
    let mut s =
        format!(r#"<svg viewBox="0 0 {w} {h}" width="100%" style="max-width:{w}px" role="img">"#);
    for i in 0..k {
        let x0 = 30.0 + i as f64 * 60.0;
        for (j, (v, tot, color, what)) in [
            (r.gold_positions[i], total_g, "#7f8c8d", "gold"),
            (r.pred_positions[i], total_p, "#4a7fb5", "predicted"),
        ]
        .into_iter()
        .enumerate()
        {
            let share = v as f64 / tot.max(1) as f64;
            let bh = share / max * (h - 2.0 * pad);
            s += &format!(
                r#"<rect x="{:.1}" y="{:.1}" width="22" height="{bh:.1}" fill="{color}"><title>{what} {}: {v} ({})</title></rect><text x="{:.1}" y="{:.1}" font-size="10" text-anchor="middle">{v}</text>"#,
                x0 + j as f64 * 24.0,
                h - pad - bh,
                option_letter(i),
                pct(share),
                x0 + j as f64 * 24.0 + 11.0,
                h - pad - bh - 3.0
            );
        }
        s += &format!(
            r#"<text x="{:.1}" y="{:.1}" font-size="12" text-anchor="middle">{}</text>"#,
            x0 + 23.0,
            h - 8.0,
            option_letter(i)
        );
    }
    s += &format!(
        r##"<line x1="26" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="#999"/><rect x="30" y="2" width="10" height="10" fill="#7f8c8d"/><text x="43" y="11" font-size="10">gold</text><rect x="80" y="2" width="10" height="10" fill="#4a7fb5"/><text x="93" y="11" font-size="10">predicted (counts of {} items)</text>"##,
        w - 4.0,
        h - pad,
        h - pad,
        total_g
    );
    s + "</svg>"
}

/// Accuracy overall and per subject with 95% Wilson intervals; the dashed line is chance.
pub fn subject_chart(r: &Report) -> String {
    let subjects = r.subjects.iter().map(|s| {
        (
            s.subject.clone(),
            s.accuracy,
            s.interval.low,
            s.interval.high,
            s.items,
        )
    });
    let overall = r
        .accuracy
        .zip(r.wilson)
        .map(|(a, w)| ("all items".to_string(), a, w.low, w.high, r.answered));
    bar_chart(
        &overall.into_iter().chain(subjects).collect::<Vec<_>>(),
        r.chance.as_ref().map(|c| c.expected_accuracy),
    )
}

/// The whole report page. `records` fill the per-item table.
pub fn render(r: &Report, records: &[ItemRecord]) -> String {
    let cards: Vec<String> = crate::cards::cards(r)
        .iter()
        .map(|c| {
            format!(
                r#"<div class="card{}" title="{}"><div class="t">{}</div><div class="v">{}</div><div class="n">{}</div><div class="x">{}</div></div>"#,
                if c.alarm { " alarm" } else { "" },
                esc(&c.explain),
                esc(c.title),
                esc(&c.value),
                esc(&c.note),
                esc(&c.explain)
            )
        })
        .collect();
    let warnings: String = r
        .warnings
        .iter()
        .map(|w| format!("<li>{}</li>", esc(&w.message())))
        .collect();
    let warnings = if warnings.is_empty() {
        String::new()
    } else {
        format!(r#"<ul class="warnings">{warnings}</ul>"#)
    };
    let mut rows = String::new();
    for rec in records {
        let letter = |i: Option<usize>| {
            i.map(|i| {
                if rec.options > 0 {
                    option_letter(i).to_string()
                } else {
                    i.to_string()
                }
            })
            .unwrap_or("-".into())
        };
        let probs = rec
            .probs
            .as_ref()
            .map(|p| {
                p.iter()
                    .enumerate()
                    .map(|(i, x)| format!("{}:{:.2}", option_letter(i), x))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default();
        let status = match rec.status {
            Status::Scored | Status::Extracted if rec.correct => "correct",
            Status::Scored | Status::Extracted => "wrong",
            Status::Unextractable => "unextractable",
            Status::Failed => "failed",
        };
        rows += &format!(
            "<tr class=\"{status}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{status}</td><td class=\"m\">{}</td><td>{}</td></tr>\n",
            esc(&rec.id),
            esc(rec.subject.as_deref().unwrap_or("")),
            rec.gold_value.map(|v| v.to_string()).unwrap_or_else(|| letter(rec.gold)),
            rec.pred_value.map(|v| v.to_string()).unwrap_or_else(|| letter(rec.pred)),
            esc(&probs),
            esc(&rec.outputs.first().cloned().unwrap_or_default().chars().take(200).collect::<String>())
        );
    }
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>Bedside report: {model} on {bench}</title>
<style>
body{{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5rem auto;max-width:1000px;padding:0 1rem;color:#222}}
h1{{font-size:1.3rem}} h2{{font-size:1.05rem;margin-top:2rem}}
.cards{{display:flex;flex-wrap:wrap;gap:.6rem}} .card{{border:1px solid #ddd;border-radius:6px;padding:.6rem .8rem;min-width:140px}}
.t{{font-size:.75rem;color:#666}} .v{{font-size:1.4rem;font-weight:600}} .n{{font-size:.75rem;color:#444}}
table{{border-collapse:collapse;width:100%;font-size:.8rem}} td,th{{border-bottom:1px solid #eee;padding:.2rem .4rem;text-align:left;vertical-align:top}}
tr.wrong td:nth-child(5){{color:#c0392b}} tr.correct td:nth-child(5){{color:#1e8449}} tr.unextractable td:nth-child(5),tr.failed td:nth-child(5){{color:#b9770e}}
.m{{font-family:ui-monospace,monospace}} .meta{{color:#555;font-size:.85rem}}
.x{{font-size:.7rem;color:#666;max-width:220px;margin-top:.3rem}} .alarm{{border-color:#c0392b}} .alarm .v{{color:#c0392b}}
.warnings{{border-left:4px solid #c0392b;background:#fdf2f0;padding:.5rem 1.5rem;font-size:.9rem}}
</style></head><body>
<h1>{model} on {bench}</h1>
<p class="meta">split {split} · method {method} · template {template} · {shots}-shot{chat}{probes} · config {hash}</p>
{warnings}<div class="cards">{cards}</div>
<h2>Accuracy by subject (95% Wilson intervals; dashed line: chance)</h2>
{subject_chart}
<h2>Reliability diagram</h2>
<p class="meta">Bars: accuracy per confidence bin; dots: mean confidence; dashed: perfect calibration.</p>
{reliability}
<h2>Answer positions (grey: gold, blue: predicted)</h2>
{positions}
<h2>Items</h2>
<table><thead><tr><th>id</th><th>subject</th><th>gold</th><th>pred</th><th>result</th><th>probabilities</th><th>output</th></tr></thead><tbody>
{rows}</tbody></table>
<p class="meta">Written by Bedside {version}. This file makes no network requests.</p>
</body></html>
"#,
        model = esc(&r.model),
        bench = esc(&r.benchmark),
        split = esc(&r.split),
        method = esc(&r.method),
        template = esc(&r.template),
        shots = r.shots,
        chat = if r.chat { " · chat" } else { "" },
        probes = if r.probes.is_empty() {
            String::new()
        } else {
            format!(" · probes {}", esc(&r.probes.join(", ")))
        },
        hash = &r.config_hash[..12.min(r.config_hash.len())],
        cards = cards.join(""),
        warnings = warnings,
        subject_chart = subject_chart(r),
        reliability = reliability_chart(r),
        positions = positions_chart(r),
        version = env!("CARGO_PKG_VERSION"),
    )
}

/// The page style shared by the paired report and lesson pages.
const PAGE_STYLE: &str = r#"body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5rem auto;max-width:1000px;padding:0 1rem;color:#222}
h1{font-size:1.3rem} h2{font-size:1.05rem;margin-top:2rem} .meta{color:#555;font-size:.85rem}
table{border-collapse:collapse;width:100%;font-size:.8rem} td,th{border-bottom:1px solid #eee;padding:.2rem .4rem;text-align:left;vertical-align:top}
pre{white-space:pre-wrap;background:#f6f6f6;padding:.5rem;font-size:.75rem;max-height:22rem;overflow:auto}
.side{display:grid;grid-template-columns:1fr 1fr;gap:1rem} .chose{font-weight:600} .gold{color:#1e8449}
.reading{border-left:4px solid #4a7fb5;background:#f2f6fb;padding:.5rem 1rem}"#;

/// Bars for a paired report: each comparison's baseline and probed accuracy with 95% Wilson intervals
/// (dashed: chance; dotted: always the most common answer).
pub fn paired_chart(p: &crate::paired::Paired) -> String {
    let mut rows = Vec::new();
    for c in &p.comparisons {
        for (who, r) in [(&c.against, &c.baseline), (&c.label, &c.probed)] {
            rows.push((
                who.to_string(),
                r.accuracy,
                r.wilson.low,
                r.wilson.high,
                r.items,
            ));
        }
    }
    let mut svg = bar_chart(&rows, p.chance.as_ref().map(|c| c.expected_accuracy));
    if let Some(m) = &p.majority {
        // A second reference line: the majority answer.
        let (w, label_w) = (640.0, 220.0);
        let x = label_w + m.accuracy * (w - label_w - 20.0);
        let h = rows.len() as f64 * 22.0 + 10.0;
        svg = svg.replace(
            "</svg>",
            &format!(
                r##"<line x1="{x:.1}" x2="{x:.1}" y1="0" y2="{h:.1}" stroke="#7d3c98" stroke-dasharray="1 3" stroke-width="2"><title>always "{}": {}</title></line></svg>"##,
                esc(&m.answer),
                pct(m.accuracy)
            ),
        );
    }
    svg
}

fn options_list(
    opts: &[String],
    pred: Option<usize>,
    gold: Option<usize>,
    suggested: Option<usize>,
) -> String {
    opts.iter()
        .enumerate()
        .map(|(i, o)| {
            let mut marks = Vec::new();
            if Some(i) == pred {
                marks.push("chosen");
            }
            if Some(i) == gold {
                marks.push("gold");
            }
            if Some(i) == suggested {
                marks.push("suggested");
            }
            format!(
                r#"<li class="{}">{}. {}{}</li>"#,
                marks.join(" ").replace("chosen", "chose"),
                option_letter(i),
                esc(o),
                if marks.is_empty() {
                    String::new()
                } else {
                    format!(" <small>({})</small>", marks.join(", "))
                }
            )
        })
        .collect()
}

/// A flipped item, both prompts side by side.
pub fn flip_html(f: &crate::paired::Flip) -> String {
    format!(
        r#"<p class="meta">item {} ({}): {}</p><div class="side"><div><b>plain</b><pre>{}</pre><ol>{}</ol></div><div><b>probed ({})</b><pre>{}</pre><ol>{}</ol>{}</div></div>"#,
        esc(&f.source_id),
        esc(&f.variant_id),
        if f.right_to_wrong {
            "right in the plain run, wrong when probed"
        } else {
            "wrong in the plain run, right when probed"
        },
        esc(&f.baseline_prompt),
        options_list(&f.baseline_options, f.baseline_pred, f.baseline_gold, None),
        esc(&f.variant_id),
        esc(&f.probed_prompt),
        options_list(&f.probed_options, f.probed_pred, f.probed_gold, f.suggested),
        f.injected
            .as_ref()
            .map(|t| format!("<p class=\"meta\">added sentence: {}</p>", esc(t)))
            .unwrap_or_default()
    )
}

/// The body of a paired report: chart, table, readings, probe figures, worked examples.
pub fn paired_body(p: &crate::paired::Paired) -> String {
    use crate::paired::{p_text, reading};
    let rows: String = p
        .comparisons
        .iter()
        .map(|c| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{} [{}, {}]</td><td>{} [{}, {}]</td><td>{:+.1} pts [{:+.1}, {:+.1}]</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&c.label), c.items,
                pct(c.baseline.accuracy), pct(c.baseline.wilson.low), pct(c.baseline.wilson.high),
                pct(c.probed.accuracy), pct(c.probed.wilson.low), pct(c.probed.wilson.high),
                100.0 * c.difference, 100.0 * c.interval.low, 100.0 * c.interval.high,
                p_text(c.mcnemar_p), c.right_to_wrong, c.wrong_to_right
            )
        })
        .collect();
    let readings: String = p
        .comparisons
        .iter()
        .map(|c| format!("<li>{}</li>", esc(&reading(c))))
        .collect();
    let mut figures = String::new();
    if let Some(c) = &p.consistency {
        figures += &format!(
            "<p>Option orders: {} per item over {} items. Same option text chosen in every order: {} [{}, {}]. Right in every order (strict): {}.</p>",
            c.orders, c.items, pct(c.consistent.accuracy), pct(c.consistent.wilson.low), pct(c.consistent.wilson.high), pct(c.strict.accuracy)
        );
    }
    for b in &p.bias {
        figures += &format!(
            "<p>Bias {}: the suggested wrong option was chosen on {} of {} items ({} in the plain run); of the items answered otherwise in the plain run, {} switched to it ({} [{}, {}]).</p>",
            esc(&b.bias), b.chose_suggested.correct, b.items, b.baseline_chose_suggested, b.switched.correct, pct(b.switched.accuracy), pct(b.switched.wilson.low), pct(b.switched.wilson.high)
        );
    }
    if let Some(x) = &p.position {
        figures += &format!("<pre>{}</pre>", esc(&crate::paired::position_text(x)));
    }
    let flips: String = p.flips.iter().map(flip_html).collect();
    format!(
        r#"<p class="meta">{model} on {bench} ({split}) · {method} · probed: {probes} · items paired {n}{only}</p>
{diffs}<h2>Accuracy, plain and probed (95% Wilson intervals; dashed: chance, dotted: always the most common answer)</h2>
{chart}
<table><thead><tr><th>comparison</th><th>items</th><th>baseline</th><th>probed</th><th>difference [95% paired bootstrap]</th><th>McNemar p</th><th>right→wrong</th><th>wrong→right</th></tr></thead><tbody>{rows}</tbody></table>
<h2>Reading</h2><ul class="reading">{readings}</ul>
{figures}
<h2>Items that flipped</h2>{flips}"#,
        model = esc(&p.probed.model),
        bench = esc(&p.probed.benchmark),
        split = esc(&p.probed.split),
        method = esc(&p.probed.method),
        probes = esc(&p.probed.probes),
        n = p.items_paired,
        only = if p.only_baseline + p.only_probed > 0 {
            format!(
                " ({} only in one run, left out)",
                p.only_baseline + p.only_probed
            )
        } else {
            String::new()
        },
        diffs = if p.differences.is_empty() {
            String::new()
        } else {
            format!(
                "<p class=\"meta\">The runs also differ in {}.</p>",
                esc(&p.differences.join("; "))
            )
        },
        chart = paired_chart(p),
        flips = if flips.is_empty() {
            "<p>No item changed its answer.</p>".to_string()
        } else {
            flips
        },
    )
}

/// A self-contained page (no scripts, no requests) around `body`.
pub fn page(title: &str, body: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>{t}</title><style>{PAGE_STYLE}</style></head><body>
<h1>{t}</h1>
{body}
<p class="meta">Written by Bedside {v}. This file makes no network requests.</p>
</body></html>
"#,
        t = esc(title),
        v = env!("CARGO_PKG_VERSION"),
    )
}

/// `bedside report --baseline ... --html`: the paired report as one page.
pub fn render_paired(p: &crate::paired::Paired) -> String {
    page(
        &format!(
            "Bedside paired report: {} under {}",
            p.probed.model, p.probed.probes
        ),
        &paired_body(p),
    )
}

/// A plain run's accuracy next to its baselines (chance dashed, always-the-most-common-answer dotted).
pub fn baseline_chart(r: &Report) -> String {
    let mut rows = Vec::new();
    if let (Some(a), Some(w)) = (r.accuracy, r.wilson) {
        rows.push(("model".to_string(), a, w.low, w.high, r.answered));
    }
    if let Some(c) = &r.chance {
        rows.push((
            "guessing".to_string(),
            c.expected_accuracy,
            c.interval.low,
            c.interval.high,
            c.items,
        ));
    }
    if let Some(m) = &r.majority {
        rows.push((
            format!("always \"{}\"", m.answer),
            m.accuracy,
            m.accuracy,
            m.accuracy,
            m.items,
        ));
    }
    bar_chart(&rows, r.chance.as_ref().map(|c| c.expected_accuracy))
}

/// A lesson's result as one self-contained page a teacher can hand out.
pub fn render_lesson(
    l: &crate::lessons::Lesson,
    plain: &Report,
    paired: Option<&crate::paired::Paired>,
) -> String {
    let reading: String = crate::lessons::reading(l, plain, paired)
        .iter()
        .map(|s| format!("<p>{}</p>", esc(s)))
        .collect();
    let body = format!(
        r#"<p><b>Claim.</b> {claim}</p><p class="meta">Source: {source}</p>
<p class="meta">{model} on {bench} ({split}) · {method} · {items} items · probe {probe}</p>
<h2>What was measured</h2><div class="reading">{reading}</div>
{detail}
<h2>For discussion</h2><p>{question}</p>"#,
        claim = esc(l.claim),
        source = esc(l.source),
        model = esc(&plain.model),
        bench = esc(&plain.benchmark),
        split = esc(&plain.split),
        method = esc(&plain.method),
        items = plain.items,
        probe = esc(l.probe.unwrap_or("none")),
        detail = match paired {
            Some(p) => paired_body(p),
            None => baseline_chart(plain),
        },
        question = esc(l.question),
    );
    page(&format!("Bedside lesson: {}", l.title), &body)
}

const SERIES: [&str; 8] = [
    "#4a7fb5", "#c0392b", "#27ae60", "#8e44ad", "#d35400", "#16a085", "#7f8c8d", "#2c3e50",
];

/// Reliability curves of several runs overlaid: bin accuracy against bin mean confidence, one colour
/// per run; the dashed diagonal is perfect calibration.
pub fn reliability_overlay(c: &crate::compare::Compared) -> String {
    let (size, pad) = (300.0, 30.0);
    let sc = |v: f64| pad + v * (size - 2.0 * pad);
    let y = |v: f64| size - sc(v);
    let mut s = format!(
        r##"<svg viewBox="0 0 {size} {size}" width="100%" style="max-width:{size}px" role="img"><line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#999" stroke-dasharray="4 3"/>"##,
        sc(0.0),
        y(0.0),
        sc(1.0),
        y(1.0)
    );
    let mut any = false;
    for (i, r) in c.runs.iter().enumerate() {
        let Some(cal) = &r.report.calibration else {
            continue;
        };
        let colour = SERIES[i % SERIES.len()];
        let pts: Vec<(f64, f64, usize)> = cal
            .reliability
            .iter()
            .filter(|b| b.count > 0)
            .filter_map(|b| Some((b.mean_confidence?, b.accuracy?, b.count)))
            .collect();
        if pts.is_empty() {
            continue;
        }
        any = true;
        let line: Vec<String> = pts
            .iter()
            .map(|(x, a, _)| format!("{:.1},{:.1}", sc(*x), y(*a)))
            .collect();
        s += &format!(
            r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="1.5"/>"#,
            line.join(" ")
        );
        for (x, a, n) in &pts {
            s += &format!(
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{colour}"><title>{}: confidence {}, accuracy {} ({n} items)</title></circle>"#,
                sc(*x),
                y(*a),
                esc(&r.label),
                pct(*x),
                pct(*a)
            );
        }
    }
    if !any {
        return String::new();
    }
    for t in [0.0, 0.5, 1.0] {
        s += &format!(
            r##"<text x="{:.1}" y="{:.1}" font-size="9" text-anchor="middle">{2:.0}%</text><text x="{3:.1}" y="{4:.1}" font-size="9" text-anchor="end">{2:.0}%</text>"##,
            sc(t),
            y(0.0) + 13.0,
            t * 100.0,
            sc(0.0) - 5.0,
            y(t) + 3.0
        );
    }
    s += &format!(
        r##"<text x="{:.1}" y="{:.1}" font-size="11" text-anchor="middle">confidence</text><text x="10" y="{:.1}" font-size="11" transform="rotate(-90 10 {:.1})" text-anchor="middle">accuracy</text></svg>"##,
        size / 2.0,
        size - 6.0,
        size / 2.0,
        size / 2.0
    );
    s
}

fn legend(c: &crate::compare::Compared) -> String {
    c.runs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            format!(
                r#"<span style="color:{}">&#9632;</span> {} &nbsp; "#,
                SERIES[i % SERIES.len()],
                esc(&r.label)
            )
        })
        .collect()
}

/// `bedside compare --html` (and the app's export): the whole comparison as one page.
pub fn compare_body(c: &crate::compare::Compared) -> String {
    use crate::paired::p_text;
    let mut rows = Vec::new();
    for r in &c.runs {
        if let (Some(a), Some(w)) = (r.report.accuracy, r.report.wilson) {
            rows.push((r.label.clone(), a, w.low, w.high, r.report.answered));
        }
    }
    let chance = c
        .runs
        .first()
        .and_then(|r| r.report.chance.as_ref())
        .map(|x| x.expected_accuracy);
    let run_rows: String = c
        .runs
        .iter()
        .map(|r| {
            let rep = &r.report;
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"meta\">{}</td></tr>",
                esc(&r.label),
                rep.accuracy.map(pct).unwrap_or_else(|| "-".into()),
                rep.wilson.map(|w| format!("{} – {}", pct(w.low), pct(w.high))).unwrap_or_default(),
                rep.answered,
                rep.unextractable + rep.failed,
                rep.chance.as_ref().map(|x| pct(x.expected_accuracy)).unwrap_or_default(),
                rep.majority.as_ref().map(|m| format!("{} (“{}”)", pct(m.accuracy), esc(&m.answer))).unwrap_or_default(),
                rep.calibration.as_ref().map(|k| format!("{:.3} / {:.3}", k.ece, k.brier)).unwrap_or_else(|| "-".into()),
                esc(&r.file),
            )
        })
        .collect();
    let pair_rows: String = c
        .pairs
        .iter()
        .map(|p| {
            let x = &p.comparison;
            format!(
                "<tr><td>{} − {}</td><td>{}</td><td>{:+.1} pts [{:+.1}, {:+.1}]</td><td>{}</td><td>{}</td><td>{} / {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&c.runs[p.b].label),
                esc(&c.runs[p.a].label),
                x.items,
                100.0 * x.difference,
                100.0 * x.interval.low,
                100.0 * x.interval.high,
                p_text(x.mcnemar_p),
                p_text(p.p_holm),
                x.wrong_to_right,
                x.right_to_wrong,
                p.agreement.map(|g| pct(g.observed)).unwrap_or_default(),
                p.agreement.and_then(|g| g.kappa).map(|k| format!("{k:.2}")).unwrap_or_else(|| "-".into()),
                p.items_needed.map(|n| format!("{}", n as u64)).unwrap_or_else(|| "-".into()),
                if p.distinguishable { "yes" } else { "no" },
            )
        })
        .collect();
    let readings: String = c
        .pairs
        .iter()
        .map(|p| format!("<li>{}</li>", esc(&p.reading)))
        .collect();
    let mut subjects = String::new();
    if !c.subjects.subjects.is_empty() {
        let head: String = c
            .runs
            .iter()
            .map(|r| format!("<th>{}</th>", esc(&r.label)))
            .collect();
        let body: String = c
            .subjects
            .subjects
            .iter()
            .enumerate()
            .map(|(j, s)| {
                let cells: String = c
                    .runs
                    .iter()
                    .enumerate()
                    .map(|(i, _)| match &c.subjects.cells[i][j] {
                        Some(x) => format!(
                            "<td>{} <span class=\"meta\">[{}, {}] ({})</span></td>",
                            pct(x.accuracy),
                            pct(x.wilson.low),
                            pct(x.wilson.high),
                            x.items
                        ),
                        None => "<td>-</td>".into(),
                    })
                    .collect();
                format!("<tr><td>{}</td>{cells}</tr>", esc(s))
            })
            .collect();
        subjects = format!(
            "<h2>Per subject (accuracy, 95% Wilson interval, items)</h2><table><thead><tr><th>subject</th>{head}</tr></thead><tbody>{body}</tbody></table>"
        );
    }
    let mut models = String::new();
    if let Some(irt) = &c.irt {
        let f = &irt.fit;
        let ab: String = irt
            .runs
            .iter()
            .map(|&i| &c.runs[i])
            .zip(&f.abilities)
            .map(|(r, a)| {
                format!(
                    "<tr><td>{}</td><td>{:+.2}</td><td>{:.2}</td></tr>",
                    esc(&r.label),
                    a.theta,
                    a.se
                )
            })
            .collect();
        let flagged: String = f
            .items
            .iter()
            .filter(|p| p.negative_discrimination)
            .zip(&irt.flagged)
            .map(|(p, id)| {
                format!(
                    "<tr><td>{}</td><td>{:.2} ± {:.2}</td><td>{:.2} ± {:.2}</td></tr>",
                    esc(id),
                    p.discrimination,
                    p.discrimination_se,
                    p.difficulty,
                    p.difficulty_se
                )
            })
            .collect();
        models += &format!(
            "<h2>Item response theory ({model}, {runs} runs × {items} items)</h2><p class=\"meta\">Ability θ of each run on the scale of the items' difficulty (mean 0, SD 1 over the population the runs stand for); items everyone got right or wrong carry no information and are left out.</p><table><thead><tr><th>run</th><th>ability θ</th><th>SE</th></tr></thead><tbody>{ab}</tbody></table>{flag}",
            model = match f.model {
                bedside_bench::metrics::irt::IrtModel::TwoPl => "2PL",
                bedside_bench::metrics::irt::IrtModel::Rasch => "Rasch",
            },
            runs = f.respondents,
            items = f.items_used,
            flag = if flagged.is_empty() {
                "<p>No item has a clearly negative discrimination.</p>".to_string()
            } else {
                format!("<p>Items with negative discrimination (the stronger runs got them wrong more often: check the answer key and the wording):</p><table><thead><tr><th>item</th><th>discrimination</th><th>difficulty</th></tr></thead><tbody>{flagged}</tbody></table>")
            }
        );
    }
    if let Some(l) = &c.label_check {
        let rows: String = l
            .labels
            .iter()
            .map(|r| {
                format!(
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:+.2}</td></tr>",
                    esc(&r.label),
                    match r.kind {
                        crate::label_check::LabelKind::Ok => "ok",
                        crate::label_check::LabelKind::Error => "error",
                        crate::label_check::LabelKind::Unresolved => "left out",
                    },
                    r.items,
                    r.flagged,
                    r.mean_discrimination
                )
            })
            .collect();
        models += &format!(
            "<h2>IRT flags against the experts' labels</h2><p class=\"meta\">The benchmark's items carry `{field}` labels (MMLU-Redux: Gema et al., NAACL 2025). Of the {fitted} fitted items, {labelled} are labelled ok or an error and counted; {unresolved} are left to an expert or unlabelled and left out.</p><p>{reading}.</p><table><thead><tr><th>label</th><th>counted as</th><th>items</th><th>flagged</th><th>mean discrimination</th></tr></thead><tbody>{rows}</tbody></table>",
            field = esc(&l.field),
            fitted = l.fitted,
            labelled = l.labelled,
            unresolved = l.unresolved,
            reading = esc(&l.reading()),
        );
    }
    if let Some(bt) = &c.bradley_terry {
        let mut order: Vec<_> = bt.strengths.iter().collect();
        order.sort_by_key(|x| x.rank);
        let rows: String = order
            .iter()
            .map(|x| {
                format!(
                    "<tr><td>{}</td><td>{}</td><td>{:+.2} [{:+.2}, {:+.2}]</td><td>{}</td><td>{}</td></tr>",
                    x.rank,
                    esc(&c.runs[x.player].label),
                    x.strength,
                    x.low,
                    x.high,
                    x.wins,
                    x.losses
                )
            })
            .collect();
        models += &format!(
            "<h2>Bradley-Terry strengths</h2><p class=\"meta\">Each item one run got right and another wrong is a win; {ties} ties (both right or both wrong) are left out. Strength is a log-odds scale (mean 0): a difference of 1 means winning such an item 73% of the time.</p><table><thead><tr><th>rank</th><th>run</th><th>strength [95%]</th><th>wins</th><th>losses</th></tr></thead><tbody>{rows}</tbody></table>",
            ties = bt.ties
        );
    }
    let item_rows = |only_disagree: bool| -> String {
        c.items
            .iter()
            .filter(|i| !only_disagree || i.disagree)
            .map(|i| {
                let cells: String = i
                    .answers
                    .iter()
                    .map(|a| {
                        let mark = match a.correct {
                            Some(true) => "✓",
                            Some(false) => "✗",
                            None => "–",
                        };
                        format!(
                            "<td>{mark} {}{}</td>",
                            esc(a.answer.as_deref().unwrap_or("")),
                            a.probability
                                .map(|p| format!(" <span class=\"meta\">{}</span>", pct(p)))
                                .unwrap_or_default()
                        )
                    })
                    .collect();
                format!(
                    "<tr><td>{}</td><td>{}</td><td class=\"gold\">{} {}</td>{cells}</tr>",
                    esc(&i.id),
                    esc(i.subject.as_deref().unwrap_or("")),
                    esc(i.gold.as_deref().unwrap_or("")),
                    esc(i.gold_text.as_deref().unwrap_or("")),
                )
            })
            .collect()
    };
    let head: String = c
        .runs
        .iter()
        .map(|r| format!("<th>{}</th>", esc(&r.label)))
        .collect();
    let disagree = c.items.iter().filter(|i| i.disagree).count();
    let notes: String = c
        .notes
        .iter()
        .map(|n| format!("<p class=\"meta\">{}</p>", esc(n)))
        .collect();
    format!(
        r#"<p class="meta">{bench} ({split}) · {n} shared items · {k} runs</p>{notes}
<h2>Accuracy over the shared items (95% Wilson intervals; dashed: chance)</h2>
{chart}
<table><thead><tr><th>run</th><th>accuracy</th><th>95% Wilson</th><th>answered</th><th>unanswered</th><th>chance</th><th>majority baseline</th><th>ECE / Brier</th><th>file</th></tr></thead><tbody>{run_rows}</tbody></table>
<h2>Pairs (paired on the items both answered)</h2>
<table><thead><tr><th>difference</th><th>items</th><th>difference [95% paired bootstrap]</th><th>McNemar p</th><th>Holm p</th><th>right only in first / second</th><th>agreement</th><th>Cohen's κ</th><th>items for 80% power</th><th>distinguishable</th></tr></thead><tbody>{pair_rows}</tbody></table>
<ul class="reading">{readings}</ul>
{subjects}
<h2>Calibration (reliability curves overlaid)</h2><p>{legend}</p>{overlay}
{models}
<h2>Items</h2>
<details open><summary>{disagree} items where the runs disagree</summary><table><thead><tr><th>item</th><th>subject</th><th>gold</th>{head}</tr></thead><tbody>{dis}</tbody></table></details>
<details><summary>All {n} items</summary><table><thead><tr><th>item</th><th>subject</th><th>gold</th>{head}</tr></thead><tbody>{all}</tbody></table></details>"#,
        bench = esc(&c.benchmark),
        split = esc(&c.split),
        n = c.shared_items,
        k = c.runs.len(),
        chart = bar_chart(&rows, chance),
        legend = legend(c),
        overlay = {
            let o = reliability_overlay(c);
            if o.is_empty() {
                "<p>No run scored option probabilities (generate runs have none).</p>".to_string()
            } else {
                o
            }
        },
        dis = item_rows(true),
        all = item_rows(false),
    )
}

pub fn render_compare(c: &crate::compare::Compared) -> String {
    page(
        &format!(
            "Bedside comparison: {} runs on {}",
            c.runs.len(),
            c.benchmark
        ),
        &compare_body(c),
    )
}
