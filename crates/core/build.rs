//! Embeds an rpath to libtorch's `lib/` directory when the `torch` feature is
//! on, so tests and examples run without `LD_LIBRARY_PATH`, and forwards the
//! directory to dependents (`DEP_DUALITY_CORE_LIBTORCH_LIB`) so their own
//! build scripts can do the same (`cargo:rustc-link-arg` does not propagate).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    // torch-sys declares `links = "tch"` and exports `libtorch_lib`.
    if let Ok(dir) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
        println!("cargo:libtorch_lib={dir}");
    }
}
