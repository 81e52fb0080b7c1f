//! GGUF: the file format small quantised models circulate in (llama.cpp, Ollama, LM Studio).
//! Parsed from a byte buffer (the browser has no filesystem; natively the buffer can be a memory map).
//! Layout (ggml's docs/gguf.md): magic `GGUF`, version (2 or 3), tensor count, metadata count, metadata
//! key/values, tensor infos (name, dims with the fastest-varying first, type, offset), then the aligned data.

use crate::error::{ModelError, Result};
use crate::quant::{dequantize, ggml_type_name, GgmlType};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
pub enum MetaValue {
    U8(u8),
    I8(i8),
    U16(u16),
    I16(i16),
    U32(u32),
    I32(i32),
    U64(u64),
    I64(i64),
    F32(f32),
    F64(f64),
    Bool(bool),
    Str(String),
    Array(Vec<MetaValue>),
}

impl MetaValue {
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            MetaValue::U8(x) => Some(x as u64),
            MetaValue::U16(x) => Some(x as u64),
            MetaValue::U32(x) => Some(x as u64),
            MetaValue::U64(x) => Some(x),
            MetaValue::I8(x) if x >= 0 => Some(x as u64),
            MetaValue::I16(x) if x >= 0 => Some(x as u64),
            MetaValue::I32(x) if x >= 0 => Some(x as u64),
            MetaValue::I64(x) if x >= 0 => Some(x as u64),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            MetaValue::F32(x) => Some(x as f64),
            MetaValue::F64(x) => Some(x),
            _ => self.as_u64().map(|x| x as f64).or(match *self {
                MetaValue::I32(x) => Some(x as f64),
                MetaValue::I64(x) => Some(x as f64),
                _ => None,
            }),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            MetaValue::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            MetaValue::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[MetaValue]> {
        match self {
            MetaValue::Array(a) => Some(a),
            _ => None,
        }
    }

    /// A short rendering for `model info` (arrays are summarised).
    pub fn summary(&self) -> String {
        match self {
            MetaValue::Str(s) if s.chars().count() > 60 => format!(
                "{:?}… ({} chars)",
                s.chars().take(60).collect::<String>(),
                s.chars().count()
            ),
            MetaValue::Str(s) => format!("{s:?}"),
            MetaValue::Array(a) => format!("[{} values]", a.len()),
            MetaValue::Bool(b) => b.to_string(),
            MetaValue::F32(x) => x.to_string(),
            MetaValue::F64(x) => x.to_string(),
            other => other
                .as_u64()
                .map_or_else(|| format!("{other:?}"), |x| x.to_string()),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TensorInfo {
    pub name: String,
    /// ggml order: `dims[0]` varies fastest. A `[out, in]` weight matrix has `dims == [in, out]`.
    pub dims: Vec<u64>,
    pub ty: GgmlType,
    /// Offset of the data from the start of the data section.
    pub offset: u64,
}

impl TensorInfo {
    pub fn elements(&self) -> usize {
        self.dims.iter().product::<u64>() as usize
    }

    pub fn byte_len(&self) -> usize {
        self.ty.bytes_for(self.elements()).unwrap_or(0)
    }

    /// The shape in row-major (PyTorch) order: dims reversed.
    pub fn shape(&self) -> Vec<usize> {
        self.dims.iter().rev().map(|&d| d as usize).collect()
    }
}

#[derive(Debug, Clone)]
pub struct Gguf {
    pub file: String,
    pub version: u32,
    pub metadata: BTreeMap<String, MetaValue>,
    pub tensors: Vec<TensorInfo>,
    /// Byte offset of the data section in the file.
    pub data_offset: usize,
    pub file_len: usize,
}

const MAGIC: &[u8; 4] = b"GGUF";

struct Cursor<'a> {
    b: &'a [u8],
    pos: usize,
    file: &'a str,
}

impl<'a> Cursor<'a> {
    fn err(&self, what: &str) -> ModelError {
        ModelError::Format {
            file: self.file.to_string(),
            message: format!("truncated or corrupt GGUF: {what} at byte {} (file is {} bytes); re-download the file", self.pos, self.b.len()),
        }
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.b.len())
            .ok_or_else(|| self.err(what))?;
        let s = &self.b[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn u8(&mut self, w: &str) -> Result<u8> {
        Ok(self.take(1, w)?[0])
    }
    fn u16(&mut self, w: &str) -> Result<u16> {
        Ok(u16::from_le_bytes(
            self.take(2, w)?.try_into().unwrap_or_default(),
        ))
    }
    fn u32(&mut self, w: &str) -> Result<u32> {
        Ok(u32::from_le_bytes(
            self.take(4, w)?.try_into().unwrap_or_default(),
        ))
    }
    fn u64(&mut self, w: &str) -> Result<u64> {
        Ok(u64::from_le_bytes(
            self.take(8, w)?.try_into().unwrap_or_default(),
        ))
    }

    /// A count that must fit in what is left of the file (each element needs at least `min_size` bytes).
    fn count(&mut self, w: &str, min_size: usize) -> Result<usize> {
        let n = self.u64(w)?;
        let left = (self.b.len() - self.pos) as u64;
        if n.saturating_mul(min_size as u64) > left {
            return Err(self.err(&format!("{w} of {n} does not fit in the file")));
        }
        Ok(n as usize)
    }

    fn string(&mut self, w: &str) -> Result<String> {
        let n = self.count(w, 1)?;
        let bytes = self.take(n, w)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| self.err(&format!("{w} is not UTF-8")))
    }

    fn value(&mut self, ty: u32, key: &str, depth: usize) -> Result<MetaValue> {
        let w = &format!("value of `{key}`");
        Ok(match ty {
            0 => MetaValue::U8(self.u8(w)?),
            1 => MetaValue::I8(self.u8(w)? as i8),
            2 => MetaValue::U16(self.u16(w)?),
            3 => MetaValue::I16(self.u16(w)? as i16),
            4 => MetaValue::U32(self.u32(w)?),
            5 => MetaValue::I32(self.u32(w)? as i32),
            6 => MetaValue::F32(f32::from_bits(self.u32(w)?)),
            7 => MetaValue::Bool(self.u8(w)? != 0),
            8 => MetaValue::Str(self.string(w)?),
            9 if depth < 4 => {
                let ety = self.u32(w)?;
                let n = self.count(w, 1)?;
                let mut v = Vec::with_capacity(n.min(1 << 20));
                for _ in 0..n {
                    v.push(self.value(ety, key, depth + 1)?);
                }
                MetaValue::Array(v)
            }
            10 => MetaValue::U64(self.u64(w)?),
            11 => MetaValue::I64(self.u64(w)? as i64),
            12 => MetaValue::F64(f64::from_bits(self.u64(w)?)),
            other => return Err(self.err(&format!("unknown metadata type {other} for `{key}`"))),
        })
    }
}

impl Gguf {
    /// Parse the header, metadata and tensor index. Checks that every tensor's data lies inside the file.
    pub fn parse(file: &str, bytes: &[u8]) -> Result<Gguf> {
        Self::parse_header(file, bytes, bytes.len())
    }

    /// Parse the header, metadata and tensor index from the first bytes of a file of `file_len` bytes
    /// (to describe a model before reading its weights). Tensor bounds are checked against `file_len`.
    /// A prefix that stops inside the header gives the same error as a truncated file: retry with more.
    pub fn parse_header(file: &str, bytes: &[u8], file_len: usize) -> Result<Gguf> {
        let file_len = file_len.max(bytes.len());
        let fmt = |message: String| ModelError::Format {
            file: file.to_string(),
            message,
        };
        if bytes.len() < 4 || &bytes[..4] != MAGIC {
            return Err(fmt("not a GGUF file (it does not start with the bytes `GGUF`); Bedside reads .gguf models".into()));
        }
        let mut c = Cursor {
            b: bytes,
            pos: 4,
            file,
        };
        let version = c.u32("version")?;
        if !(2..=3).contains(&version) {
            return Err(fmt(format!("GGUF version {version} is not supported (Bedside reads versions 2 and 3); convert the model with a current llama.cpp")));
        }
        let n_tensors = c.count("tensor count", 8)?;
        let n_kv = c.count("metadata count", 8)?;
        let mut metadata = BTreeMap::new();
        for _ in 0..n_kv {
            let key = c.string("metadata key")?;
            let ty = c.u32("metadata type")?;
            let v = c.value(ty, &key, 0)?;
            metadata.insert(key, v);
        }
        let mut tensors = Vec::with_capacity(n_tensors);
        for _ in 0..n_tensors {
            let name = c.string("tensor name")?;
            let nd = c.u32("tensor dimension count")? as usize;
            if nd == 0 || nd > 4 {
                return Err(ModelError::Tensor {
                    file: file.into(),
                    tensor: name,
                    message: format!("{nd} dimensions (expected 1 to 4)"),
                });
            }
            let mut dims = Vec::with_capacity(nd);
            for _ in 0..nd {
                dims.push(c.u64("tensor dimension")?);
            }
            let ty_id = c.u32("tensor type")?;
            let offset = c.u64("tensor offset")?;
            let ty = GgmlType::from_id(ty_id).map_err(|id| ModelError::Tensor {
                file: file.into(),
                tensor: name.clone(),
                message: format!("tensor type {} is not supported (Bedside reads F32, F16, Q4_0, Q4_1, Q5_0, Q8_0, Q4_K, Q6_K); re-quantize the model to one of these", ggml_type_name(id)),
            })?;
            tensors.push(TensorInfo {
                name,
                dims,
                ty,
                offset,
            });
        }
        let alignment = metadata
            .get("general.alignment")
            .and_then(MetaValue::as_u64)
            .unwrap_or(32)
            .max(1) as usize;
        let data_offset = c.pos.div_ceil(alignment) * alignment;
        let g = Gguf {
            file: file.to_string(),
            version,
            metadata,
            tensors,
            data_offset,
            file_len,
        };
        for t in &g.tensors {
            let n = t
                .dims
                .iter()
                .try_fold(1u64, |a, &d| a.checked_mul(d))
                .filter(|&n| n < (1 << 40));
            let bytes_needed = n.and_then(|n| t.ty.bytes_for(n as usize));
            let Some(len) = bytes_needed else {
                return Err(ModelError::Tensor {
                    file: file.into(),
                    tensor: t.name.clone(),
                    message: format!(
                        "shape {:?} is not a whole number of {} blocks",
                        t.dims,
                        t.ty.name()
                    ),
                });
            };
            let end = (g.data_offset as u64)
                .checked_add(t.offset)
                .and_then(|s| s.checked_add(len as u64));
            if end.is_none_or(|e| e > file_len as u64) {
                return Err(ModelError::Tensor {
                    file: file.into(),
                    tensor: t.name.clone(),
                    message: format!("data ends past the end of the file ({file_len} bytes): the file is truncated; re-download it"),
                });
            }
        }
        Ok(g)
    }

    pub fn get(&self, key: &str) -> Option<&MetaValue> {
        self.metadata.get(key)
    }

    pub fn architecture(&self) -> Option<&str> {
        self.get("general.architecture").and_then(MetaValue::as_str)
    }

    /// `<architecture>.<key>`, e.g. `llama.block_count`.
    pub fn arch_get(&self, key: &str) -> Option<&MetaValue> {
        self.get(&format!("{}.{key}", self.architecture()?))
    }

    pub fn tensor(&self, name: &str) -> Option<&TensorInfo> {
        self.tensors.iter().find(|t| t.name == name)
    }

    /// Device memory the weights take with the quantised matrices in their GPU blocks
    /// ([`crate::quant::device_blocks`]) and the rest as f32.
    pub fn device_block_bytes(&self) -> u64 {
        self.tensors
            .iter()
            .map(|t| {
                let n = t.elements();
                crate::quant::device_blocks::layout_bytes(t.ty, n).unwrap_or(4 * n) as u64
            })
            .sum()
    }

    /// The raw bytes of a tensor (bounds were checked by [`Gguf::parse`]).
    pub fn tensor_bytes<'a>(&self, bytes: &'a [u8], t: &TensorInfo) -> &'a [u8] {
        let start = self.data_offset + t.offset as usize;
        &bytes[start..start + t.byte_len()]
    }

    fn find(&self, name: &str) -> Result<&TensorInfo> {
        self.tensor(name).ok_or_else(|| ModelError::Tensor {
            file: self.file.clone(),
            tensor: name.into(),
            message: "missing from the file; the file is incomplete or for another architecture"
                .into(),
        })
    }

    /// The tensor `name`, checked to exist with the row-major shape `expect`.
    pub fn check(&self, name: &str, expect: &[usize]) -> Result<&TensorInfo> {
        let t = self.find(name)?;
        let shape = t.shape();
        if expect != shape.as_slice() {
            return Err(ModelError::Tensor {
                file: self.file.clone(),
                tensor: name.into(),
                message: format!(
                    "shape {shape:?} does not match the {expect:?} the model's metadata implies"
                ),
            });
        }
        Ok(t)
    }

    /// A tensor dequantised to f32, checked against the expected row-major shape (`None`: any shape).
    pub fn dequantize(
        &self,
        bytes: &[u8],
        name: &str,
        expect: Option<&[usize]>,
    ) -> Result<(Vec<f32>, Vec<usize>)> {
        let t = match expect {
            Some(e) => self.check(name, e)?,
            None => self.find(name)?,
        };
        let shape = t.shape();
        let mut out = vec![0f32; t.elements()];
        dequantize(t.ty, self.tensor_bytes(bytes, t), &mut out);
        Ok((out, shape))
    }

    /// Total parameters (elements over all tensors).
    pub fn parameter_count(&self) -> usize {
        self.tensors.iter().map(TensorInfo::elements).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Vec<u8> {
        // version 3, 1 tensor, 1 kv: general.architecture = "llama"; tensor "w" F32 [2] at offset 0.
        let mut b = b"GGUF".to_vec();
        b.extend(3u32.to_le_bytes());
        b.extend(1u64.to_le_bytes());
        b.extend(1u64.to_le_bytes());
        let key = b"general.architecture";
        b.extend((key.len() as u64).to_le_bytes());
        b.extend(key);
        b.extend(8u32.to_le_bytes());
        b.extend(5u64.to_le_bytes());
        b.extend(b"llama");
        b.extend(1u64.to_le_bytes());
        b.extend(b"w");
        b.extend(1u32.to_le_bytes());
        b.extend(2u64.to_le_bytes());
        b.extend(0u32.to_le_bytes());
        b.extend(0u64.to_le_bytes());
        while b.len() % 32 != 0 {
            b.push(0);
        }
        b.extend(1.5f32.to_le_bytes());
        b.extend((-2f32).to_le_bytes());
        b
    }

    #[test]
    fn parses_a_hand_made_file() {
        let b = tiny();
        let g = Gguf::parse("t.gguf", &b).unwrap();
        assert_eq!(g.architecture(), Some("llama"));
        assert_eq!(
            g.dequantize(&b, "w", Some(&[2])).unwrap().0,
            vec![1.5, -2.0]
        );
        assert!(g
            .dequantize(&b, "w", Some(&[3]))
            .unwrap_err()
            .to_string()
            .contains("does not match"));
        assert!(g
            .dequantize(&b, "nope", None)
            .unwrap_err()
            .to_string()
            .contains("tensor `nope`"));
    }

    #[test]
    fn every_truncation_is_an_error_never_a_panic() {
        let b = tiny();
        for n in 0..b.len() {
            let e = Gguf::parse("t.gguf", &b[..n]).unwrap_err().to_string();
            assert!(e.starts_with("t.gguf: "), "{e}");
        }
    }

    #[test]
    fn header_from_a_prefix_matches_the_whole_file() {
        let b = tiny();
        let whole = Gguf::parse("t.gguf", &b).unwrap();
        let data = whole.data_offset;
        // The header alone (no tensor data) describes the same file.
        let head = Gguf::parse_header("t.gguf", &b[..data], b.len()).unwrap();
        assert_eq!(head.tensors.len(), whole.tensors.len());
        assert_eq!(head.data_offset, data);
        assert_eq!(head.file_len, b.len());
        assert_eq!(head.parameter_count(), whole.parameter_count());
        // A prefix that stops inside the header is an error (read more), as is a file too short for
        // its tensors.
        assert!(Gguf::parse_header("t.gguf", &b[..data / 2], b.len()).is_err());
        let e = Gguf::parse_header("t.gguf", &b[..data], data + 1)
            .unwrap_err()
            .to_string();
        assert!(e.contains("truncated"), "{e}");
    }

    #[test]
    fn not_gguf_and_bad_version() {
        assert!(Gguf::parse("x.bin", b"PK\x03\x04....")
            .unwrap_err()
            .to_string()
            .contains("not a GGUF file"));
        let mut b = tiny();
        b[4] = 9;
        assert!(Gguf::parse("x.gguf", &b)
            .unwrap_err()
            .to_string()
            .contains("version 9"));
    }
}
