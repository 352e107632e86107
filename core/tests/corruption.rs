//! A damaged disk value is detected, counted, refetched and overwritten; never returned.

mod common;

use std::fs;
use std::path::PathBuf;

use common::*;

fn segment_files(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "seg") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_and_truncated_values_are_refetched_and_overwritten() {
    let w = World::new().await;
    let q = query("BTCUSDT", "1m", NOW - 10 * DAY, NOW - 7 * DAY);
    let original = w.cache().await.klines(&q).await.unwrap().to_columns();
    let cold = w.kline_requests();
    let files = segment_files(w.dir.path());
    assert_eq!(files.len() as u64, cold);
    assert!(files.len() >= 3);

    // Flip one bit in the middle of one file, cut another in half, empty a third.
    let mut bytes = fs::read(&files[0]).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x04;
    fs::write(&files[0], &bytes).unwrap();
    let bytes = fs::read(&files[1]).unwrap();
    fs::write(&files[1], &bytes[..bytes.len() / 2]).unwrap();
    fs::write(&files[2], b"").unwrap();

    let cache = w.cache().await; // fresh memory tier: reads go to disk
    let got = cache.klines(&q).await.unwrap();
    assert_eq!(got.to_columns(), original, "damaged values are never returned");
    assert_matches_sim(&got, &q, NOW);
    assert_eq!(w.kline_requests(), cold + 3, "each damaged segment refetched once");
    let disk = cache.stats().tier("disk").unwrap().clone();
    assert_eq!(disk.corrupt, 3);
    assert_eq!(disk.writes, 3);

    // Overwritten: a third process reads everything from disk again.
    let third = w.cache().await;
    assert_eq!(third.klines(&q).await.unwrap().to_columns(), original);
    assert_eq!(w.kline_requests(), cold + 3);
    assert_eq!(third.stats().tier("disk").unwrap().corrupt, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_moved_to_another_key_is_rejected() {
    let w = World::new().await;
    let q = query("ETHUSDT", "1h", NOW - 90 * DAY, NOW - 20 * DAY);
    w.cache().await.klines(&q).await.unwrap();
    let files = segment_files(w.dir.path());
    assert!(files.len() >= 2);
    // Valid bytes, wrong place: the header names another segment.
    fs::copy(&files[0], &files[1]).unwrap();
    let cache = w.cache().await;
    let got = cache.klines(&q).await.unwrap();
    assert_matches_sim(&got, &q, NOW);
    assert_eq!(cache.stats().tier("disk").unwrap().corrupt, 1);
}
