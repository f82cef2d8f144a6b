//! Embeds an rpath to libtorch when duality-core forwards one (its `torch`
//! feature on, as in `--all-features` workspace builds), like every crate on
//! duality-core. The wheel itself is built without torch: then this does
//! nothing.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if let Ok(dir) = std::env::var("DEP_DUALITY_CORE_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
    }
}
