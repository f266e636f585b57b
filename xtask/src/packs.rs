//! Packs: each lazily loaded page's module and the chunks it needs, in one file.
//!
//! A first visit to a heavy page fetched 27 to 30 modules, each gzipped on its own; in one
//! response they share one gzip stream and cost 4.5 KB less. The splitter's loader
//! (`startPack` in its `split_wasm.js`, patched) takes a page's modules from its pack when the
//! page is first loaded, unless a quarter of them are already on their way (chunks shared with
//! a page seen before), and fetches them one by one otherwise. A chunk that a layout and its
//! page both need, loaded at once, comes twice: a few small chunks at most.

use std::collections::HashSet;
use std::path::Path;

/// The pack of `page` (a split module's loader name): its module's name with `.pack`.
pub fn file_name(stem: &str, page: &str) -> String {
    format!("{stem}-split_{page}.pack")
}

/// Writes the pack of each of `pages` (loader names, each with the staged module files it
/// fetches: its chunks, then its own module) into `staging`: the number of modules and each
/// one's length as little-endian u32s, then the modules.
pub fn write(staging: &Path, stem: &str, pages: &[(String, Vec<String>)]) -> Result<(), String> {
    for (page, files) in pages {
        // The loader names the pack after the page's own module; a page of one module has
        // nothing to pack.
        let own = format!("{stem}-split_{page}.wasm");
        if files.len() < 2 || files.last() != Some(&own) {
            continue;
        }
        let mut modules = Vec::new();
        let mut pack = (files.len() as u32).to_le_bytes().to_vec();
        for file in files {
            let path = staging.join(file);
            let bytes = std::fs::read(&path).map_err(|e| format!("{path:?}: {e}"))?;
            let length = u32::try_from(bytes.len()).map_err(|_| format!("{path:?} is too big"))?;
            pack.extend_from_slice(&length.to_le_bytes());
            modules.push(bytes);
        }
        pack.extend(modules.concat());
        let path = staging.join(file_name(stem, page));
        std::fs::write(&path, pack).map_err(|e| format!("{path:?}: {e}"))?;
    }
    Ok(())
}

/// Whether the loader fetches the pack of a page that needs `files`, given the files already
/// asked for (the rule of `startPack` in the splitter's loader).
pub fn fetched(files: &[&str], requested: &HashSet<&str>) -> bool {
    let asked = files
        .iter()
        .filter(|file| requested.contains(*file))
        .count();
    files.len() > 1 && asked * 4 <= files.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pack_holds_the_count_the_lengths_then_the_modules() {
        let dir = std::env::temp_dir().join(format!("keyless-packs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("app-chunk_1.wasm"), b"one").unwrap();
        std::fs::write(dir.join("app-split_page.wasm"), b"page!").unwrap();
        std::fs::write(dir.join("app-split_alone.wasm"), b"alone").unwrap();
        let pages = [
            (
                "page".to_owned(),
                vec![
                    "app-chunk_1.wasm".to_owned(),
                    "app-split_page.wasm".to_owned(),
                ],
            ),
            ("alone".to_owned(), vec!["app-split_alone.wasm".to_owned()]),
            (
                "empty".to_owned(),
                vec![
                    "app-chunk_1.wasm".to_owned(),
                    "app-split_page.wasm".to_owned(),
                ],
            ),
        ];
        write(&dir, "app", &pages).unwrap();
        let pack = std::fs::read(dir.join("app-split_page.pack")).unwrap();
        let alone = dir.join("app-split_alone.pack").exists();
        let empty = dir.join("app-split_empty.pack").exists();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(pack, b"\x02\0\0\0\x03\0\0\0\x05\0\0\0onepage!");
        assert!(!alone, "a page of one module has no pack");
        assert!(!empty, "a page whose own module is not last has no pack");
    }

    #[test]
    fn a_pack_is_fetched_unless_a_quarter_of_its_modules_are_already_asked_for() {
        let files = ["a", "b", "c", "d", "e", "f", "g", "h"];
        assert!(fetched(&files, &HashSet::new()));
        assert!(fetched(&files, &HashSet::from(["a", "elsewhere"])));
        assert!(fetched(&files, &HashSet::from(["a", "b"])));
        assert!(!fetched(&files, &HashSet::from(["a", "b", "c"])));
        assert!(!fetched(&["a"], &HashSet::new()));
    }
}
