//! Uploaded files: image dimensions (D32) and a generated picture for the agent's `/file`.

/// Width and height of a PNG, GIF or JPEG, read from its header.
pub(crate) fn image_size(bytes: &[u8]) -> Option<(u32, u32)> {
    let two = |i: usize| bytes.get(i..i.checked_add(2)?).and_then(|b| <[u8; 2]>::try_from(b).ok());
    let be16 = |i: usize| two(i).map(|b| u32::from(u16::from_be_bytes(b)));
    let le16 = |i: usize| two(i).map(|b| u32::from(u16::from_le_bytes(b)));
    let be32 =
        |i: usize| bytes.get(i..i.checked_add(4)?).and_then(|b| <[u8; 4]>::try_from(b).ok()).map(u32::from_be_bytes);
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.get(12..16) == Some(b"IHDR") {
        return Some((be32(16)?, be32(20)?));
    }
    if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        return Some((le16(6)?, le16(8)?));
    }
    if bytes.starts_with(&[0xFF, 0xD8]) {
        let mut i = 2;
        while i + 4 <= bytes.len() {
            if bytes.get(i) != Some(&0xFF) {
                return None;
            }
            let marker = *bytes.get(i + 1)?;
            if marker == 0xFF {
                i += 1;
                continue;
            }
            let len = be16(i + 2)? as usize;
            let sof = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
            if sof {
                return Some((be16(i + 7)?, be16(i + 5)?));
            }
            i += 2 + len;
        }
    }
    None
}

/// The content type of a file: the part's own, else sniffed, else octet-stream (G14).
pub(crate) fn content_type(declared: Option<&str>, bytes: &[u8]) -> String {
    if let Some(d) = declared.filter(|d| !d.is_empty()) {
        return d.to_owned();
    }
    if bytes.starts_with(b"\x89PNG") {
        "image/png".into()
    } else if bytes.starts_with(b"GIF8") {
        "image/gif".into()
    } else if bytes.starts_with(&[0xFF, 0xD8]) {
        "image/jpeg".into()
    } else if bytes.starts_with(b"%PDF") {
        "application/pdf".into()
    } else {
        "application/octet-stream".into()
    }
}

/// The file extension for a content type and name.
pub(crate) fn extension(name: &str, content_type: &str) -> String {
    let from_name = name.rsplit_once('.').map(|(_, e)| e).filter(|e| !e.is_empty() && e.len() <= 8);
    let ext = from_name.unwrap_or(match content_type {
        "image/png" => "png",
        "image/gif" => "gif",
        "image/jpeg" | "image/jpg" => "jpg",
        "application/pdf" => "pdf",
        "text/plain" => "txt",
        _ => "bin",
    });
    ext.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_ascii_lowercase()
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &x in data {
        a = (a + u32::from(x)) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

/// A small valid PNG (a colour gradient), for the agent's `/file` and rich message images.
pub(crate) fn sample_png(w: u32, h: u32) -> Vec<u8> {
    let mut raw = Vec::new();
    for y in 0..h {
        raw.push(0u8); // filter: none
        for x in 0..w {
            raw.extend_from_slice(&[(x * 255 / w.max(1)) as u8, (y * 255 / h.max(1)) as u8, 0x99]);
        }
    }
    // zlib stream of stored deflate blocks (at most 65535 bytes each).
    let mut z = vec![0x78, 0x01];
    let chunks: Vec<&[u8]> = raw.chunks(65_535).collect();
    for (i, c) in chunks.iter().enumerate() {
        z.push(u8::from(i + 1 == chunks.len()));
        let len = c.len() as u16;
        z.extend_from_slice(&len.to_le_bytes());
        z.extend_from_slice(&(!len).to_le_bytes());
        z.extend_from_slice(c);
    }
    z.extend_from_slice(&adler32(&raw).to_be_bytes());
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8], data: &[u8]| {
        png.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        png.extend_from_slice(&body);
        png.extend_from_slice(&crc32(&body).to_be_bytes());
    };
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB
    chunk(b"IHDR", &ihdr);
    chunk(b"IDAT", &z);
    chunk(b"IEND", &[]);
    png
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_of_generated_and_header_only_images() {
        assert_eq!(image_size(&sample_png(32, 16)), Some((32, 16)));
        assert_eq!(image_size(b"GIF89a\x0a\x00\x05\x00rest"), Some((10, 5)));
        let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 0, 0, 0xFF, 0xC0, 0, 11, 8, 0, 20, 0, 30, 3];
        assert_eq!(image_size(&jpeg), Some((30, 20)));
        assert_eq!(image_size(b"hello"), None);
        assert_eq!(content_type(None, &sample_png(1, 1)), "image/png");
        assert_eq!(extension("a.TXT", "text/plain"), "txt");
        assert_eq!(extension("noext", "image/png"), "png");
    }

    #[test]
    fn image_headers_from_the_network_never_panic() {
        let mut rng = fastrand::Rng::with_seed(1);
        for prefix in [&b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR"[..], b"GIF89a", &[0xFF, 0xD8], &[0xFF, 0xD8, 0xFF], b""] {
            for len in 0..64 {
                for _ in 0..200 {
                    let mut b = prefix.to_vec();
                    b.extend((0..len).map(|_| rng.u8(..)));
                    let _ = image_size(&b);
                    let _ = content_type(None, &b);
                }
            }
        }
    }
}
