//! Short names for the main module's imports from wasm-bindgen's glue script.
//!
//! wasm-bindgen names each import after its Rust binding and a hash (`__wbg_fetch_8d9b…`) and
//! its module after the glue file (`./keyless-console-<hash>_bg.js`). The names sit twice in
//! the shell, in the wasm's import section and as the keys of the glue's import object, and
//! their hashes do not compress: renamed to `a`, `b`, … they cost the shell 5.1 KB less
//! gzipped (2.5 in the wasm, 2.6 in the script). Only the glue's own module is renamed; the
//! splitter's loaders keep their names, which its script exports.

use std::collections::HashMap;

/// The module name the glue's imports get.
const MODULE: &str = "w";

/// Renames the imports of `module` in `wasm` and the matching keys of the import object in
/// `glue` (wasm-bindgen's `--target web` script). Fails, rather than ship a console that cannot
/// start, when the script does not have exactly one key for every import.
pub fn shorten(wasm: &[u8], glue: &str, module: &str) -> Result<(Vec<u8>, String), String> {
    let mut renamed = HashMap::new();
    let mut out = wasm[..8].to_vec();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        let payload = payload.map_err(|e| format!("unreadable wasm: {e}"))?;
        let Some((id, range)) = payload.as_section() else {
            continue;
        };
        let body = &wasm[range.start as usize..range.end as usize];
        match payload {
            wasmparser::Payload::ImportSection(_) => {
                let body = rename_imports(body, module, &mut renamed)?;
                push_section(&mut out, id, &body);
            }
            _ => push_section(&mut out, id, body),
        }
    }
    Ok((out, rename_keys(glue, module, &renamed)?))
}

/// The import section `body` with the imports of `module` renamed; `renamed` gets the names.
fn rename_imports(
    body: &[u8],
    module: &str,
    renamed: &mut HashMap<String, String>,
) -> Result<Vec<u8>, String> {
    let mut at = 0;
    let count = read_u32(body, &mut at)?;
    let mut out = Vec::with_capacity(body.len());
    push_u32(&mut out, count);
    for _ in 0..count {
        let from = read_name(body, &mut at)?;
        let name = read_name(body, &mut at)?;
        // What follows the two names (the kind and its type) ends where the next import
        // starts; wasmparser reads it to find that place.
        let mut reader = wasmparser::BinaryReader::new(&body[at..], 0);
        reader
            .read::<wasmparser::TypeRef>()
            .map_err(|e| format!("unreadable import {from}::{name}: {e}"))?;
        let ty = &body[at..at + reader.original_position() as usize];
        at += ty.len();
        if from == module {
            let short = short_name(renamed.len());
            if renamed.insert(name.to_owned(), short.clone()).is_some() {
                return Err(format!("{module} is imported twice as {name}"));
            }
            push_name(&mut out, MODULE);
            push_name(&mut out, &short);
        } else {
            push_name(&mut out, from);
            push_name(&mut out, name);
        }
        out.extend_from_slice(ty);
    }
    if at != body.len() {
        return Err("the import section has bytes after its imports".into());
    }
    Ok(out)
}

/// `glue` with the import object's keys renamed: every import's key (`        name: `, as
/// wasm-bindgen indents them) and the module's (`"module": import0`).
fn rename_keys(
    glue: &str,
    module: &str,
    renamed: &HashMap<String, String>,
) -> Result<String, String> {
    let mut glue = replace_once(
        glue,
        &format!("\"{module}\": import0,"),
        &format!("{MODULE}: import0,"),
    )?;
    for (name, short) in renamed {
        glue = replace_once(
            &glue,
            &format!("\n        {name}: "),
            &format!("\n        {short}: "),
        )?;
    }
    Ok(glue)
}

fn replace_once(text: &str, from: &str, to: &str) -> Result<String, String> {
    match text.matches(from).count() {
        1 => Ok(text.replacen(from, to, 1)),
        n => Err(format!(
            "the glue script has {n} copies of `{}` where one was expected (has wasm-bindgen's output changed?)",
            from.trim()
        )),
    }
}

/// `a`…`z`, `A`…`Z`, then two letters and more: never a word the glue's object already has
/// (`__proto__`).
fn short_name(index: usize) -> String {
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut name = String::new();
    let mut rest = index;
    loop {
        name.push(LETTERS[rest % LETTERS.len()] as char);
        rest /= LETTERS.len();
        if rest == 0 {
            return name;
        }
        rest -= 1;
    }
}

/// Appends a section: its id, its length, its body.
pub fn push_section(out: &mut Vec<u8>, id: u8, body: &[u8]) {
    out.push(id);
    push_u32(out, body.len() as u32);
    out.extend_from_slice(body);
}

fn push_u32(out: &mut Vec<u8>, mut value: u32) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn push_name(out: &mut Vec<u8>, name: &str) {
    push_u32(out, name.len() as u32);
    out.extend_from_slice(name.as_bytes());
}

fn read_u32(bytes: &[u8], at: &mut usize) -> Result<u32, String> {
    let mut reader = wasmparser::BinaryReader::new(&bytes[*at..], 0);
    let value = reader
        .read_var_u32()
        .map_err(|e| format!("unreadable import section: {e}"))?;
    *at += reader.original_position() as usize;
    Ok(value)
}

fn read_name<'a>(bytes: &'a [u8], at: &mut usize) -> Result<&'a str, String> {
    let mut reader = wasmparser::BinaryReader::new(&bytes[*at..], 0);
    let name = reader
        .read_string()
        .map_err(|e| format!("unreadable import section: {e}"))?;
    *at += reader.original_position() as usize;
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A module importing two functions from the glue and one from the splitter's script,
    /// with the type section they refer to.
    fn module() -> Vec<u8> {
        let mut wasm = b"\0asm\x01\0\0\0".to_vec();
        // One type: () -> ().
        push_section(&mut wasm, 1, &[1, 0x60, 0, 0]);
        let mut imports = Vec::new();
        push_u32(&mut imports, 3);
        for (module, name) in [
            ("./app_bg.js", "__wbg_fetch_8d9b732df7467c44"),
            ("./app_split.js", "__wasm_split_load_page"),
            ("./app_bg.js", "__wbindgen_init_externref_table"),
        ] {
            push_name(&mut imports, module);
            push_name(&mut imports, name);
            imports.extend_from_slice(&[0, 0]);
        }
        push_section(&mut wasm, 2, &imports);
        wasm
    }

    const GLUE: &str = "function __wbg_get_imports() {
    const import0 = {
        __proto__: null,
        __wbg_fetch_8d9b732df7467c44: function(arg0) {
            return fetch(arg0);
        },
        __wbindgen_init_externref_table: function() {
        },
    };
    return {
        __proto__: null,
        \"./app_bg.js\": import0,
        \"./app_split.js\": import1,
    };
}";

    fn imports(wasm: &[u8]) -> Vec<(String, String)> {
        let mut found = Vec::new();
        for payload in wasmparser::Parser::new(0).parse_all(wasm) {
            if let wasmparser::Payload::ImportSection(reader) = payload.unwrap() {
                for import in reader.into_imports() {
                    let import = import.unwrap();
                    found.push((import.module.to_owned(), import.name.to_owned()));
                }
            }
        }
        found
    }

    #[test]
    fn the_glue_imports_get_short_names_in_the_module_and_the_script() {
        let (wasm, glue) = shorten(&module(), GLUE, "./app_bg.js").unwrap();
        let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
            list.iter()
                .map(|(m, n)| (m.to_string(), n.to_string()))
                .collect()
        };
        assert_eq!(
            imports(&wasm),
            pairs(&[
                ("w", "a"),
                ("./app_split.js", "__wasm_split_load_page"),
                ("w", "b")
            ])
        );
        wasmparser::Validator::new().validate_all(&wasm).unwrap();
        assert!(glue.contains("\n        a: function(arg0) {\n            return fetch(arg0);"));
        assert!(glue.contains("\n        b: function() {"));
        assert!(glue.contains("\n        w: import0,"));
        assert!(glue.contains("\"./app_split.js\": import1,"));
        assert!(!glue.contains("__wbg_fetch") && !glue.contains("__wbindgen_init"));
    }

    #[test]
    fn a_glue_without_a_key_for_an_import_is_refused() {
        let glue = GLUE.replace("__wbindgen_init_externref_table", "__wbindgen_other");
        let error = shorten(&module(), &glue, "./app_bg.js").unwrap_err();
        assert!(error.contains("__wbindgen_init_externref_table"), "{error}");
        let glue = GLUE.replace("\"./app_bg.js\": import0", "\"./other_bg.js\": import0");
        assert!(shorten(&module(), &glue, "./app_bg.js").is_err());
    }

    #[test]
    fn short_names_are_distinct_letters() {
        let names: Vec<String> = (0..52 * 53 + 1).map(short_name).collect();
        assert_eq!(names[..3], ["a", "b", "c"]);
        assert_eq!(names[51], "Z");
        assert_eq!(names[52], "aa");
        let distinct: std::collections::HashSet<_> = names.iter().collect();
        assert_eq!(distinct.len(), names.len());
        assert!(
            names
                .iter()
                .all(|n| n.bytes().all(|b| b.is_ascii_alphabetic()))
        );
    }
}
