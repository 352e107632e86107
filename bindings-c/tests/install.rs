//! `install.sh PREFIX` produces a prefix that `pkg-config --cflags --libs cryptocache`
//! (and, when cmake is installed, `find_package(cryptocache)`) can build against.

mod common;

use std::process::Command;

use common::{lib_dir, manifest_dir, run, start_sim};

fn has(tool: &str) -> bool {
    Command::new(tool).arg("--version").output().is_ok_and(|o| o.status.success())
}

#[test]
fn installed_prefix_works_with_pkg_config() {
    if !has("pkg-config") {
        eprintln!("SKIPPED: pkg-config is not installed (apt-get install pkg-config)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let prefix = tmp.path().join("prefix");
    run({
        let mut c = Command::new("bash");
        c.arg(manifest_dir().join("install.sh")).arg(&prefix).arg(lib_dir());
        c
    });
    let pc_path = prefix.join("lib").join("pkgconfig");
    let (flags, _) = run({
        let mut c = Command::new("pkg-config");
        c.args(["--cflags", "--libs", "cryptocache"]).env("PKG_CONFIG_PATH", &pc_path);
        c
    });
    assert!(flags.contains("-lcryptocache"), "{flags}");
    let (version, _) = run({
        let mut c = Command::new("pkg-config");
        c.args(["--modversion", "cryptocache"]).env("PKG_CONFIG_PATH", &pc_path);
        c
    });
    assert_eq!(version.trim(), env!("CARGO_PKG_VERSION"));

    // Build the C example the way a user would: the shared library via pkg-config.
    let exe = tmp.path().join("klines");
    run({
        let mut c = Command::new("sh");
        c.arg("-c")
            .arg(format!(
                "cc -o '{}' '{}' $(pkg-config --cflags --libs cryptocache) -Wl,-rpath,'{}'",
                exe.display(),
                manifest_dir().join("examples/klines.c").display(),
                prefix.join("lib").display()
            ))
            .env("PKG_CONFIG_PATH", &pc_path);
        c
    });
    let sim = start_sim();
    let (stdout, _) = run({
        let mut c = Command::new(&exe);
        c.arg(sim.url());
        c
    });
    assert!(stdout.contains("24 candles of BTCUSDT 1h"), "{stdout}");

    // And the static library, with the flags pkg-config gives for static linking.
    let exe = tmp.path().join("klines_static");
    run({
        let mut c = Command::new("sh");
        c.arg("-c")
            .arg(format!(
                "c++ -std=c++17 -o '{}' '{}' $(pkg-config --cflags cryptocache) '{}' $(pkg-config --static --libs-only-l cryptocache | sed 's/-lcryptocache//')",
                exe.display(),
                manifest_dir().join("examples/klines.cpp").display(),
                prefix.join("lib/libcryptocache.a").display()
            ))
            .env("PKG_CONFIG_PATH", &pc_path);
        c
    });
    let (stdout, _) = run({
        let mut c = Command::new(&exe);
        c.arg(sim.url());
        c
    });
    assert!(stdout.contains("again: 24 candles"), "{stdout}");

    if !has("cmake") {
        eprintln!("SKIPPED (cmake part): cmake is not installed (apt-get install cmake)");
        return;
    }
    let project = tmp.path().join("cmake-project");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(
        project.join("CMakeLists.txt"),
        format!(
            "cmake_minimum_required(VERSION 3.16)\nproject(uses_cryptocache C CXX)\n\
             find_package(cryptocache 0.1 REQUIRED)\n\
             add_executable(klines_cmake {})\n\
             target_link_libraries(klines_cmake PRIVATE cryptocache::cryptocache_static)\n",
            manifest_dir().join("examples/klines.c").display()
        ),
    )
    .unwrap();
    let build = project.join("build");
    run({
        let mut c = Command::new("cmake");
        c.arg("-S")
            .arg(&project)
            .arg("-B")
            .arg(&build)
            .arg(format!("-DCMAKE_PREFIX_PATH={}", prefix.display()));
        c
    });
    run({
        let mut c = Command::new("cmake");
        c.arg("--build").arg(&build);
        c
    });
    let (stdout, _) = run({
        let mut c = Command::new(build.join("klines_cmake"));
        c.arg(sim.url());
        c
    });
    assert!(stdout.contains("24 candles of BTCUSDT 1h"), "{stdout}");
}
