//! A dependency-free gzip encoder for the target's `/gzip` endpoint. It receives a small byte slice
//! and emits a valid gzip member made of *stored* (uncompressed) deflate blocks with the CRC-32 and
//! length trailer of RFC 1952, which is all a client needs to exercise its decompression path.

/// The CRC-32 (IEEE, reflected) lookup table, built at compile time.
const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

/// CRC-32 as used by gzip (RFC 1952 section 8).
fn crc32(data: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for &b in data {
        c = CRC_TABLE[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8);
    }
    c ^ 0xFFFF_FFFF
}

/// Encodes `data` as one gzip member using stored deflate blocks (no compression).
pub fn encode(data: &[u8]) -> Vec<u8> {
    const MAX_BLOCK: usize = 0xFFFF;
    let blocks = data.len().div_ceil(MAX_BLOCK).max(1);
    let mut out = Vec::with_capacity(data.len() + 18 + blocks * 5);
    // Header: magic, CM=deflate, no flags, mtime 0, XFL 0, OS 255 (unknown).
    out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
    let mut chunks = data.chunks(MAX_BLOCK).peekable();
    if chunks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(chunk) = chunks.next() {
        let last = u8::from(chunks.peek().is_none());
        let len = chunk.len() as u16; // chunks are at most 0xFFFF bytes
        out.push(last);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    out.extend_from_slice(&crc32(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_known_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn encodes_header_blocks_and_trailer() {
        let out = encode(b"hello");
        assert_eq!(&out[..3], &[0x1f, 0x8b, 8]);
        assert_eq!(out[10], 1, "single final stored block");
        assert_eq!(&out[11..15], &[5, 0, 0xfa, 0xff]);
        assert_eq!(&out[15..20], b"hello");
        assert_eq!(&out[24..28], &5u32.to_le_bytes());
        assert_eq!(out.len(), 28);
    }

    #[test]
    fn splits_large_input_into_blocks() {
        let data = vec![b'a'; 0x1_0001];
        let out = encode(&data);
        assert_eq!(out[10], 0, "first block is not final");
        assert_eq!(out.len(), 10 + 5 + 0xFFFF + 5 + 2 + 8);
    }
}
