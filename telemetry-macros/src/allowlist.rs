//! Finding the allowlist file and reading it once per (path, modification time).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::LitStr;
use telemetry_allowlist::{Allowlist, AllowlistErrors};

use crate::ctxt::Ctxt;

/// The environment variable that names the allowlist for a whole build.
const ENV_VAR: &str = "TELEMETRY_ALLOWLIST";

/// The file looked for beside the crate's `Cargo.toml`.
const DEFAULT_FILE: &str = "allowlist.toml";

/// How an allowlist's path was chosen: said when nothing is there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Found {
    /// The attribute's `allowlist = "..."`.
    Attribute,
    /// `allowlist.toml` beside the crate's `Cargo.toml`.
    BesideManifest,
    /// [`ENV_VAR`], for a crate without a file of its own.
    Variable,
}

impl Found {
    /// What to add to "cannot read" when the file does not exist.
    fn missing_hint(self) -> &'static str {
        match self {
            Found::Attribute => {
                "the attribute's `allowlist = \"...\"` names it, relative to this source file"
            }
            Found::BesideManifest => {
                "the default is `allowlist.toml` beside the crate's Cargo.toml; or name one with \
                 `allowlist = \"...\"` in the attribute, or for crates without their own with \
                 the TELEMETRY_ALLOWLIST environment variable"
            }
            Found::Variable => {
                "the TELEMETRY_ALLOWLIST environment variable names it: a relative path is read \
                 against the crate's directory, and `relative = true` in `.cargo/config.toml` \
                 makes it relative to that file's directory"
            }
        }
    }
}

/// A located allowlist: its path and what reading it gave.
pub(crate) struct Located {
    pub path: PathBuf,
    pub result: Arc<Result<Allowlist, AllowlistErrors>>,
    /// FNV-1a of the file's bytes (0 when it could not be read): which file an event was
    /// checked against, for the schema's check.
    pub fingerprint: u64,
    /// Whether this is the first use of the file in this compilation: a broken file's problems
    /// are listed there, and only summed up at every other use.
    pub first_use: bool,
    /// Where its problems are reported: the `allowlist = "..."` literal, or the attribute.
    pub span: Span,
    /// How its path was chosen.
    found: Found,
}

impl Located {
    /// Tokens that make cargo rebuild the invoking crate when the file or the variable changes;
    /// empty after the first time in this compilation.
    ///
    /// Once is enough: rustc lists what `include_bytes!` and `option_env!` read in the dep-info
    /// of the whole crate, and a rebuild expands every macro again. Once per event, the copies
    /// of the file cost an event crate a seventh of its rebuild (`scripts/bench-compile-time`:
    /// 331 ms against 292 ms of CPU for 200 events). Every caller emits what it gets, errors or
    /// not (a compilation that fails is run again whole).
    pub(crate) fn dependency_tokens(&self) -> TokenStream {
        static DONE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
        let mut done = DONE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let first_in_compilation = done.is_empty();
        if done.contains(&self.path) {
            return TokenStream::new();
        }
        done.push(self.path.clone());
        let path = self.path.to_string_lossy();
        let file = if self.path.is_file() {
            quote! { const _: &[u8] = ::core::include_bytes!(#path); }
        } else {
            TokenStream::new()
        };
        let variable = if first_in_compilation {
            quote! { const _: ::core::option::Option<&str> = ::core::option_env!(#ENV_VAR); }
        } else {
            TokenStream::new()
        };
        quote! {
            #file
            #variable
        }
    }

    /// The path as the program may show it: relative to the declaring crate's manifest
    /// directory when it is inside it, else the file name; never an absolute path of the build
    /// machine, which would be compiled into the program.
    pub(crate) fn shown_path(&self) -> String {
        let path = self.path.as_path();
        let manifest = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from);
        let manifest = manifest.map(|m| m.canonicalize().unwrap_or(m));
        let relative = manifest
            .as_deref()
            .and_then(|m| path.strip_prefix(m).ok())
            .or_else(|| path.file_name().map(Path::new))
            .unwrap_or(path);
        relative.to_string_lossy().replace('\\', "/")
    }

    /// The allowlist; when the file is broken, records one spanned error per problem in `cx`
    /// (at the file's first use in this compilation; one error that sums them up at every other
    /// use, so that a crate with many events does not list every problem once per event).
    pub(crate) fn get(&self, cx: &mut Ctxt) -> Option<&Allowlist> {
        let errors = match self.result.as_ref() {
            Ok(allowlist) => return Some(allowlist),
            Err(errors) => errors,
        };
        if self.first_use {
            let hint = if self.path.exists() {
                String::new()
            } else {
                format!("; {}", self.found.missing_hint())
            };
            for e in &errors.0 {
                cx.syn_error(syn::Error::new(
                    self.span,
                    format!("broken telemetry allowlist: {e}{hint}"),
                ));
            }
        } else {
            let count = errors.0.len();
            let problems = if count == 1 { "problem" } else { "problems" };
            cx.syn_error(syn::Error::new(
                self.span,
                format!(
                    "broken telemetry allowlist: {} has {count} {problems}, listed at its first use in this crate",
                    self.path.display()
                ),
            ));
        }
        None
    }
}

/// Finds and reads the allowlist: the one `explicit` names, else the crate's own
/// `allowlist.toml` beside its `Cargo.toml`, else the one [`ENV_VAR`] names.
///
/// The crate's own file comes before the variable because cargo's `[env]` (where a workspace
/// sets the variable) reaches every crate it builds, dependencies too: a dependency that ships
/// its allowlist, as a published events crate must, is checked against that, not against the
/// workspace's.
pub(crate) fn locate(explicit: Option<&LitStr>) -> Result<Located, syn::Error> {
    let (path, found) = match explicit {
        Some(lit) => (relative_to_invoking_file(lit)?, Found::Attribute),
        None => {
            // without cargo (no manifest directory), an absolute variable still names one
            let own = std::env::var_os("CARGO_MANIFEST_DIR")
                .map(|dir| PathBuf::from(dir).join(DEFAULT_FILE));
            match std::env::var_os(ENV_VAR).filter(|v| !v.is_empty()) {
                Some(value) if !own.as_deref().is_some_and(Path::is_file) => {
                    (absolute(PathBuf::from(value))?, Found::Variable)
                }
                _ => (
                    absolute(PathBuf::from(DEFAULT_FILE))?,
                    Found::BesideManifest,
                ),
            }
        }
    };
    let path = path.canonicalize().unwrap_or(path);
    let (result, fingerprint, first_use) = read_cached(&path);
    Ok(Located {
        path,
        result,
        fingerprint,
        first_use,
        span: explicit.map_or_else(Span::call_site, LitStr::span),
        found,
    })
}

fn relative_to_invoking_file(lit: &LitStr) -> Result<PathBuf, syn::Error> {
    let given = PathBuf::from(lit.value());
    if given.is_absolute() {
        return Ok(given);
    }
    let file = proc_macro::Span::call_site().local_file().ok_or_else(|| {
        syn::Error::new(
            lit.span(),
            "cannot tell which file this attribute is in to resolve the allowlist path",
        )
    })?;
    Ok(file.parent().unwrap_or(Path::new("")).join(given))
}

fn absolute(path: PathBuf) -> Result<PathBuf, syn::Error> {
    if path.is_absolute() {
        return Ok(path);
    }
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").ok_or_else(|| {
        syn::Error::new(Span::call_site(), "CARGO_MANIFEST_DIR is not set: build with cargo, or name the allowlist with `allowlist = \"...\"`")
    })?;
    Ok(PathBuf::from(manifest_dir).join(path))
}

/// What was read from one path, and the file's modification time then.
struct Entry {
    modified: Option<SystemTime>,
    result: Arc<Result<Allowlist, AllowlistErrors>>,
    fingerprint: u64,
}

/// Macro invocations of one compilation share the parsed file and its fingerprint until it
/// changes on disk; the last value says whether this is the first use of what was read.
fn read_cached(path: &Path) -> (Arc<Result<Allowlist, AllowlistErrors>>, u64, bool) {
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, Entry>>> = OnceLock::new();
    let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
    let cache = CACHE.get_or_init(Default::default);
    let mut cache = cache
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(entry) = cache.get(path)
        && modified.is_some()
        && entry.modified == modified
    {
        return (Arc::clone(&entry.result), entry.fingerprint, false);
    }
    let result = Arc::new(telemetry_allowlist::read(path));
    // of a file that was read and checked (so a regular file of at most a few megabytes): a
    // broken one is reported, and its events compared with nothing
    let fingerprint = match result.as_ref() {
        Ok(_) => std::fs::read(path).map_or(0, |bytes| fingerprint(&bytes)),
        Err(_) => 0,
    };
    // A file that cannot be read is read again next time, but its problem is listed once.
    let first_use = match cache.get(path) {
        Some(entry) => entry.modified != modified || entry.result != result,
        None => true,
    };
    cache.insert(
        path.to_path_buf(),
        Entry {
            modified,
            result: Arc::clone(&result),
            fingerprint,
        },
    );
    (result, fingerprint, first_use)
}

/// FNV-1a (64 bits) of `bytes`, never 0 (which means "unknown" to the schema's check).
fn fingerprint(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash.max(1)
}
