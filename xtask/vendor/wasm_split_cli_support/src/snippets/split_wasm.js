function wrapAsyncCb(callee) {
    return async (callbackIndex, callbackData) => {
        let success;
        try {
            await callee();
            success = true;
        } catch (e) {
            console.error(e);
            success = false;
        } finally {
            const sharedImports = getSharedImports();
            sharedImports.__wasm_split.__indirect_function_table.get(callbackIndex)(callbackData, success);
        }
    }
}
// A page's first load may take its module and the chunks it needs from one file, its pack
// (`<module>.pack`: the number of modules and each one's length as little-endian u32s, then
// the modules, in the order of the page's chunks then its own), rather than fetching dozens
// of files, each gzipped apart. When the pack does not arrive, each module is fetched on its
// own.
const requested = new Set();
const packed = new Map();
function moduleFetcher(file, wrap) {
    const fetcher = () => {
        const src = fetchModule(file);
        src.catch(() => {});
        return async (imports) => (wrap ?? ((x) => x))(WebAssembly.instantiateStreaming(src, imports));
    };
    fetcher.file = file;
    return fetcher;
}
function fetchModule(file) {
    requested.add(file);
    const fromPack = packed.get(file);
    if (fromPack === undefined) return fetch(new URL(file, import.meta.url));
    packed.delete(file);
    return fromPack;
}
// Fetches the pack of a page about to load, unless a quarter of its modules are already on
// their way (chunks it shares with a page seen before).
function startPack(files) {
    if (files.some((file) => file === undefined)) return;
    const asked = files.filter((file) => requested.has(file)).length;
    if (files.length < 2 || asked * 4 > files.length) return;
    const url = files[files.length - 1].replace(/\.wasm$/, ".pack");
    const pack = fetch(new URL(url, import.meta.url)).then(async (response) => {
        if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
        const buffer = await response.arrayBuffer();
        const header = new DataView(buffer);
        if (buffer.byteLength < 4 || header.getUint32(0, true) !== files.length) throw new Error(`${url}: not this page's pack`);
        let offset = 4 + 4 * files.length;
        return files.map((_, i) => {
            const length = header.getUint32(4 + 4 * i, true);
            const module = new Uint8Array(buffer, offset, length);
            offset += length;
            return module;
        });
    });
    files.forEach((file, i) => {
        if (requested.has(file)) return;
        packed.set(file, pack.then(
            (modules) => new Response(modules[i], { headers: { "Content-Type": "application/wasm" } }),
            () => fetch(new URL(file, import.meta.url)),
        ));
    });
}
function makeLoad(fetcher, deps, isPage) {
    const loader = async () => {
        if (isPage) startPack(deps.map((dep) => dep.file).concat(fetcher.file));
        const parallelStuff = deps.map(d => d());
        const instantiate = fetcher();
        await Promise.all(parallelStuff);
        const imports = getSharedImports();
        return instantiate(imports);
    };
    let loadingModule = undefined;
    const load = () => {
        if (loadingModule === undefined) {
            const thisLoad = loader();
            // Memoize successes only: a rejected load must not be cached for
            // the lifetime of the session, or one transient network failure
            // permanently breaks the module. Clearing on rejection lets the
            // next call (e.g. the Rust side re-invoking load after a failed
            // callback) start a fresh attempt.
            thisLoad.catch(() => {
                if (loadingModule === thisLoad) loadingModule = undefined;
            });
            loadingModule = thisLoad;
        }
        return loadingModule;
    };
    load.file = fetcher.file;
    return load;
}
