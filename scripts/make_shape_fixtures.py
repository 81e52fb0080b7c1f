#!/usr/bin/env python3
"""Write the benchmark-converter shape fixtures from real items in shared/datasets.

Every question in the output is a real item from one of the datasets under shared/datasets (MedQA, MMLU-Redux,
MMLU-Pro, MMLU, MedMCQA); only the field layout is changed, so the converter's shape detection can be tested
on realistic content. Nothing is invented. Output goes to crates/bench/tests/fixtures/shapes/ together with a
README (provenance of every file, row numbers, citations) and a copy of each source dataset's LICENSE.

    pip install pyarrow==26.0.1
    python3 scripts/make_shape_fixtures.py

The shared folder is ../shared relative to the repository root, or $BEDSIDE_SHARED if set (the folder that
holds datasets/). The output is deterministic: the only randomness is a fixed-seed random.Random(7) used to
shuffle option order in nested_sections.json.

Row numbers below and in the README are 0-based data rows: for JSON Lines the line index, for CSV the record
index after the header.
"""

import ast
import csv
import json
import os
import random
import re
import shutil
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("BEDSIDE_SHARED") or (REPO.parent / "shared"))
DATA = SHARED / "datasets"
OUT = REPO / "crates" / "bench" / "tests" / "fixtures" / "shapes"

MEDQA4 = DATA / "medqa_usmle" / "4_options" / "phrases_no_exclude_test.jsonl"
REDUX = DATA / "mmlu_redux"
PRO = DATA / "mmlu_pro_health" / "health.jsonl"
ANATOMY = DATA / "mmlu_medical" / "test" / "anatomy_test.csv"
MEDMCQA = DATA / "medmcqa" / "validation.jsonl"

LETTERS = "ABCDEFGHIJ"

csv.field_size_limit(1 << 30)


# ---------------------------------------------------------------- readers

def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def read_csv(path):
    """Rows of a CSV whose delimiter (';' or ',') is sniffed from the header line."""
    with open(path, encoding="utf-8", newline="") as f:
        header = f.readline()
        delim = ";" if header.count(";") > header.count(",") else ","
        f.seek(0)
        return list(csv.DictReader(f, delimiter=delim))


def norm_error_type(s):
    """'OK', 'ok' -> 'ok'; 'multiple correct answers', 'Multiple_Correct_Answers' -> 'multiple_correct_answers'."""
    return re.sub(r"[\s_\-]+", "_", (s or "").strip().lower())


def redux_subjects():
    return sorted(p.stem[len("mmlu_"):] for p in REDUX.glob("mmlu_*.csv"))


def redux_rows(subject):
    """(row index, question, choices list, answer int, normalised error_type, correct_answer) for a subject."""
    out = []
    for i, r in enumerate(read_csv(REDUX / f"mmlu_{subject}.csv")):
        choices = ast.literal_eval(r["choices"])
        assert isinstance(choices, list) and all(isinstance(c, str) for c in choices), (subject, i)
        out.append({
            "row": i,
            "question": r["question"],
            "choices": choices,
            "answer": int(r["answer"]),
            "error_type": norm_error_type(r["error_type"]),
            "correct_answer": (r.get("correct_answer") or "").strip(),
        })
    return out


def multi_letters(item):
    """Upper-case letters of a multiple-correct-answers item's correct_answer, e.g. 'A,C' -> ['A', 'C']."""
    letters = sorted({x.strip().upper() for x in re.split(r"[,;/\s]+", item["correct_answer"]) if x.strip()})
    assert letters and all(l in LETTERS[: len(item["choices"])] for l in letters), item
    return letters


# ---------------------------------------------------------------- writers

written = []  # (file name, description) for the summary


def write_json(name, obj):
    path = OUT / name
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=1)
        f.write("\n")
    written.append(name)


def write_jsonl(name, records):
    path = OUT / name
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False))
            f.write("\n")
    written.append(name)


# ---------------------------------------------------------------- fixtures

def make_array():
    rows = read_jsonl(MEDQA4)[:12]
    write_json("array.json", rows)
    return list(range(12))


def shuffled_options(rng, choices):
    opts = [{"n": i + 1, "text": c} for i, c in enumerate(choices)]
    order = list(opts)
    # Shuffle until the order differs from the original, so a reader that ignores `n` is caught.
    while True:
        rng.shuffle(order)
        if len(order) < 2 or [o["n"] for o in order] != [o["n"] for o in opts]:
            return order


def make_nested_sections():
    rng = random.Random(7)
    sections = {}
    provenance = {}
    for key, topic in [("virology", "Virology"), ("anatomy", "Anatomy"), ("nutrition", "Nutrition")]:
        rows = redux_rows(key)
        if key == "virology":
            multi = [r for r in rows if r["error_type"] == "multiple_correct_answers"]
            ok = [r for r in rows if r["error_type"] == "ok"][: max(0, 5 - len(multi))]
            chosen = sorted(multi + ok, key=lambda r: r["row"])
        else:
            chosen = [r for r in rows if r["error_type"] == "ok"][:5]
        questions = []
        for n, r in enumerate(chosen, start=1):
            if r["error_type"] == "multiple_correct_answers":
                answers = [l.lower() for l in multi_letters(r)]
            else:
                answers = [LETTERS[r["answer"]].lower()]
            questions.append({
                "n": n,
                "text": r["question"],
                "options": shuffled_options(rng, r["choices"]),
                "answers": answers,
            })
        sections[key] = {"topic": topic, "questions": questions}
        provenance[key] = [(r["row"], r["error_type"], questions[j]["answers"]) for j, r in enumerate(chosen)]
    write_json("nested_sections.json", {"exam": "MMLU-Redux medical (re-shaped)", "sections": sections})
    return provenance


def make_letter_keyed():
    out, rows = [], []
    for i, r in enumerate(read_jsonl(PRO)):
        if len(r["options"]) > 6:
            continue
        assert LETTERS[r["answer_index"]] == r["answer"], i
        out.append({
            "qid": r.get("question_id", i),
            "stem": r["question"],
            "options": {LETTERS[j].lower(): o for j, o in enumerate(r["options"])},
            "key": r["answer"].lower(),
        })
        rows.append(i)
        if len(out) == 10:
            break
    write_jsonl("options_letter_keyed.jsonl", out)
    return rows


def make_number_keyed():
    rows = read_csv(ANATOMY)[:10]
    out = [{
        "question": r["question"],
        "choices": {str(j + 1): r[f"choice{j}"] for j in range(4)},
        "correct": int(r["answer"]) + 1,
    } for r in rows]
    write_jsonl("options_number_keyed.jsonl", out)
    return list(range(10))


def make_objects():
    out = []
    for i, r in enumerate(read_jsonl(MEDMCQA)[:10]):
        choices = []
        for j, c in enumerate(r["choices"]):
            m = re.match(r"^\s*([A-D])\s*[.)]\s*", c)
            assert m and m.group(1) == LETTERS[j], (i, c)
            choices.append({"label": LETTERS[j], "value": c[m.end():]})
        out.append({"id": f"mm-{i}", "q": r["question"], "choices": choices, "answer": LETTERS[int(r["answer"])]})
    write_jsonl("options_objects.jsonl", out)
    return list(range(10))


def make_multi():
    out, prov = [], []
    for subject in redux_subjects():
        for r in redux_rows(subject):
            if r["error_type"] == "multiple_correct_answers":
                answers = sorted(LETTERS.index(l) for l in multi_letters(r))
                out.append({"id": f"redux-{subject}-{r['row']}", "question": r["question"],
                            "options": r["choices"], "answers": answers})
                prov.append((subject, r["row"], answers))
    for r in [r for r in redux_rows("college_medicine") if r["error_type"] == "ok"][:4]:
        out.append({"id": f"redux-college_medicine-{r['row']}", "question": r["question"],
                    "options": r["choices"], "answers": [r["answer"]]})
        prov.append(("college_medicine", r["row"], [r["answer"]]))
    write_jsonl("multi.jsonl", out)
    return prov


PRO_SCHEMA = pa.schema([
    ("question_id", pa.int64()),
    ("question", pa.string()),
    ("options", pa.list_(pa.string())),
    ("answer", pa.string()),
    ("answer_index", pa.int64()),
    ("cot_content", pa.string()),
    ("category", pa.string()),
    ("src", pa.string()),
])

FLAT_SCHEMA = pa.schema([("question", pa.string())]
                        + [(f"choice{j}", pa.string()) for j in range(4)]
                        + [("answer", pa.int64())])

NULL_ROW = 7  # row of flat_columns.parquet whose choice3 is null


def make_parquet():
    recs = read_jsonl(PRO)[:20]
    recs = [{k: r[k] for k in PRO_SCHEMA.names} for r in recs]
    table = pa.Table.from_pylist(recs, schema=PRO_SCHEMA)
    path = OUT / "parquet" / "data" / "test-00000-of-00001.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    written.append("parquet/data/test-00000-of-00001.parquet")
    write_jsonl("parquet/same_records.jsonl", recs)

    rows = read_csv(ANATOMY)[:12]
    flat = []
    for i, r in enumerate(rows):
        rec = {"question": r["question"], **{f"choice{j}": r[f"choice{j}"] for j in range(4)},
               "answer": int(r["answer"])}
        if i == NULL_ROW:
            rec["choice3"] = None
        flat.append(rec)
    pq.write_table(pa.Table.from_pylist(flat, schema=FLAT_SCHEMA), OUT / "parquet" / "flat_columns.parquet")
    written.append("parquet/flat_columns.parquet")
    return rows[NULL_ROW]


def make_empty_match():
    rows = read_jsonl(MEDQA4)[12:15]
    out = [{
        "prompt_text": r["question"],
        "alternatives": " | ".join(r["options"][k] for k in sorted(r["options"])),
        "solution": r["answer"],
    } for r in rows]
    write_jsonl("empty_match.jsonl", out)
    return [12, 13, 14]


LICENSES = {
    "medqa_usmle": "LICENSE.medqa_usmle",
    "mmlu_redux": "LICENSE.mmlu_redux",
    "mmlu_pro_health": "LICENSE.mmlu_pro_health",
    "mmlu_medical": "LICENSE.mmlu_medical",
    "medmcqa": "LICENSE.medmcqa",
}


def write_readme(nested, letter_rows, multi, null_row):
    def fmt_nested(key):
        return ", ".join(f"{row} ({et}: {','.join(ans)})" for row, et, ans in nested[key])

    multi_lines = "\n".join(f"  - `redux-{s}-{row}`: answers {ans}" for s, row, ans in multi)
    text = f"""# Shape fixtures for the benchmark converter

Written by `scripts/make_shape_fixtures.py` (`pip install pyarrow=={pa.__version__}`, then
`python3 scripts/make_shape_fixtures.py`). Every question is a real item from `../shared/datasets`; only the
field layout is changed. Row numbers are 0-based data rows (JSON Lines: line index; CSV: record index after the
header). Nothing here is invented.

| file | shape exercised | source rows |
|---|---|---|
| `array.json` | one JSON document that is a top-level array of records, fields unchanged (`question`, `answer` text, `options` {{A..D}}, `meta_info`, `answer_idx`) | MedQA `medqa_usmle/4_options/phrases_no_exclude_test.jsonl` rows 0–11 |
| `nested_sections.json` | one JSON document, `{{"exam", "sections": {{key: {{"topic", "questions": [...]}}}}}}`; question `n` restarts at 1 per section (numbers collide across sections on purpose); each question's `options` list is shuffled (Random(7), never left in original order) and each option keeps its original 1-based `n`, so a reader must sort by `n`; `answers` is a list of lowercase letters (virology has multi-answer items) | MMLU-Redux `mmlu_redux/mmlu_virology.csv` rows {fmt_nested("virology")}; `mmlu_anatomy.csv` rows {fmt_nested("anatomy")}; `mmlu_nutrition.csv` rows {fmt_nested("nutrition")} (row (error_type: answers)) |
| `options_letter_keyed.jsonl` | JSON Lines, options as an object keyed by lowercase letters `a`.. in order, answer `key` a lowercase letter; renamed fields `qid`, `stem` | MMLU-Pro `mmlu_pro_health/health.jsonl` rows {", ".join(map(str, letter_rows))} (the first 10 with at most 6 options) |
| `options_number_keyed.jsonl` | JSON Lines, `choices` an object keyed `"1"`..`"4"`, `correct` a 1-based integer | MMLU `mmlu_medical/test/anatomy_test.csv` rows 0–9 (`answer` 0-based there, +1 here) |
| `options_objects.jsonl` | JSON Lines, `choices` a list of `{{"label", "value"}}` objects (the "A. " prefixes of the stripped copy removed), `answer` a label; ids `mm-<row>` | MedMCQA `medmcqa/validation.jsonl` rows 0–9 |
| `multi.jsonl` | flat JSON Lines with `answers` a sorted list of 0-based indices: multi-answer items plus single-answer ones (one-element list) | every MMLU-Redux item (all 9 subjects) whose `error_type` normalises to `multiple_correct_answers` (answers from `correct_answer`), then the first 4 `ok` items of `mmlu_redux/mmlu_college_medicine.csv`; ids are `redux-<subject>-<row>` (see below) |
| `parquet/data/test-00000-of-00001.parquet` | Hugging Face hub layout Parquet (pyarrow, snappy): question_id int64, question string, options list<string>, answer string, answer_index int64, cot_content string, category string, src string | MMLU-Pro `mmlu_pro_health/health.jsonl` rows 0–19 |
| `parquet/same_records.jsonl` | the same 20 records as JSON Lines (same field names and values), to check the Parquet reads back identically | as above |
| `parquet/flat_columns.parquet` | flat Parquet with string columns question, choice0..choice3 and int64 answer (0-based); **row {NULL_ROW} has `choice3` = null** (a real-world missing value; that row's answer is {int(null_row["answer"])}, so the null is not the keyed option) | MMLU `mmlu_medical/test/anatomy_test.csv` rows 0–11 |
| `empty_match.jsonl` | JSON Lines whose field names no importer would guess (`prompt_text`, `alternatives` = options joined with `" \\| "`, `solution` = answer text): the converter must refuse when nothing converts | MedQA `medqa_usmle/4_options/phrases_no_exclude_test.jsonl` rows 12–14 |

`error_type` in MMLU-Redux is spelled inconsistently (`OK`/`ok`, `multiple correct answers`, `wrong_groundtruth`,
…); the script normalises it to lowercase with `_` for spaces. The CSVs are `;`-separated (anatomy, nutrition)
or `,`-separated (the others); `choices` is a list literal.

Items in `multi.jsonl`:
{multi_lines}

## Licenses and citations

Each source dataset's LICENSE is copied here as `LICENSE.<dataset>`.

- MedQA (USMLE, 4-option version) — MIT (`LICENSE.medqa_usmle`). Jin et al., 2021, "What Disease does this
  Patient Have? A Large-scale Open Domain Question Answering Dataset from Medical Exams", Applied Sciences.
- MMLU-Redux — CC BY 4.0 (`LICENSE.mmlu_redux`). Gema et al., "Are We Done with MMLU?", NAACL 2025
  (github.com/aryopg/mmlu-redux). Underlying questions from MMLU (MIT). The files here are adaptations
  (re-shaped layout, option order shuffled in `nested_sections.json`); content otherwise unchanged.
- MMLU-Pro (health category) — Apache-2.0 (`LICENSE.mmlu_pro_health`). Wang et al., "MMLU-Pro: A More Robust
  and Challenging Multi-Task Language Understanding Benchmark", NeurIPS 2024 Datasets and Benchmarks.
- MMLU (anatomy) — MIT (`LICENSE.mmlu_medical`). Hendrycks et al., "Measuring Massive Multitask Language
  Understanding", ICLR 2021.
- MedMCQA (validation split) — MIT (`LICENSE.medmcqa`). Pal et al., "MedMCQA: A Large-scale Multi-Subject
  Multi-Choice Dataset for Medical domain Question Answering", CHIL 2022 (PMLR 174).
"""
    (OUT / "README.md").write_text(text, encoding="utf-8")
    written.append("README.md")


def main():
    if not DATA.is_dir():
        sys.exit(f"no datasets folder at {DATA} (set BEDSIDE_SHARED to the shared/ folder)")
    OUT.mkdir(parents=True, exist_ok=True)
    make_array()
    nested = make_nested_sections()
    letter_rows = make_letter_keyed()
    make_number_keyed()
    make_objects()
    multi = make_multi()
    null_row = make_parquet()
    make_empty_match()
    for ds, name in LICENSES.items():
        shutil.copyfile(DATA / ds / "LICENSE", OUT / name)
        written.append(name)
    write_readme(nested, letter_rows, multi, null_row)
    for name in written:
        print(f"{(OUT / name).stat().st_size:>8}  {name}")


if __name__ == "__main__":
    main()
