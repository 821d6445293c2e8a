//! Archives written by hand, byte by byte, in the layouts the readers must take apart.

use super::*;

/// A zip archive of `(name, data, deflate)` members, as zip writers lay them out.
fn zip(members: &[(&str, &[u8], bool)]) -> Vec<u8> {
    let (mut out, mut directory) = (Vec::new(), Vec::new());
    for &(name, data, deflate) in members {
        let body = if deflate {
            let zlib = fdeflate::compress_to_vec(data);
            zlib[2..zlib.len() - 4].to_vec()
        } else {
            data.to_vec()
        };
        let crc = crc32fast::hash(data);
        let offset = u32::try_from(out.len()).unwrap();
        let fixed = |sig: u32| {
            let mut h = sig.to_le_bytes().to_vec();
            h.extend_from_slice(&[20, 0, 0, 0]); // version, flags
            h.extend_from_slice(&(if deflate { 8u16 } else { 0 }).to_le_bytes());
            h.extend_from_slice(&[0; 4]); // time, date
            h.extend_from_slice(&crc.to_le_bytes());
            h.extend_from_slice(&u32::try_from(body.len()).unwrap().to_le_bytes());
            h.extend_from_slice(&u32::try_from(data.len()).unwrap().to_le_bytes());
            h.extend_from_slice(&u16::try_from(name.len()).unwrap().to_le_bytes());
            h
        };
        out.extend(fixed(0x0403_4b50));
        out.extend_from_slice(&[3, 0]); // a local extra field the directory does not have
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&[9, 9, 9]);
        out.extend_from_slice(&body);
        let mut central = 0x0201_4b50u32.to_le_bytes().to_vec();
        central.extend_from_slice(&[20, 0]);
        central.extend(fixed(0).split_off(4));
        central.extend_from_slice(&[0; 12]); // extra, comment, disk, attributes
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
        directory.extend(central);
    }
    let (dir_offset, count) = (u32::try_from(out.len()).unwrap(), u16::try_from(members.len()).unwrap());
    let dir_size = u32::try_from(directory.len()).unwrap();
    out.extend(directory);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&dir_size.to_le_bytes());
    out.extend_from_slice(&dir_offset.to_le_bytes());
    out.extend_from_slice(&[2, 0, b'h', b'i']); // a comment
    out
}

fn tar_header(name: &str, size: usize, kind: u8) -> [u8; 512] {
    let mut h = [0u8; 512];
    h[..name.len().min(100)].copy_from_slice(&name.as_bytes()[..name.len().min(100)]);
    h[100..107].copy_from_slice(b"0000644");
    h[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
    h[156] = kind;
    h[257..263].copy_from_slice(b"ustar\0");
    h[148..156].fill(b' ');
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
    h
}

fn tar(members: &[(&str, &[u8], u8)]) -> Vec<u8> {
    let mut out = Vec::new();
    for &(name, data, kind) in members {
        out.extend_from_slice(&tar_header(name, data.len(), kind));
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.extend_from_slice(&[0; 1024]);
    out
}

fn read(archive: &Archive, name: &str) -> Result<Vec<u8>, PqError> {
    let mut out = vec![1, 2, 3];
    archive.read(name, &mut out).map(|()| out)
}

#[test]
fn zip_members_stored_and_deflated_read_back() {
    let png: Vec<u8> = (0..5000u32).map(|i| u8::try_from(i % 7).unwrap()).collect();
    let bytes = zip(&[("d/", b"", false), ("d/a.png", &png, true), ("d/b.png", b"stored", false)]);
    let archive = Archive::from_bytes(Path::new("x.zip"), bytes).unwrap();
    assert_eq!((archive.kind(), archive.len()), (Kind::Zip, 2));
    assert_eq!(read(&archive, "d/a.png").unwrap(), png);
    assert_eq!(read(&archive, "./d//b.png").unwrap(), b"stored");
    assert_eq!(archive.single_top_folder().as_deref(), Some("d"));
    let missing = read(&archive, "d/c.png").unwrap_err();
    assert!(matches!(&missing, PqError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound));
    assert_eq!(missing.to_string(), "cannot read x.zip/d/c.png: no such member in the zip archive x.zip");
}

#[test]
fn corrupt_zips_are_refused_with_the_reason() {
    let good = zip(&[("a.png", b"hello hello hello hello", true)]);
    let mut flipped = good.clone();
    let at = flipped.windows(5).position(|w| w == b"a.png").unwrap() + 5 + 3 + 2;
    flipped[at] ^= 0x55; // inside the deflate data
    let error = read(&Archive::from_bytes(Path::new("x.zip"), flipped).unwrap(), "a.png").unwrap_err();
    assert!(matches!(error, PqError::BadArchive { .. }), "{error}");
    for cut in [good.len() - 30, 10] {
        let error = Archive::from_bytes(Path::new("x.zip"), good[..cut].to_vec()).unwrap_err();
        assert!(error.to_string().starts_with("cannot read the archive x.zip: zip archive: "), "{error}");
    }
    let error = Archive::from_bytes(Path::new("x.tgz"), b"\x1f\x8b\x08\x00rest".to_vec()).unwrap_err();
    assert!(error.to_string().contains("gzip-compressed"), "{error}");
    let error = Archive::from_bytes(Path::new("x"), b"just text".to_vec()).unwrap_err();
    assert!(error.to_string().ends_with("neither a zip nor a tar archive"), "{error}");
}

#[test]
fn tar_members_with_long_names_and_pax_paths() {
    let long = format!("{}/b.png", "x".repeat(120));
    let pax_record = "26 path=pax/renamed/c.png\n".to_owned();
    assert_eq!(pax_record.len(), 26);
    let bytes = tar(&[
        ("./dir/", b"", b'5'),
        ("./dir/a.png", b"aaa", b'0'),
        ("././@LongLink", format!("{long}\0").as_bytes(), b'L'),
        ("ignored", b"bbbb", b'0'),
        ("PaxHeaders/c", pax_record.as_bytes(), b'x'),
        ("c-short", b"c", b'0'),
    ]);
    let archive = Archive::from_bytes(Path::new("s.tar"), bytes.clone()).unwrap();
    assert_eq!((archive.kind(), archive.len()), (Kind::Tar, 3));
    assert_eq!(read(&archive, "dir/a.png").unwrap(), b"aaa");
    assert_eq!(read(&archive, &long).unwrap(), b"bbbb");
    assert_eq!(read(&archive, "pax/renamed/c.png").unwrap(), b"c");
    let mut corrupt = bytes.clone();
    corrupt[512 + 3] ^= 1; // the second header's name, under its checksum
    assert!(Archive::from_bytes(Path::new("s.tar"), corrupt).unwrap_err().to_string().contains("checksum"));
    let cut = Archive::from_bytes(Path::new("s.tar"), bytes[..512 * 3 + 100].to_vec()).unwrap_err();
    assert!(cut.to_string().contains("cut short"), "{cut}");
}

#[test]
fn folders_reach_into_nested_archives_and_single_top_folders() {
    let dir = std::env::temp_dir().join(format!("panoptiq-io-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let inner = zip(&[("panoptic_val2017/1.png", b"one", true)]);
    let inner_tar = tar(&[("shard/2.png", b"two", b'0')]);
    let outer = zip(&[
        ("annotations/panoptic_val2017.zip", &inner, false),
        ("annotations/packed.zip", &inner, true),
        ("annotations/shard.tar", &inner_tar, false),
        ("top.png", b"t", false),
    ]);
    let path = dir.join("outer.zip");
    std::fs::write(&path, outer).unwrap();
    let cases = [
        ("annotations/panoptic_val2017.zip", "1.png", &b"one"[..]),
        ("annotations/packed.zip/panoptic_val2017", "1.png", b"one"),
        ("annotations/shard.tar", "2.png", b"two"),
        ("", "top.png", b"t"),
    ];
    for (inner, file, expected) in cases {
        let root = path.join(inner);
        let folder = Folder::in_archive(Archive::open(&path).unwrap(), inner, root.clone()).unwrap();
        let mut out = Vec::new();
        folder.read(&root.join(file), &mut out).unwrap();
        assert_eq!(out, expected, "{inner}");
    }
    let error = Folder::in_archive(Archive::open(&path).unwrap(), "nothing/here", path.join("nothing/here"))
        .unwrap_err();
    assert!(error.to_string().contains("has no folder nothing/here"), "{error}");
    let error =
        Folder::in_archive(Archive::open(&path).unwrap(), "top.png/x", path.join("top.png/x")).unwrap_err();
    assert!(matches!(error, PqError::BadArchive { .. }), "{error}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_deflated_member_longer_or_shorter_than_declared_is_refused() {
    // Runs of zeros: back-references that reach past the declared end must not be followed.
    let data = vec![0u8; 5000];
    for (declared, message) in
        [(100u32, "more bytes than the directory says"), (6000, "inflates to 5000 bytes")]
    {
        let mut bytes = zip(&[("a.png", &data, true)]);
        let central = bytes.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
        bytes[central + 24..central + 28].copy_from_slice(&declared.to_le_bytes());
        let archive = Archive::from_bytes(Path::new("x.zip"), bytes).unwrap();
        let error = read(&archive, "a.png").unwrap_err();
        assert!(error.to_string().contains(message), "{error}");
    }
}
