//! What the cache needs from its async runtime, for both targets: native (tokio) and
//! WebAssembly in a browser, Deno, a worker or Node (JavaScript timers and the JS event
//! loop). The read path is the same on both; only these few primitives differ.

use std::future::Future;
use std::time::Duration;

/// A monotonic instant (`std::time::Instant` natively; `performance.now()` on wasm,
/// where `std`'s panics).
pub type Instant = web_time::Instant;

/// Waits for `duration`.
pub async fn sleep(duration: Duration) {
    #[cfg(not(target_arch = "wasm32"))]
    tokio::time::sleep(duration).await;
    #[cfg(target_arch = "wasm32")]
    assert_send(wasm::sleep(duration)).await;
}

/// `future`, usable where the read path requires `Send` futures (its trait objects are
/// shared with the multi-threaded native build). Natively it is `future` itself. On
/// WebAssembly the host's futures (`fetch`, timers) are not `Send`, but the module runs
/// on one thread: `send_wrapper` asserts that, and would panic (never misbehave) if one
/// were ever polled from another thread.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn assert_send<F: Future + Send>(future: F) -> F {
    future
}

/// See the native version.
#[cfg(target_arch = "wasm32")]
pub(crate) fn assert_send<F: Future>(future: F) -> send_wrapper::SendWrapper<F> {
    send_wrapper::SendWrapper::new(future)
}

/// Runs the blocking `task` (hashing or decoding a big file) on the runtime's blocking
/// threads, so the async workers keep serving.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) async fn blocking<T: Send + 'static>(
    task: impl FnOnce() -> T + Send + 'static,
) -> crate::error::Result<T> {
    tokio::task::spawn_blocking(task)
        .await
        .map_err(|e| crate::error::Error::Cache(format!("a blocking task failed: {e}")))
}

/// Runs `task` in the background when a runtime is there to run it (tokio's, or the
/// JavaScript event loop on wasm); returns whether it was started.
#[cfg(not(target_arch = "wasm32"))]
pub fn spawn_background(task: impl Future<Output = ()> + Send + 'static) -> bool {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => {
            runtime.spawn(task);
            true
        }
        Err(_) => false,
    }
}

/// Runs `task` in the background on the JavaScript event loop; returns `true`.
#[cfg(target_arch = "wasm32")]
pub fn spawn_background(task: impl Future<Output = ()> + 'static) -> bool {
    wasm_bindgen_futures::spawn_local(task);
    true
}

#[cfg(target_arch = "wasm32")]
mod wasm {
    use std::time::Duration;

    use wasm_bindgen::prelude::*;

    #[wasm_bindgen]
    extern "C" {
        /// The global `setTimeout` (browsers, workers, Deno and Node all have it).
        #[wasm_bindgen(js_name = setTimeout)]
        fn set_timeout(callback: &js_sys::Function, millis: f64) -> JsValue;
    }

    /// A promise resolved by `setTimeout` after `duration`.
    pub(super) async fn sleep(duration: Duration) {
        let millis = duration.as_secs_f64() * 1000.0;
        let promise = js_sys::Promise::new(&mut |resolve, _reject| {
            let _ = set_timeout(&resolve, millis);
        });
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    }
}
