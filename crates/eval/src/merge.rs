//! `bedside merge`: combine the run files of the slices of one evaluation (e.g. a Slurm array job) into
//! one run file. All parts must share the configuration hash; an item present twice must agree.

use crate::record::{ItemRecord, RunFile, RunHeader};
use std::collections::BTreeMap;

/// The merged run, and the slices (`i/n`) missing from the parts: merging a subset is allowed (the report
/// then shows the run as incomplete).
pub struct Merged {
    pub header: RunHeader,
    pub records: Vec<ItemRecord>,
    pub missing_slices: Vec<String>,
}

/// Merge `(name, run)` parts. The result has no slice, sums the planned items of distinct slices, and
/// lists the parts in `merged_from`. Records come out in evaluation order.
pub fn merge(parts: &[(String, RunFile)]) -> Result<Merged, String> {
    let (first_name, first) = parts
        .first()
        .ok_or("nothing to merge: give two or more run files")?;
    let mut by_index: BTreeMap<usize, (ItemRecord, &str)> = BTreeMap::new();
    let mut slices = Vec::new();
    let mut planned = 0;
    for (name, run) in parts {
        if run.header.config_hash != first.header.config_hash {
            return Err(format!(
                "{name} was run with a different configuration than {first_name} (config hash {} vs {}); only slices of one run can be merged",
                &run.header.config_hash[..12],
                &first.header.config_hash[..12]
            ));
        }
        match run.header.slice {
            Some(s) => {
                if slices.contains(&s) {
                    return Err(format!(
                        "{name}: slice {}/{} appears twice",
                        s.index, s.count
                    ));
                }
                if slices
                    .first()
                    .is_some_and(|f: &crate::record::Slice| f.count != s.count)
                {
                    return Err(format!(
                        "{name}: slice count {} differs from the other parts",
                        s.count
                    ));
                }
                slices.push(s);
                planned += run.header.planned_items;
            }
            None => planned = planned.max(run.header.planned_items),
        }
        for r in &run.records {
            if let Some((prev, from)) = by_index.get(&r.index) {
                if prev.id != r.id || prev.pred != r.pred || prev.correct != r.correct {
                    return Err(format!(
                        "item {} is in {from} and {name} with different results",
                        r.id
                    ));
                }
                continue;
            }
            by_index.insert(r.index, (r.clone(), name.as_str()));
        }
    }
    let missing_slices = match slices.first() {
        Some(s) => (0..s.count)
            .filter(|i| !slices.iter().any(|x| x.index == *i))
            .map(|i| format!("{i}/{}", s.count))
            .collect(),
        None => Vec::new(),
    };
    let mut header = first.header.clone();
    header.slice = None;
    header.planned_items = planned;
    header.merged_from = parts.iter().map(|(n, _)| n.clone()).collect();
    Ok(Merged {
        header,
        records: by_index.into_values().map(|(r, _)| r).collect(),
        missing_slices,
    })
}
