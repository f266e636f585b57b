//! `cargo xtask bench sizes`: where the bytes of the last console build (`cargo xtask
//! build-console`) go. For the shell and for each main page's first visit it prints the files
//! fetched, gzipped at level 9 as shipped in `dist/` (as `bench console` counts them), and the
//! crates their wasm bytes come from. Function bodies are attributed by their names, read off
//! the named copies of the shipped modules that `split-console` leaves in `target/wasm-split`
//! (same code, see `split.rs`); data and the rest of each module (imports, exports, tables,
//! headers) are shown apart, so a module's rows add up to its shipped size (without custom
//! sections).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::{cmd, packs};

/// The pages `bench console` visits, by the module loaders (`lazy_page!` names in `src/app.rs`,
/// parts in `src/lazy.rs`) an admin's first visit goes through.
const PAGES: [(&str, &[&str]); 6] = [
    ("/signin", &["sign_in"]),
    ("/stacks", &["stacks"]),
    (
        "/:org/:project/:stack/deployments/:version",
        &["stack", "deployment"],
    ),
    (
        "/:org/:project/:stack/settings/deploy",
        &["stack", "deploy_settings"],
    ),
    // The OIDC assistant and the webhook's settings, opened on request (or the assistant by
    // switching a cloud on).
    (
        "/:org/:project/:stack/settings/deploy, both opened",
        &[
            "stack",
            "deploy_settings",
            "github_webhook",
            "oidc_assistant",
        ],
    ),
    ("/logs/open", &["log_file"]),
];

/// Crates listed per module or page; the others are summed on one line.
const TOP: usize = 10;

const BUDGET_KB: f64 = 250.0;

pub fn sizes() -> Result<(), String> {
    let root = cmd::root();
    let named = root.join("target/wasm-split");
    let dist = root.join("dist");
    let list = std::fs::read_to_string(named.join("modules.txt"))
        .map_err(|e| format!("no console build to measure (cargo xtask build-console): {e}"))?;
    let mut loaders: HashMap<&str, Vec<&str>> = list
        .lines()
        .filter_map(|line| {
            let mut words = line.split(' ');
            Some((words.next()?, words.collect()))
        })
        .collect();
    let main = loaders
        .remove("main")
        .and_then(|files| files.first().copied())
        .ok_or("modules.txt names no main module")?;

    let mut scripts = Vec::new();
    for entry in std::fs::read_dir(&dist).map_err(|e| format!("{dist:?}: {e}"))? {
        let name = entry.map_err(|e| e.to_string())?.file_name();
        let name = name.to_string_lossy().into_owned();
        if name.ends_with(".js") || name.ends_with(".css") {
            scripts.push(name);
        }
    }
    scripts.sort();
    let mut shell_gz = 0;
    println!("Shell (what index.html loads), gzip -9:");
    for file in scripts.iter().map(String::as_str).chain([main]) {
        let (raw, gz) = shipped(&dist.join(file))?;
        shell_gz += gz;
        println!("  {file:<64} {:>8} KB raw {:>7} KB gz", kb(raw), kb(gz));
    }
    println!("  total {} KB gz", kb(shell_gz));
    print_crates("main module", &attribute(&[named.join(main)])?);

    let stem = main
        .strip_suffix("_bg.wasm")
        .ok_or("modules.txt's main is no _bg.wasm")?;
    for (path, page_loaders) in PAGES {
        // What the loader fetches, loader by loader as the page asks: a pack, or the modules
        // not yet asked for one by one (`packs::fetched`).
        let mut files: Vec<&str> = Vec::new();
        let mut fetches = Vec::new();
        for loader in page_loaders {
            let needed = loaders
                .get(loader)
                .ok_or_else(|| format!("modules.txt has no loader `{loader}`"))?;
            let asked: HashSet<&str> = files.iter().copied().collect();
            let pack = packs::file_name(stem, loader);
            if packs::fetched(needed, &asked) && dist.join(&pack).exists() {
                fetches.push(pack);
            } else {
                fetches.extend(
                    needed
                        .iter()
                        .filter(|f| !asked.contains(*f))
                        .map(|f| f.to_string()),
                );
            }
            files.extend(needed.iter().filter(|f| !asked.contains(*f)));
        }
        let mut lazy_gz = 0;
        let mut listed = Vec::new();
        for file in &fetches {
            let (raw, gz) = shipped(&dist.join(file))?;
            lazy_gz += gz;
            if let Some((_, name)) = file.split_once("-split_") {
                listed.push(format!("{name} {} KB raw {} KB gz", kb(raw), kb(gz)));
            }
        }
        let total = shell_gz + lazy_gz;
        let verdict = if kb_f(total) <= BUDGET_KB {
            "within"
        } else {
            "OVER"
        };
        println!(
            "\n{path}: {} KB gz first visit = shell {} + {} lazily loaded modules in {} files {} \
             (budget {BUDGET_KB} KB: {verdict})",
            kb(total),
            kb(shell_gz),
            files.len(),
            fetches.len(),
            kb(lazy_gz),
        );
        let others = fetches.len() - listed.len();
        println!("  {}; {others} other chunks", listed.join("; "));
        let modules: Vec<PathBuf> = files.iter().map(|file| named.join(file)).collect();
        print_crates("its lazily loaded modules", &attribute(&modules)?);
    }
    Ok(())
}

/// Raw and gzip -9 size of a shipped file.
fn shipped(file: &Path) -> Result<(usize, usize), String> {
    let raw = std::fs::metadata(file)
        .map_err(|e| format!("{file:?}: {e}"))?
        .len() as usize;
    let out = std::process::Command::new("gzip")
        .args(["-9", "-n", "-c"])
        .arg(file)
        .output()
        .map_err(|e| format!("cannot run gzip: {e}"))?;
    if !out.status.success() {
        return Err(format!("gzip {file:?} failed"));
    }
    Ok((raw, out.stdout.len()))
}

/// What each crate's functions (and the modules' data and remaining sections) add up to over
/// `modules`, in raw bytes as shipped.
fn attribute(modules: &[PathBuf]) -> Result<BTreeMap<String, usize>, String> {
    let mut bytes = BTreeMap::new();
    for module in modules {
        let wasm = std::fs::read(module).map_err(|e| format!("{module:?}: {e}"))?;
        let mut imported = 0;
        let mut names = HashMap::new();
        let mut bodies = Vec::new();
        let mut counted = 0;
        let mut custom = 0;
        for payload in wasmparser::Parser::new(0).parse_all(&wasm) {
            let payload = payload.map_err(|e| format!("{module:?}: {e}"))?;
            match payload {
                wasmparser::Payload::ImportSection(imports) => {
                    for import in imports.into_imports() {
                        let import = import.map_err(|e| e.to_string())?;
                        if let wasmparser::TypeRef::Func(_) | wasmparser::TypeRef::FuncExact(_) =
                            import.ty
                        {
                            imported += 1;
                        }
                    }
                }
                wasmparser::Payload::CodeSectionEntry(body) => bodies.push(body.range()),
                wasmparser::Payload::DataSection(data) => {
                    let size = (data.range().end - data.range().start) as usize;
                    *bytes.entry("(data)".to_owned()).or_default() += size;
                    counted += size;
                }
                wasmparser::Payload::CustomSection(section) => {
                    // Not shipped: the section, its id byte and its size.
                    let size = (section.range().end - section.range().start) as usize;
                    custom += size + 1 + leb_len(size);
                    if let wasmparser::KnownCustom::Name(reader) = section.as_known() {
                        for name in reader {
                            if let wasmparser::Name::Function(map) =
                                name.map_err(|e| e.to_string())?
                            {
                                for naming in map {
                                    let naming = naming.map_err(|e| e.to_string())?;
                                    names.insert(naming.index, naming.name);
                                }
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        for (i, range) in bodies.into_iter().enumerate() {
            let size = (range.end - range.start) as usize;
            let owner = match names.get(&(imported + i as u32)) {
                Some(name) => crate_of(&demangle(name)).to_owned(),
                None => "(unnamed)".to_owned(),
            };
            *bytes.entry(owner).or_default() += size;
            counted += size;
        }
        *bytes.entry("(other sections)".to_owned()).or_default() += wasm.len() - custom - counted;
    }
    Ok(bytes)
}

fn print_crates(what: &str, bytes: &BTreeMap<String, usize>) {
    let total: usize = bytes.values().sum();
    let mut rows: Vec<(&String, &usize)> = bytes.iter().collect();
    rows.sort_by(|a, b| b.1.cmp(a.1));
    println!("  {what}, {} KB raw, by crate:", kb(total));
    for (owner, size) in rows.iter().take(TOP) {
        let share = **size as f64 * 100.0 / total as f64;
        println!("    {owner:<40} {:>8} KB {share:>5.1}%", kb(**size));
    }
    let rest: usize = rows.iter().skip(TOP).map(|(_, size)| **size).sum();
    if rest > 0 {
        println!(
            "    {:<40} {:>8} KB",
            format!("{} others", rows.len() - TOP),
            kb(rest)
        );
    }
}

/// The crate a function's code counts for: its path's first segment; for a method of an impl
/// (`<T as Trait>::f`) the implementing type's crate, or the trait's when the type is not a
/// path outside `core`, `alloc` and `std` (a tuple, a primitive, a type parameter, `Vec<_>`…);
/// for drop glue the dropped type's crate.
fn crate_of(name: &str) -> &str {
    if name.starts_with("__wasm_split_00") {
        return "(page entry points)";
    }
    if let Some(v0) = name.strip_prefix("_R") {
        return v0_crate(v0).unwrap_or("(other symbols)");
    }
    if let Some(dropped) = name.strip_prefix("core::ptr::drop_in_place<") {
        return crate_of(dropped);
    }
    let Some(inner) = name.strip_prefix('<') else {
        return first_segment(name).unwrap_or("(other symbols)");
    };
    let of_type = first_segment(inner).filter(|c| !matches!(*c, "core" | "alloc" | "std"));
    match (of_type, trait_of(inner)) {
        (Some(krate), _) => krate,
        (None, Some(tr)) => crate_of(tr),
        (None, None) => crate_of(inner),
    }
}

/// The crate of a path (`leptos` in `leptos::mount::mount_to`, `&mut serde_json::Value`, or
/// `dlmalloc[e24a…]::Dlmalloc`), if `name` starts with one.
fn first_segment(name: &str) -> Option<&str> {
    let mut path = name.trim_start_matches(['(', '[', '&', '*']);
    for qualifier in ["mut ", "const ", "dyn "] {
        path = path.strip_prefix(qualifier).unwrap_or(path);
    }
    let end = path.find(|c: char| !(c.is_alphanumeric() || c == '_'))?;
    let rest = &path[end..];
    let rest = match rest.strip_prefix('[') {
        Some(disambiguated) => &disambiguated[disambiguated.find(']')? + 1..],
        None => rest,
    };
    (end > 0 && rest.starts_with("::")).then(|| &path[..end])
}

/// A symbol in Rust's legacy mangling (`_ZN6leptos5mount8mount_to17h…E`) as a path
/// (`leptos::mount::mount_to`); any other name as it is.
fn demangle(name: &str) -> Cow<'_, str> {
    const ESCAPES: [(&str, &str); 16] = [
        ("$LT$", "<"),
        ("$GT$", ">"),
        ("$RF$", "&"),
        ("$BP$", "*"),
        ("$C$", ","),
        ("$SP$", "@"),
        ("$u20$", " "),
        ("$u22$", "\""),
        ("$u27$", "'"),
        ("$u2b$", "+"),
        ("$u3b$", ";"),
        ("$u5b$", "["),
        ("$u5d$", "]"),
        ("$u7b$", "{"),
        ("$u7d$", "}"),
        ("$u7e$", "~"),
    ];
    let Some(mut rest) = name.strip_prefix("_ZN") else {
        return Cow::Borrowed(name);
    };
    let mut segments = Vec::new();
    while let Some(digits) = rest.find(|c: char| !c.is_ascii_digit()).filter(|&d| d > 0) {
        let Some(segment) = rest[digits..].get(..rest[..digits].parse().unwrap_or(usize::MAX))
        else {
            return Cow::Borrowed(name);
        };
        rest = &rest[digits + segment.len()..];
        let is_hash = segment.len() == 17 && segment.starts_with('h') && rest == "E";
        if !is_hash {
            let mut text = segment
                .strip_prefix("_$")
                .map_or(segment.to_owned(), |s| format!("${s}"));
            text = text.replace("..", "::");
            for (escape, char) in ESCAPES {
                text = text.replace(escape, char);
            }
            segments.push(text);
        }
    }
    Cow::Owned(segments.join("::"))
}

/// The first crate named in a symbol of Rust's v0 mangling (`_RNvNtCs…_4core3fmt…`: `core`),
/// as the standard library is built: `C`, an optional disambiguator `s…_`, the name's length.
fn v0_crate(symbol: &str) -> Option<&str> {
    symbol.match_indices('C').find_map(|(i, _)| {
        let mut rest = &symbol[i + 1..];
        if let Some(disambiguated) = rest.strip_prefix('s') {
            rest = &disambiguated[disambiguated.find('_')? + 1..];
        }
        let digits = rest.find(|c: char| !c.is_ascii_digit())?;
        let len: usize = rest[..digits].parse().ok()?;
        rest.get(digits..digits + len)
            .filter(|name| name.chars().all(|c| c.is_alphanumeric() || c == '_'))
    })
}

/// `Trait…` in `T as Trait>::f`: what follows the ` as ` that belongs to the outermost `<`.
fn trait_of(inner: &str) -> Option<&str> {
    let mut depth = 0i32;
    for (i, c) in inner.char_indices() {
        match c {
            '<' | '(' | '[' => depth += 1,
            '>' | ')' | ']' if depth == 0 => return None,
            '>' | ')' | ']' => depth -= 1,
            ' ' if depth == 0 && inner[i..].starts_with(" as ") => return Some(&inner[i + 4..]),
            _ => {}
        }
    }
    None
}

fn leb_len(mut n: usize) -> usize {
    let mut len = 1;
    while n >= 0x80 {
        n >>= 7;
        len += 1;
    }
    len
}

fn kb_f(bytes: usize) -> f64 {
    bytes as f64 / 1024.0
}

fn kb(bytes: usize) -> String {
    format!("{:.1}", kb_f(bytes))
}

#[cfg(test)]
mod tests {
    use super::{crate_of, demangle};

    #[test]
    fn functions_count_for_the_crate_that_owns_them() {
        assert_eq!(crate_of("leptos::mount::mount_to::h0123"), "leptos");
        assert_eq!(
            crate_of("<tachys::html::El as tachys::view::Render>::build"),
            "tachys"
        );
        assert_eq!(
            crate_of("<(A, B) as tachys::view::Render>::build"),
            "tachys"
        );
        assert_eq!(
            crate_of("<alloc::vec::Vec<u8> as serde::Serialize>::serialize"),
            "serde"
        );
        assert_eq!(crate_of("<str>::find"), "(other symbols)");
        assert_eq!(
            crate_of("core::ptr::drop_in_place<reactive_graph::owner::Owner>"),
            "reactive_graph"
        );
        assert_eq!(
            crate_of("<dlmalloc[e24a]::Dlmalloc<A>>::malloc"),
            "dlmalloc"
        );
        assert_eq!(
            crate_of("<&mut serde_json::de::Deserializer<R> as serde::Deserializer>::f"),
            "serde_json"
        );
        assert_eq!(
            crate_of("_RNvNtNtCsgXGp5Oqx2Ny_4core3num7flt2dec17digits"),
            "core"
        );
        assert_eq!(crate_of("__wbindgen_malloc"), "(other symbols)");
    }

    #[test]
    fn legacy_symbols_are_demangled() {
        assert_eq!(
            demangle("_ZN12wasm_bindgen26__wbindgen_object_drop_ref17h39f7c5c79c9ddb66E"),
            "wasm_bindgen::__wbindgen_object_drop_ref"
        );
        assert_eq!(
            demangle(
                "_ZN57_$LT$tachys..html..El$u20$as$u20$tachys..view..Render$GT$5build17h0123456789abcdefE"
            ),
            "<tachys::html::El as tachys::view::Render>::build"
        );
        assert_eq!(demangle("memcpy"), "memcpy");
    }
}
