//! Fuzzing of the zip and tar readers: any bytes either open as an archive whose every member
//! reads or is refused with an error, never a panic or an unbounded allocation; a folder path
//! into them (nested archives included) likewise.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use panoptiq::io::{Archive, Folder};

fuzz_target!(|data: &[u8]| {
    let Ok(archive) = Archive::from_bytes(Path::new("fuzz.zip"), data.to_vec()) else { return };
    let names: Vec<String> = archive.names().map(str::to_owned).collect();
    let mut out = Vec::new();
    for name in &names {
        if archive.read(name, &mut out).is_ok() {
            assert!(out.len() <= 1 << 31);
        }
        // Every member tried as an archive of its own, as a folder path through it would.
        let _ = archive.nested(name);
    }
    if let Some(first) = names.first() {
        let folder = Folder::in_archive(archive, first, "fuzz.zip".into());
        if let Ok(folder) = folder {
            let _ = folder.read(Path::new("fuzz.zip/x.png"), &mut out);
        }
    }
});
