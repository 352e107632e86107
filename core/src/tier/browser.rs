//! A persistent tier for browsers, Deno and workers (WebAssembly only): the Cache Storage
//! API (`caches`), one entry per segment holding its [`codec`](crate::codec) encoding
//! under a synthetic URL. It survives reloads and is shared by the pages of one origin.
//! The host may evict it under storage pressure: that is a miss, never a wrong answer,
//! since every value is verified on read like the disk tier's.

use std::sync::Arc;

use futures_util::future::{BoxFuture, FutureExt};
use js_sys::{Array, Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::{Lookup, Stored, Tier};
use crate::error::{Error, Result};
use crate::segment::SegmentKey;

/// The base of the synthetic URLs entries are stored under (never fetched).
const BASE: &str = "https://cryptocache.invalid/";

/// Segments in the host's Cache Storage, in the cache named `name`.
#[derive(Debug, Clone)]
pub struct BrowserStorageTier {
    name: Arc<str>,
}

impl BrowserStorageTier {
    /// The tier over the Cache Storage cache `name` (opened on first use); a
    /// [`Error::Config`] where the host has no Cache Storage (Node).
    pub fn new(name: impl Into<String>) -> Result<Self> {
        if caches().is_undefined() {
            return Err(no_cache_storage());
        }
        Ok(BrowserStorageTier { name: Arc::from(name.into()) })
    }
}

/// The host's `caches` (`undefined` where there is none).
fn caches() -> JsValue {
    Reflect::get(&js_sys::global(), &"caches".into()).unwrap_or(JsValue::UNDEFINED)
}

fn no_cache_storage() -> Error {
    Error::Config(
        "this host has no Cache Storage for a persistent tier (browsers, Deno and workers do)".into(),
    )
}

fn url(key: &SegmentKey) -> String {
    format!("{BASE}{}", String::from(js_sys::encode_uri_component(&key.storage_key("cc"))))
}

fn failed(what: &str, e: JsValue) -> Error {
    let text = e.as_string().or_else(|| js_sys::Error::from(e).message().as_string()).unwrap_or_default();
    Error::Cache(format!("browser storage: {what}: {text}"))
}

/// `target.method(args...)`, awaited when it returns a promise.
async fn call(target: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue> {
    let function: Function = Reflect::get(target, &method.into())
        .map_err(|e| failed(method, e))?
        .dyn_into()
        .map_err(|e| failed(method, e))?;
    let value = function.apply(target, &args.iter().collect::<Array>()).map_err(|e| failed(method, e))?;
    match value.dyn_into::<Promise>() {
        Ok(promise) => JsFuture::from(promise).await.map_err(|e| failed(method, e)),
        Err(value) => Ok(value),
    }
}

impl BrowserStorageTier {
    /// The opened Cache Storage cache (`caches.open(name)`); an error where the host has
    /// no Cache Storage (Node).
    async fn open(&self) -> Result<JsValue> {
        let caches = caches();
        if caches.is_undefined() {
            return Err(no_cache_storage());
        }
        call(&caches, "open", &[self.name.as_ref().into()]).await
    }

    async fn get(&self, keys: &[SegmentKey]) -> Result<Vec<Lookup>> {
        let cache = self.open().await?;
        let mut found = Vec::with_capacity(keys.len());
        for key in keys {
            let response = call(&cache, "match", &[url(key).into()]).await?;
            if response.is_undefined() || response.is_null() {
                found.push(Lookup::Miss);
                continue;
            }
            let bytes = Uint8Array::new(&call(&response, "arrayBuffer", &[]).await?).to_vec();
            found.push(match crate::codec::decode(key, &bytes) {
                Ok(segment) => Lookup::Hit(Arc::new(segment), bytes.len()),
                Err(corrupt) => Lookup::Corrupt(corrupt.0),
            });
        }
        Ok(found)
    }

    async fn put(&self, items: &[Stored]) -> Result<()> {
        let cache = self.open().await?;
        let response_class =
            Reflect::get(&js_sys::global(), &"Response".into()).map_err(|e| failed("Response", e))?;
        let response_class: Function = response_class.dyn_into().map_err(|e| failed("Response", e))?;
        for item in items {
            let body = Uint8Array::from(item.bytes());
            let response =
                Reflect::construct(&response_class, &Array::of1(&body)).map_err(|e| failed("Response", e))?;
            call(&cache, "put", &[url(&item.segment.key).into(), response]).await?;
        }
        Ok(())
    }

    async fn delete(&self, keys: &[SegmentKey]) -> Result<()> {
        let cache = self.open().await?;
        for key in keys {
            call(&cache, "delete", &[url(key).into()]).await?;
        }
        Ok(())
    }

    async fn clear_source(&self, source: Option<&str>) -> Result<u64> {
        let cache = self.open().await?;
        let requests: Array = call(&cache, "keys", &[]).await?.dyn_into().map_err(|e| failed("keys", e))?;
        // Storage keys start `cc:v2:{source}:`.
        let prefix = source.map(|s| String::from(js_sys::encode_uri_component(&format!("cc:v2:{s}:"))));
        let mut deleted = 0;
        for request in requests.iter() {
            let href =
                Reflect::get(&request, &"url".into()).ok().and_then(|u| u.as_string()).unwrap_or_default();
            let stored = href.strip_prefix(BASE).unwrap_or_default();
            if prefix.as_deref().is_none_or(|p| stored.starts_with(p)) {
                call(&cache, "delete", &[request]).await?;
                deleted += 1;
            }
        }
        Ok(deleted)
    }
}

impl Tier for BrowserStorageTier {
    fn name(&self) -> &'static str {
        "browser"
    }

    fn get_many<'a>(&'a self, keys: &'a [SegmentKey]) -> BoxFuture<'a, Result<Vec<Lookup>>> {
        crate::rt::assert_send(self.get(keys)).boxed()
    }

    fn put_many<'a>(&'a self, items: &'a [Stored]) -> BoxFuture<'a, Result<()>> {
        crate::rt::assert_send(self.put(items)).boxed()
    }

    fn remove<'a>(&'a self, keys: &'a [SegmentKey]) -> BoxFuture<'a, Result<()>> {
        crate::rt::assert_send(self.delete(keys)).boxed()
    }

    fn clear<'a>(&'a self, source: Option<&'a str>) -> BoxFuture<'a, Result<u64>> {
        crate::rt::assert_send(self.clear_source(source)).boxed()
    }
}
