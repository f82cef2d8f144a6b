//! Embeds an rpath to libtorch (forwarded by duality-core's build script when
//! its `torch` feature is on), so this crate's tests, examples and binaries
//! run without `LD_LIBRARY_PATH`.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if let Ok(dir) = std::env::var("DEP_DUALITY_CORE_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
    }
}
