//! Helpers shared by the tests that compile and run C and C++ programs.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use cryptocache_sim::{Sim, SimConfig};

/// The simulator's fixed "now": 2024-06-01 12:30 UTC.
pub const NOW: i64 = 1_717_245_000_000;

/// A simulator of its own for each test (tests run in parallel and count requests), on
/// a runtime that outlives every test of this file.
pub fn start_sim() -> Sim {
    runtime().block_on(Sim::start(SimConfig { now_ms: Some(NOW), ..SimConfig::default() })).unwrap()
}

/// The runtime every simulator and relay of a test file runs on.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
    })
}

/// A relay (the `cryptocache-server` router) in front of `sim_url`, on a loopback port;
/// returns its URL. It serves until the test process ends.
pub fn start_relay(sim_url: &str) -> String {
    let rt = runtime();
    let cache = rt
        .block_on(
            cryptocache::Cache::builder()
                .exchange_url(sim_url)
                .no_disk()
                .clock(std::sync::Arc::new(cryptocache::ManualClock::new(NOW)))
                .build(),
        )
        .unwrap();
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = cryptocache_server::router(std::sync::Arc::new(cryptocache_server::Relay::new(cache)));
    let forever = std::future::pending::<()>();
    rt.spawn(cryptocache_server::serve(listener, app, forever, std::time::Duration::from_secs(1)));
    url
}

pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The directory holding `libcryptocache_c.a`: the `deps/` directory of this test
/// executable (cargo builds the lib's staticlib and cdylib there for the tests), or its
/// parent (`cargo build` output), else `$CARGO_TARGET_DIR` or the workspace's `target/`.
pub fn lib_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let deps = exe.parent().map(Path::to_path_buf);
    let mut candidates: Vec<PathBuf> = deps
        .iter()
        .chain(deps.as_deref().and_then(Path::parent).map(Path::to_path_buf).iter())
        .cloned()
        .collect();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest_dir().join("..").join("target"));
    for profile in ["debug", "ci", "release"] {
        candidates.push(target.join(profile));
    }
    candidates.into_iter().find(|d| d.join("libcryptocache_c.a").is_file()).unwrap_or_else(|| {
        panic!("libcryptocache_c.a not found next to {}; run `cargo build -p cryptocache-c`", exe.display())
    })
}

/// Compiles `sources` into `out`, linking the static library.
pub fn compile(sources: &[PathBuf], cpp: bool, out: &Path) {
    let lib = lib_dir().join("libcryptocache_c.a");
    let mut cmd = Command::new(if cpp { "c++" } else { "cc" });
    if cpp {
        cmd.arg("-std=c++17");
    } else {
        cmd.arg("-std=c11").arg("-D_POSIX_C_SOURCE=200809L");
    }
    cmd.args(["-Wall", "-Wextra", "-Werror", "-g", "-O1"])
        .arg("-I")
        .arg(manifest_dir().join("include"))
        .args(sources)
        .arg(&lib)
        .args(["-lpthread", "-ldl", "-lm"])
        .arg("-o")
        .arg(out);
    let output = cmd.output().expect("run the C compiler");
    assert!(
        output.status.success(),
        "compiling {sources:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

pub fn run(mut cmd: Command) -> (String, Output) {
    let output = cmd.output().expect("run the program");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{cmd:?} failed ({}):\nstdout:\n{stdout}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    (stdout, output)
}
