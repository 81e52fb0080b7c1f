//! Reading benchmark folders and input files from disk into the byte-level types of `bedside-bench`.

use anyhow::{bail, Context, Result};
use bedside_bench::importers::InputFile;
use bedside_bench::{BenchmarkFiles, MANIFEST_FILE};
use std::path::{Path, PathBuf};

/// Read a benchmark: a folder (its manifest.json and every *.jsonl), a manifest.json (its folder), or one
/// .jsonl shard (checked without a manifest).
pub fn read_benchmark(path: &Path) -> Result<BenchmarkFiles> {
    if !path.exists() {
        bail!("{} does not exist", path.display());
    }
    let mut files = BenchmarkFiles::default();
    if path.is_file() {
        if path.file_name().is_some_and(|n| n == MANIFEST_FILE) {
            return read_benchmark(path.parent().unwrap_or(Path::new(".")));
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        files.shards.insert(
            name,
            std::fs::read(path).with_context(|| format!("reading {}", path.display()))?,
        );
        return Ok(files);
    }
    let manifest = path.join(MANIFEST_FILE);
    if manifest.exists() {
        files.manifest = Some(
            std::fs::read(&manifest).with_context(|| format!("reading {}", manifest.display()))?,
        );
    }
    for entry in std::fs::read_dir(path).with_context(|| format!("listing {}", path.display()))? {
        let p = entry?.path();
        if p.is_file() && p.extension().is_some_and(|e| e == "jsonl") {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            files.shards.insert(
                name,
                std::fs::read(&p).with_context(|| format!("reading {}", p.display()))?,
            );
        }
    }
    if files.manifest.is_none() && files.shards.is_empty() {
        bail!(
            "{} holds no manifest.json and no .jsonl shard",
            path.display()
        );
    }
    Ok(files)
}

/// Expand the given paths (files, or folders searched recursively for data files) into input files.
pub fn read_inputs(paths: &[PathBuf]) -> Result<Vec<InputFile>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found = Vec::new();
            collect(p, &mut found)?;
            found.sort();
            if found.is_empty() {
                bail!(
                    "{} holds no .json/.jsonl/.csv/.tsv/.parquet files",
                    p.display()
                );
            }
            for f in found {
                out.push(InputFile::new(
                    f.display().to_string(),
                    std::fs::read(&f).with_context(|| format!("reading {}", f.display()))?,
                ));
            }
        } else {
            out.push(InputFile::new(
                p.display().to_string(),
                std::fs::read(p).with_context(|| format!("reading {}", p.display()))?,
            ));
        }
    }
    Ok(out)
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let p = entry?.path();
        if p.is_dir() {
            collect(&p, out)?;
        } else if p.extension().is_some_and(|e| {
            ["json", "jsonl", "csv", "tsv", "parquet"]
                .iter()
                .any(|x| e == *x)
        }) {
            out.push(p);
        }
    }
    Ok(())
}
