//! SHA-256 by the `sol_sha256` syscall on SBF (the core's committee functions take it as their
//! hash), in software on native builds.

/// SHA-256 of the concatenation of `parts`.
#[cfg(target_arch = "bpf")]
pub fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut out = [0u8; 32];
    // SAFETY: `parts` is an array of (pointer, length) pairs, as the syscall reads them; `out`
    // has the 32 bytes it writes.
    unsafe {
        solana_define_syscall::definitions::sol_sha256(
            parts.as_ptr() as *const u8,
            parts.len() as u64,
            out.as_mut_ptr(),
        );
    }
    out
}

/// SHA-256 of the concatenation of `parts`.
#[cfg(not(target_arch = "bpf"))]
pub fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    parts.iter().for_each(|p| h.update(p));
    h.finalize().into()
}
