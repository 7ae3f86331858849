//! A read-only index of a tar archive on a block device, as MirageOS serves files from tar
//! images: headers are read once at start; file contents stay on the disk and are read on
//! demand, straight into whatever buffer the caller gives (the TCP send buffer, for HTTP).
//!
//! Formats: POSIX ustar (with `prefix`), GNU tar's default format (`././@LongLink` `L`
//! entries for long names, base-256 sizes) and pax extended headers (`x`: `path` and `size`;
//! global `g` headers are skipped). Regular files (`0`, NUL, `7`) are indexed; directories,
//! links and devices are skipped. Every header's checksum is verified.
//!
//! Hostile images: a bad checksum, a size running past the disk, a name that is absolute or
//! has a `..` component, more than [`MAX_ENTRIES`] entries, or a long name over
//! [`MAX_NAME`] bytes is an error naming the header's offset — never a panic, and memory is
//! bounded by the entry count.

use std::collections::BTreeMap;

/// Header and data block size.
pub const BLOCK: u64 = 512;
/// The most entries an index holds.
pub const MAX_ENTRIES: usize = 1 << 20;
/// The longest name accepted (GNU long names and pax paths).
pub const MAX_NAME: usize = 4096;

/// Fills a buffer from a byte offset of the disk.
pub type ReadAt<'a> = dyn FnMut(u64, &mut [u8]) -> Result<(), String> + 'a;

/// Where a file's bytes are on the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TarEntry {
    /// Byte offset of the first data byte.
    pub offset: u64,
    /// Length in bytes.
    pub size: u64,
}

/// The files of a tar archive, by path (without a leading `./` or `/`).
#[derive(Debug, Default, Clone)]
pub struct TarIndex {
    entries: BTreeMap<String, TarEntry>,
}

/// Parse a NUL- or space-terminated octal field, or GNU's base-256 form (high bit set).
fn number(field: &[u8]) -> Option<u64> {
    if let Some((&first, rest)) = field.split_first()
        && first & 0x80 != 0
    {
        // Base-256, big-endian, in the remaining bytes (the first byte's other bits must be 0
        // for the values we accept).
        if first != 0x80 || rest.len() > 8 && rest[..rest.len() - 8].iter().any(|&b| b != 0) {
            return None;
        }
        return Some(rest.iter().fold(0u64, |a, &b| (a << 8) | u64::from(b)));
    }
    let digits = field
        .iter()
        .skip_while(|&&b| b == b' ')
        .take_while(|&&b| b != 0 && b != b' ');
    let mut v: u64 = 0;
    let mut any = false;
    for &d in digits {
        if !(b'0'..=b'7').contains(&d) {
            return None;
        }
        v = v.checked_mul(8)?.checked_add(u64::from(d - b'0'))?;
        any = true;
    }
    any.then_some(v)
}

/// The bytes of a NUL-terminated field.
fn text(field: &[u8]) -> &[u8] {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    &field[..end]
}

/// A path made safe to serve: no leading `./` or `/`, no empty, `.` or `..` components.
fn clean(name: &[u8]) -> Option<String> {
    let name = std::str::from_utf8(name).ok()?;
    let mut out = String::with_capacity(name.len());
    for part in name.split('/') {
        match part {
            "" | "." => continue,
            ".." => return None,
            p => {
                if !out.is_empty() {
                    out.push('/');
                }
                out.push_str(p);
            }
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Parse pax records (`"LEN key=value\n"`...), returning `path` and `size` if present.
fn pax(data: &[u8]) -> Result<(Option<Vec<u8>>, Option<u64>), String> {
    let (mut path, mut size) = (None, None);
    let mut rest = data;
    while !rest.is_empty() {
        let sp = rest
            .iter()
            .position(|&b| b == b' ')
            .ok_or("pax record without a length")?;
        let len: usize = std::str::from_utf8(&rest[..sp])
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or("bad pax record length")?;
        if len <= sp + 1 || len > rest.len() {
            return Err("pax record length out of range".into());
        }
        let record = &rest[sp + 1..len];
        let record = record.strip_suffix(b"\n").unwrap_or(record);
        if let Some(eq) = record.iter().position(|&b| b == b'=') {
            let (k, v) = (&record[..eq], &record[eq + 1..]);
            match k {
                b"path" => path = Some(v.to_vec()),
                b"size" => {
                    size = Some(
                        std::str::from_utf8(v)
                            .ok()
                            .and_then(|s| s.parse().ok())
                            .ok_or("bad pax size")?,
                    );
                }
                _ => {}
            }
        }
        rest = &rest[len..];
    }
    Ok((path, size))
}

impl TarIndex {
    /// Read every header of the archive on a disk of `len` bytes through `read` (which fills
    /// its buffer from a byte offset).
    ///
    /// # Errors
    /// A read failure, or a malformed archive (see the module docs), with the offset.
    pub fn load(len: u64, read: &mut ReadAt<'_>) -> Result<TarIndex, String> {
        let mut index = TarIndex::default();
        let mut at = 0u64;
        let mut header = [0u8; BLOCK as usize];
        // A long name or pax header applies to the next entry.
        let (mut next_name, mut next_size): (Option<Vec<u8>>, Option<u64>) = (None, None);
        let mut headers = 0usize;
        while at + BLOCK <= len {
            read(at, &mut header).map_err(|e| format!("tar header at {at}: {e}"))?;
            if header.iter().all(|&b| b == 0) {
                return Ok(index); // end of archive
            }
            headers += 1;
            if headers > MAX_ENTRIES {
                return Err(format!("more than {MAX_ENTRIES} tar entries"));
            }
            let bad = |what: &str| format!("tar header at {at}: {what}");
            let stored = number(&header[148..156]).ok_or_else(|| bad("bad checksum field"))?;
            let sum: u64 = header
                .iter()
                .enumerate()
                .map(|(i, &b)| u64::from(if (148..156).contains(&i) { b' ' } else { b }))
                .sum();
            if sum != stored {
                return Err(bad("checksum mismatch"));
            }
            let size = match next_size.take() {
                Some(s) => s,
                None => number(&header[124..136]).ok_or_else(|| bad("bad size"))?,
            };
            let data = at + BLOCK;
            let blocks = size.div_ceil(BLOCK);
            let end = blocks
                .checked_mul(BLOCK)
                .and_then(|b| data.checked_add(b))
                .filter(|&e| e <= len)
                .ok_or_else(|| bad("entry runs past the end of the disk"))?;
            let kind = header[156];
            match kind {
                b'L' | b'x' => {
                    let n = usize::try_from(size)
                        .ok()
                        .filter(|&n| n <= MAX_NAME + 64)
                        .ok_or_else(|| bad("extended header too long"))?;
                    let mut buf = vec![0u8; n];
                    read(data, &mut buf).map_err(|e| bad(&e))?;
                    if kind == b'L' {
                        next_name = Some(text(&buf).to_vec());
                    } else {
                        let (p, s) = pax(&buf).map_err(|e| bad(&e))?;
                        if p.is_some() {
                            next_name = p;
                        }
                        next_size = s;
                    }
                }
                b'0' | 0 | b'7' => {
                    let name = match next_name.take() {
                        Some(n) => n,
                        None => {
                            let mut n = Vec::new();
                            let ustar = &header[257..262] == b"ustar";
                            let prefix = text(&header[345..500]);
                            if ustar && !prefix.is_empty() {
                                n.extend_from_slice(prefix);
                                n.push(b'/');
                            }
                            n.extend_from_slice(text(&header[0..100]));
                            n
                        }
                    };
                    if name.len() > MAX_NAME {
                        return Err(bad("name too long"));
                    }
                    let name = clean(&name).ok_or_else(|| bad("unsafe or empty name"))?;
                    index.entries.insert(name, TarEntry { offset: data, size });
                }
                _ => {
                    // Directories, links, devices, global pax headers: nothing to serve.
                    next_name = None;
                }
            }
            at = end;
        }
        if at == len {
            Ok(index) // no end-of-archive blocks, but every entry was whole
        } else {
            Err(format!("tar archive truncated at {at}"))
        }
    }

    /// The entry for `path` (without a leading `/`).
    pub fn get(&self, path: &str) -> Option<TarEntry> {
        self.entries.get(path.trim_start_matches('/')).copied()
    }

    /// Every file, in path order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, TarEntry)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), *v))
    }

    /// The number of files.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(img: &[u8]) -> Result<TarIndex, String> {
        TarIndex::load(img.len() as u64, &mut |off, buf| {
            let o = off as usize;
            let src = img.get(o..o + buf.len()).ok_or("out of range")?;
            buf.copy_from_slice(src);
            Ok(())
        })
    }

    fn header(name: &str, size: u64, kind: u8) -> [u8; 512] {
        let mut h = [0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        h[100..108].copy_from_slice(b"0000644\0");
        h[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
        h[156] = kind;
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        h
    }

    fn archive(entries: &[(&str, &[u8], u8)]) -> Vec<u8> {
        let mut v = Vec::new();
        for (name, data, kind) in entries {
            v.extend_from_slice(&header(name, data.len() as u64, *kind));
            v.extend_from_slice(data);
            v.resize(v.len().div_ceil(512) * 512, 0);
        }
        v.extend_from_slice(&[0u8; 1024]);
        v
    }

    #[test]
    fn ustar_gnu_long_names_and_pax() {
        let long = "d/".repeat(80) + "file.txt";
        let pax_rec = {
            let body = "path=pax/named/file\n";
            let len = body.len() + 3; // "NN " prefix, two digits
            format!("{len} {body}")
        };
        let img = archive(&[
            ("./a.txt", b"hello", b'0'),
            ("dir/", b"", b'5'),
            ("././@LongLink", format!("{long}\0").as_bytes(), b'L'),
            ("ignored", b"long one", b'0'),
            ("PaxHeaders/x", pax_rec.as_bytes(), b'x'),
            ("ignored-too", b"pax", 0),
            ("empty", b"", b'0'),
        ]);
        let idx = load(&img).unwrap();
        let names: Vec<_> = idx.iter().map(|(n, _)| n.to_string()).collect();
        assert_eq!(names, ["a.txt", long.as_str(), "empty", "pax/named/file"]);
        let e = idx.get("/a.txt").unwrap();
        assert_eq!(&img[e.offset as usize..][..e.size as usize], b"hello");
        let e = idx.get(&long).unwrap();
        assert_eq!(&img[e.offset as usize..][..e.size as usize], b"long one");
        assert_eq!(idx.get("pax/named/file").unwrap().size, 3);
        assert_eq!(idx.get("empty").unwrap().size, 0);
    }

    #[test]
    fn hostile_archives_are_errors() {
        let good = archive(&[("a", b"x", b'0')]);
        // Checksum.
        let mut bad = good.clone();
        bad[0] = b'b';
        assert!(load(&bad).unwrap_err().contains("checksum"));
        // Size past the end.
        let mut big = archive(&[("a", &[0u8; 10], b'0')]);
        let h = header("a", 1 << 32, b'0');
        big[..512].copy_from_slice(&h);
        assert!(load(&big).unwrap_err().contains("past the end"));
        // Names escaping the archive.
        for name in ["../etc/passwd", "a/../../b", "/"] {
            let img = archive(&[(name, b"x", b'0')]);
            assert!(load(&img).is_err(), "{name}");
        }
        // Truncated: a header whose data is cut off.
        assert!(load(&good[..600]).is_err());
        // Garbage never panics.
        for seed in 0..200u32 {
            let img: Vec<u8> = (0..2048u32)
                .map(|i| (i.wrapping_mul(seed | 1).wrapping_add(seed) >> 3) as u8)
                .collect();
            let _ = load(&img);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// Archives of random files (ustar names, contents of any length) index to exactly
        /// those files, each pointing at its bytes.
        #[test]
        fn random_archives_round_trip(
            files in proptest::collection::btree_map("[a-z]{1,20}(/[a-z0-9_-][a-z0-9._-]{0,29}){0,2}",
                proptest::collection::vec(proptest::prelude::any::<u8>(), 0..3000), 0..12)
        ) {
            let entries: Vec<(&str, &[u8], u8)> =
                files.iter().map(|(n, d)| (n.as_str(), d.as_slice(), b'0')).collect();
            let img = archive(&entries);
            let idx = load(&img).unwrap();
            proptest::prop_assert_eq!(idx.len(), files.len());
            for (name, data) in &files {
                let e = idx.get(name).unwrap();
                proptest::prop_assert_eq!(&img[e.offset as usize..][..e.size as usize], &data[..]);
            }
        }

        /// Arbitrary bytes (and a valid archive with bytes flipped) never panic.
        #[test]
        fn arbitrary_images_never_panic(
            img in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..4096),
            flips in proptest::collection::vec((0usize..3072, proptest::prelude::any::<u8>()), 0..8)
        ) {
            let _ = load(&img);
            let mut good = archive(&[("f", &[1u8; 1000], b'0'), ("././@LongLink", b"x/y\0", b'L'), ("g", b"z", b'0')]);
            for (at, v) in flips {
                if let Some(b) = good.get_mut(at) {
                    *b = v;
                }
            }
            let _ = load(&good);
        }
    }

    #[test]
    fn numbers() {
        assert_eq!(number(b"00000000017\0"), Some(15));
        assert_eq!(number(b"     17 "), Some(15));
        assert_eq!(number(b"\x80\0\0\0\0\0\0\0\0\0\x01\0"), Some(256));
        assert_eq!(number(b"0009\0"), None);
        assert_eq!(number(b"\0\0"), None);
    }
}
