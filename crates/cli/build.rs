//! Build script of both command-line packages (`duality` and
//! `duality-torch`, whose manifest points here):
//!
//! - sets the cfg `duality_torch` when building the package `duality-torch`
//!   only. The shared sources select their libtorch half by it, not by a
//!   Cargo feature: features are unified across a workspace build
//!   (`cargo test --workspace --all-features`), a package name is not, so
//!   `duality` never gets the torch half;
//! - for `duality` built while duality-core has its `torch` feature (its
//!   own `--features torch`, or unified in a workspace build), links the
//!   binary with `--exclude-libs=ALL`. Nothing in `duality` calls libtorch
//!   (the area crates register their torch methods at run time, which only
//!   `duality-torch` does), but an object file of a dependency that also
//!   holds dead torch code still pulls torch-sys's C++ wrapper
//!   (`torch_api.o`) into the link, and the linker exports that object's
//!   inline vtables because libtorch refers to them; exported symbols are
//!   garbage-collection roots, so libtorch stayed "needed" (found with
//!   lld's `--why-live`). An executable exports nothing on purpose, so
//!   hiding the archives' symbols changes nothing else, and `--as-needed`
//!   then leaves `libtorch_cpu.so` and `libc10.so` out of `DT_NEEDED`
//!   (`tests/startup.rs` checks it);
//! - embeds an rpath to libtorch (forwarded by duality-core's build script
//!   when its `torch` feature is on), so the torch binary and the tests run
//!   without `LD_LIBRARY_PATH`. It names a directory only: a binary that
//!   does not need libtorch loads nothing from it.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rustc-check-cfg=cfg(duality_torch)");
    let torch_half = std::env::var("CARGO_PKG_NAME").as_deref() == Ok("duality-torch");
    if torch_half {
        println!("cargo:rustc-cfg=duality_torch");
    }
    if let Ok(dir) = std::env::var("DEP_DUALITY_CORE_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
        let elf = matches!(
            std::env::var("CARGO_CFG_TARGET_OS").as_deref(),
            Ok("linux" | "android" | "freebsd" | "netbsd" | "openbsd" | "dragonfly")
        );
        if !torch_half && elf {
            println!("cargo:rustc-link-arg-bins=-Wl,--exclude-libs=ALL");
        }
    }
}
