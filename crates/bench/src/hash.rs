//! SHA-256 of shard bytes, as lower-case hex.

use sha2::{Digest, Sha256};

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// One identity for several files: the SHA-256 of the lines `<name> <sha256 of its bytes>`, in the
/// order given (a Hugging Face checkpoint: config.json, tokenizer.json, then the safetensors shards).
pub fn files_sha256<'a>(files: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> String {
    let mut ids = String::new();
    for (name, bytes) in files {
        ids.push_str(&format!("{name} {}\n", sha256_hex(bytes)));
    }
    sha256_hex(ids.as_bytes())
}

#[cfg(test)]
mod tests {
    #[test]
    fn files_identity_depends_on_names_bytes_and_order() {
        let a = super::files_sha256([("a", &b"1"[..]), ("b", &b"2"[..])]);
        assert_eq!(a.len(), 64);
        assert_ne!(a, super::files_sha256([("b", &b"2"[..]), ("a", &b"1"[..])]));
        assert_ne!(a, super::files_sha256([("a", &b"1"[..]), ("b", &b"3"[..])]));
        assert_ne!(a, super::files_sha256([("a", &b"1"[..]), ("c", &b"2"[..])]));
    }

    #[test]
    fn known_vector() {
        assert_eq!(
            super::sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
