//! `cargo xtask split-console`: trunk's `post_build` hook (see `Trunk.toml`) that splits the
//! console's wasm at its lazily loaded pages (`lazy_page!` in `src/app.rs`), so the first download holds the shell and the
//! page opened, and every other page arrives when it is first visited.
//!
//! Trunk cannot split wasm itself (trunk-rs/trunk#1022): the split needs the linker's
//! relocations (`--emit-relocs` in `.cargo/config.toml`), which wasm-bindgen drops. So this
//! hook starts again from cargo's artifact: split it with `wasm_split_cli_support`, run
//! wasm-bindgen on the main module under the name trunk chose (its `index.html` already loads
//! that name), optimise every module with wasm-opt, give the main module's imports from its
//! glue short names (`glue_imports`), and put them all in trunk's staging dir. Release builds
//! also get their scripts and stylesheet minified with esbuild.
//!
//! `target/wasm-split` keeps what `cargo xtask bench sizes` reads: every module as shipped but
//! with its function names, and `modules.txt`, which modules each lazily loaded page needs.

use std::path::{Path, PathBuf};

use crate::{cmd, glue_imports, packs};

/// The console's binary, as cargo and trunk name it.
const BIN: &str = "keyless-console";

/// Code that at least this many of the console's split modules (pages and parts) need goes
/// into the main module. Left in chunks of their own, the many small sets that share code
/// made up to 173 modules per page, each gzipped apart; 4 measured best (`bench sizes`): the
/// shell grows by 28 KB, and the two largest pages fetch 44 and 45 KB less.
const MAIN_IF_NEEDED_BY: usize = 4;

/// wasm-opt's switches for what rustc's wasm32 target emits.
const WASM_FEATURES: [&str; 6] = [
    "--enable-bulk-memory",
    "--enable-mutable-globals",
    "--enable-nontrapping-float-to-int",
    "--enable-reference-types",
    "--enable-multivalue",
    "--enable-sign-ext",
];

pub fn split_console() -> Result<(), String> {
    let staging = PathBuf::from(
        std::env::var_os("TRUNK_STAGING_DIR")
            .ok_or("split-console runs as trunk's post_build hook (TRUNK_STAGING_DIR is unset)")?,
    );
    let profile = std::env::var("TRUNK_PROFILE").unwrap_or_else(|_| "debug".into());
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| cmd::root().join("target"));
    let input = target
        .join("wasm32-unknown-unknown")
        .join(&profile)
        .join(format!("{BIN}.wasm"));
    let stem = trunk_stem(&staging)?;
    let work = target.join("wasm-split");
    if work.exists() {
        std::fs::remove_dir_all(&work).map_err(|e| format!("cannot clear {work:?}: {e}"))?;
    }
    std::fs::create_dir_all(&work).map_err(|e| format!("cannot create {work:?}: {e}"))?;

    let (chunks, pages) = split(&input, &work, &stem)?;
    let main = work.join("main.wasm");
    cmd::run(
        cmd::new(
            "wasm-bindgen",
            &["--target", "web", "--no-typescript", "--keep-lld-exports"],
        )
        .args(["--out-name", &stem, "--out-dir"])
        .arg(&work)
        .arg(&main),
    )?;

    let main = work.join(format!("{stem}_bg.wasm"));
    shorten_glue_imports(&main, &work.join(format!("{stem}.js")), &stem)?;
    let mut modules = vec![main];
    modules.extend(chunks);
    for module in &modules {
        let staged = staging.join(module.file_name().expect("a file name"));
        if profile == "release" {
            // `-g` keeps the names (for `bench sizes`) without changing the code; the staged
            // copy drops them with the other custom sections.
            cmd::run(
                cmd::new("wasm-opt", &["-Oz", "-g"])
                    .args(WASM_FEATURES)
                    .arg(module)
                    .arg("-o")
                    .arg(module),
            )?;
            let wasm = std::fs::read(module).map_err(|e| format!("{module:?}: {e}"))?;
            std::fs::write(&staged, without_custom_sections(&wasm)?)
        } else {
            std::fs::copy(module, &staged).map(drop)
        }
        .map_err(|e| format!("cannot stage {module:?}: {e}"))?;
    }
    packs::write(&staging, &stem, &pages)?;
    for script in [format!("{stem}_split.js"), format!("{stem}.js")] {
        std::fs::copy(work.join(&script), staging.join(&script))
            .map_err(|e| format!("cannot stage {script}: {e}"))?;
        if profile == "release" {
            minify(&staging.join(&script))?;
        }
    }
    if profile == "release" {
        for stylesheet in files_ending(&staging, ".css")? {
            minify(&stylesheet)?;
        }
    }
    Ok(())
}

/// Minifies a script or stylesheet in place with esbuild (without bundling: a script keeps
/// its imports and exports): 4 KB less gzipped on every page.
fn minify(file: &Path) -> Result<(), String> {
    cmd::run(
        cmd::new(
            "esbuild",
            &[
                "--minify",
                "--allow-overwrite",
                "--log-level=warning",
                // wasm-bindgen's import object names the splitter's script once per import;
                // the keys share one value.
                "--log-override:duplicate-object-key=silent",
            ],
        )
        .arg(file)
        .arg(format!("--outfile={}", file.display())),
    )
}

fn files_ending(dir: &Path, suffix: &str) -> Result<Vec<PathBuf>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot read {dir:?}: {e}"))?;
    Ok(entries
        .filter_map(|entry| Some(entry.ok()?.path()))
        .filter(|path| path.to_string_lossy().ends_with(suffix))
        .collect())
}

/// `wasm` without its custom sections (names, producers, target features), which browsers
/// ignore: about 200 bytes in every module, most of a small chunk's gzip.
fn without_custom_sections(wasm: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = wasm[..8].to_vec();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        let payload = payload.map_err(|e| format!("unreadable wasm: {e}"))?;
        let Some((id, range)) = payload.as_section() else {
            continue;
        };
        if id != 0 {
            glue_imports::push_section(
                &mut out,
                id,
                &wasm[range.start as usize..range.end as usize],
            );
        }
    }
    Ok(out)
}

/// Renames the main module's imports from its glue script, in both (see `glue_imports`).
fn shorten_glue_imports(main: &Path, glue: &Path, stem: &str) -> Result<(), String> {
    let wasm = std::fs::read(main).map_err(|e| format!("{main:?}: {e}"))?;
    let script = std::fs::read_to_string(glue).map_err(|e| format!("{glue:?}: {e}"))?;
    let (wasm, script) = glue_imports::shorten(&wasm, &script, &format!("./{stem}_bg.js"))
        .map_err(|e| format!("cannot shorten the imports of {main:?}: {e}"))?;
    std::fs::write(main, wasm).map_err(|e| format!("{main:?}: {e}"))?;
    std::fs::write(glue, script).map_err(|e| format!("{glue:?}: {e}"))
}

/// The name trunk gave the console's files (`keyless-console-<hash>`), read off its glue js.
fn trunk_stem(staging: &Path) -> Result<String, String> {
    let entries =
        std::fs::read_dir(staging).map_err(|e| format!("cannot read {staging:?}: {e}"))?;
    entries
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .find_map(|name| {
            name.strip_suffix(".js")
                .filter(|stem| stem.starts_with(BIN))
                .map(str::to_owned)
        })
        .ok_or_else(|| format!("trunk staged no {BIN}*.js in {staging:?}"))
}

/// A split module's loader name and the module files it fetches (its chunks, then its own).
type Page = (String, Vec<String>);

/// Splits `input` into `work/main.wasm`, the lazily loaded modules and their loader
/// (`<stem>_split.js`); returns the modules, renamed after `stem` so that a new build never
/// meets an old chunk in a cache, and the pages with the files each needs, which it also lists
/// in `work/modules.txt` (see `wasm_sizes`).
fn split(input: &Path, work: &Path, stem: &str) -> Result<(Vec<PathBuf>, Vec<Page>), String> {
    let wasm = std::fs::read(input).map_err(|e| format!("cannot read {input:?}: {e}"))?;
    let link_name = format!("./{stem}_split.js");
    let main_module = format!("./{stem}.js");
    let main = work.join("main.wasm");
    let mut options = wasm_split_cli_support::Options::new(&wasm);
    options.output_dir = work;
    options.main_out_path = &main;
    options.link_name = &link_name;
    options.main_module = &main_module;
    options.main_if_needed_by = MAIN_IF_NEEDED_BY;
    let split = wasm_split_cli_support::transform(options)
        .map_err(|e| format!("cannot split {input:?}: {e:#}"))?;

    let loader = work.join(&link_name);
    let mut js = std::fs::read_to_string(&loader).map_err(|e| format!("{loader:?}: {e}"))?;
    let mut renamed = Vec::new();
    for module in split.split_modules {
        let name = module.file_name().expect("a file name").to_string_lossy();
        let stamped = format!("{stem}-{name}");
        js = js.replace(&format!("\"./{name}\""), &format!("\"./{stamped}\""));
        let target = work.join(&stamped);
        std::fs::rename(&module, &target).map_err(|e| format!("{module:?}: {e}"))?;
        renamed.push(target);
    }
    std::fs::write(&loader, js).map_err(|e| format!("{loader:?}: {e}"))?;

    // One line per module loader: its name, then every module it fetches.
    let mut list = format!("main {stem}_bg.wasm\n");
    let mut pages: Vec<Page> = split
        .prefetch_map
        .into_iter()
        .map(|(page, files)| {
            let files = files
                .iter()
                .map(|file| format!("{stem}-{file}.wasm"))
                .collect();
            (page, files)
        })
        .collect();
    pages.sort();
    for (page, files) in &pages {
        list.push_str(page);
        for file in files {
            list.push_str(&format!(" {file}"));
        }
        list.push('\n');
    }
    let listed = work.join("modules.txt");
    std::fs::write(&listed, list).map_err(|e| format!("{listed:?}: {e}"))?;
    Ok((renamed, pages))
}
