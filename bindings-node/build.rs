//! Linker setup for the Node addon.

fn main() {
    napi_build::setup();
}
