//! libFuzzer target `mps`: see `duality_fuzz::targets`.
#![no_main]

libfuzzer_sys::fuzz_target!(
    init: {
        duality_core::limits::set_memory_budget(duality_fuzz::FUZZ_MEMORY_BUDGET);
    },
    |data: &[u8]| {
        duality_fuzz::run_target("mps", data);
    }
);
