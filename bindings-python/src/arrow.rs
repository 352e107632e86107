//! The Arrow C stream interface, by hand, for primitive columns: one record batch whose
//! buffers point straight into the core's shared (`Arc`) columns, so `pyarrow.table(x)`
//! and `polars.DataFrame(x)` read a result without a copy and without pyarrow on our
//! side. Written from the Arrow C Data / C Stream interface specification; the structs
//! below are its `ArrowSchema`, `ArrowArray` and `ArrowArrayStream`.
#![allow(unsafe_code)]

use std::any::Any;
use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::ptr;
use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyCapsule;

/// `struct ArrowSchema` of the C data interface.
#[repr(C)]
pub struct ArrowSchema {
    format: *const c_char,
    name: *const c_char,
    metadata: *const c_char,
    flags: i64,
    n_children: i64,
    children: *mut *mut ArrowSchema,
    dictionary: *mut ArrowSchema,
    release: Option<unsafe extern "C" fn(*mut ArrowSchema)>,
    private_data: *mut c_void,
}

/// `struct ArrowArray` of the C data interface.
#[repr(C)]
pub struct ArrowArray {
    length: i64,
    null_count: i64,
    offset: i64,
    n_buffers: i64,
    n_children: i64,
    buffers: *mut *const c_void,
    children: *mut *mut ArrowArray,
    dictionary: *mut ArrowArray,
    release: Option<unsafe extern "C" fn(*mut ArrowArray)>,
    private_data: *mut c_void,
}

/// `struct ArrowArrayStream` of the C stream interface.
#[repr(C)]
pub struct ArrowArrayStream {
    get_schema: Option<unsafe extern "C" fn(*mut ArrowArrayStream, *mut ArrowSchema) -> c_int>,
    get_next: Option<unsafe extern "C" fn(*mut ArrowArrayStream, *mut ArrowArray) -> c_int>,
    get_last_error: Option<unsafe extern "C" fn(*mut ArrowArrayStream) -> *const c_char>,
    release: Option<unsafe extern "C" fn(*mut ArrowArrayStream)>,
    private_data: *mut c_void,
}

/// One column to export: its name, Arrow format string (`l`, `g`, `L`, `c`, `tsm:UTC`)
/// and a pointer to `len` values that `owner` keeps alive.
pub struct Column {
    /// Field name.
    pub name: &'static str,
    /// Arrow format string.
    pub format: &'static str,
    /// First value.
    pub data: *const c_void,
}

/// A batch: the row count, its columns, and what keeps the column memory alive.
pub struct Batch {
    /// Rows.
    pub len: usize,
    /// Columns.
    pub columns: Vec<Column>,
    /// Owner of the memory the columns point into (the core's `Arc`-backed result).
    pub owner: Arc<dyn Any + Send + Sync>,
}

struct SchemaPrivate {
    _format: CString,
    _name: CString,
    children: Vec<*mut ArrowSchema>,
}

fn schema(format: &str, name: &str, children: Vec<*mut ArrowSchema>) -> ArrowSchema {
    let format = CString::new(format).unwrap_or_default();
    let name = CString::new(name).unwrap_or_default();
    let mut private = Box::new(SchemaPrivate { _format: format, _name: name, children });
    ArrowSchema {
        format: private._format.as_ptr(),
        name: private._name.as_ptr(),
        metadata: ptr::null(),
        flags: 0,
        n_children: private.children.len() as i64,
        children: if private.children.is_empty() { ptr::null_mut() } else { private.children.as_mut_ptr() },
        dictionary: ptr::null_mut(),
        release: Some(release_schema),
        private_data: Box::into_raw(private).cast(),
    }
}

unsafe extern "C" fn release_schema(schema: *mut ArrowSchema) {
    if schema.is_null() {
        return;
    }
    // SAFETY: `schema` was made by `schema()` and is released once (release is cleared).
    unsafe {
        let s = &mut *schema;
        if s.release.is_none() {
            return;
        }
        let private = Box::from_raw(s.private_data.cast::<SchemaPrivate>());
        for &child in &private.children {
            if let Some(release) = (*child).release {
                release(child);
            }
            drop(Box::from_raw(child));
        }
        s.release = None;
        s.private_data = ptr::null_mut();
    }
}

struct ArrayPrivate {
    buffers: Vec<*const c_void>,
    children: Vec<*mut ArrowArray>,
    _owner: Arc<dyn Any + Send + Sync>,
}

fn array(
    len: usize,
    buffers: Vec<*const c_void>,
    children: Vec<*mut ArrowArray>,
    owner: Arc<dyn Any + Send + Sync>,
) -> ArrowArray {
    let mut private = Box::new(ArrayPrivate { buffers, children, _owner: owner });
    ArrowArray {
        length: len as i64,
        null_count: 0,
        offset: 0,
        n_buffers: private.buffers.len() as i64,
        n_children: private.children.len() as i64,
        buffers: private.buffers.as_mut_ptr(),
        children: if private.children.is_empty() { ptr::null_mut() } else { private.children.as_mut_ptr() },
        dictionary: ptr::null_mut(),
        release: Some(release_array),
        private_data: Box::into_raw(private).cast(),
    }
}

unsafe extern "C" fn release_array(array: *mut ArrowArray) {
    if array.is_null() {
        return;
    }
    // SAFETY: `array` was made by `array()` and is released once (release is cleared).
    unsafe {
        let a = &mut *array;
        if a.release.is_none() {
            return;
        }
        let private = Box::from_raw(a.private_data.cast::<ArrayPrivate>());
        for &child in &private.children {
            if let Some(release) = (*child).release {
                release(child);
            }
            drop(Box::from_raw(child));
        }
        a.release = None;
        a.private_data = ptr::null_mut();
    }
}

struct StreamPrivate {
    names_formats: Vec<(&'static str, &'static str)>,
    batch: Option<Batch>,
    error: CString,
}

unsafe extern "C" fn get_schema(stream: *mut ArrowArrayStream, out: *mut ArrowSchema) -> c_int {
    // SAFETY: `stream` is ours and alive (the consumer calls before release).
    unsafe {
        let private = &*(*stream).private_data.cast::<StreamPrivate>();
        let children = private
            .names_formats
            .iter()
            .map(|(name, format)| Box::into_raw(Box::new(schema(format, name, Vec::new()))))
            .collect();
        out.write(schema("+s", "", children));
    }
    0
}

unsafe extern "C" fn get_next(stream: *mut ArrowArrayStream, out: *mut ArrowArray) -> c_int {
    // SAFETY: `stream` is ours and alive; `out` is writable per the interface.
    unsafe {
        let private = &mut *(*stream).private_data.cast::<StreamPrivate>();
        match private.batch.take() {
            Some(batch) => {
                let children = batch
                    .columns
                    .iter()
                    .map(|c| {
                        let child =
                            array(batch.len, vec![ptr::null(), c.data], Vec::new(), Arc::clone(&batch.owner));
                        Box::into_raw(Box::new(child))
                    })
                    .collect();
                out.write(array(batch.len, vec![ptr::null()], children, batch.owner));
            }
            None => {
                // End of stream: a released array.
                out.write(ArrowArray {
                    length: 0,
                    null_count: 0,
                    offset: 0,
                    n_buffers: 0,
                    n_children: 0,
                    buffers: ptr::null_mut(),
                    children: ptr::null_mut(),
                    dictionary: ptr::null_mut(),
                    release: None,
                    private_data: ptr::null_mut(),
                });
            }
        }
    }
    0
}

unsafe extern "C" fn get_last_error(stream: *mut ArrowArrayStream) -> *const c_char {
    // SAFETY: `stream` is ours and alive.
    unsafe { (*(*stream).private_data.cast::<StreamPrivate>()).error.as_ptr() }
}

unsafe extern "C" fn release_stream(stream: *mut ArrowArrayStream) {
    if stream.is_null() {
        return;
    }
    // SAFETY: `stream` was made by `stream()`; released once.
    unsafe {
        let s = &mut *stream;
        if s.release.is_none() {
            return;
        }
        drop(Box::from_raw(s.private_data.cast::<StreamPrivate>()));
        s.release = None;
        s.private_data = ptr::null_mut();
    }
}

/// The stream, owned by a capsule (transparent: the capsule pointer is the stream's).
#[repr(transparent)]
struct StreamBox(ArrowArrayStream);

// SAFETY: the stream's private data (column pointers into `Send + Sync` owners) is not
// tied to a thread; the Arrow interface allows moving a stream between threads.
unsafe impl Send for StreamBox {}

const CAPSULE_NAME: &CStr = c"arrow_array_stream";

/// An Arrow C stream of one batch with `batch`'s columns; its consumer releases it.
fn new_stream(batch: Batch) -> ArrowArrayStream {
    let private = Box::new(StreamPrivate {
        names_formats: batch.columns.iter().map(|c| (c.name, c.format)).collect(),
        batch: Some(batch),
        error: CString::default(),
    });
    ArrowArrayStream {
        get_schema: Some(get_schema),
        get_next: Some(get_next),
        get_last_error: Some(get_last_error),
        release: Some(release_stream),
        private_data: Box::into_raw(private).cast(),
    }
}

/// A PyCapsule `arrow_array_stream` holding one batch with `batch`'s columns.
pub fn stream_capsule<'py>(py: Python<'py>, batch: Batch) -> PyResult<Bound<'py, PyCapsule>> {
    let stream = new_stream(batch);
    PyCapsule::new_with_value_and_destructor(py, StreamBox(stream), CAPSULE_NAME, |mut s, _| {
        if let Some(release) = s.0.release {
            // SAFETY: not moved out by a consumer (it would have cleared `release`).
            unsafe { release(&mut s.0) }
        }
    })
}

/// The stream consumed as a C consumer (pyarrow, polars) does, in the orders the Arrow
/// specification allows; run under Miri (`scripts/miri.sh`), which checks every pointer
/// read, every release and that nothing leaks.
#[cfg(test)]
mod tests {
    use super::*;

    fn batch(values: &Arc<Vec<i64>>, prices: &Arc<Vec<f64>>) -> Batch {
        let owner: Arc<dyn Any + Send + Sync> = Arc::new((Arc::clone(values), Arc::clone(prices)));
        Batch {
            len: values.len(),
            columns: vec![
                Column { name: "open_time", format: "tsm:UTC", data: values.as_ptr().cast() },
                Column { name: "close", format: "g", data: prices.as_ptr().cast() },
            ],
            owner,
        }
    }

    /// The `i`th child's values buffer as a slice of `len` `T`s.
    ///
    /// # Safety
    /// `array` is a live, unreleased batch array whose child `i` holds `T`s.
    unsafe fn column<T: Copy>(array: &ArrowArray, i: usize) -> Vec<T> {
        // SAFETY: the caller's obligation; buffers[1] of a primitive array is its values.
        unsafe {
            let child = &**array.children.add(i);
            let values = (*child.buffers.add(1)).cast::<T>();
            std::slice::from_raw_parts(values, child.length as usize).to_vec()
        }
    }

    #[test]
    fn a_consumer_reads_the_schema_and_the_columns_without_a_copy() {
        let values = Arc::new(vec![1_704_067_200_000i64, 1_704_067_260_000, 1_704_067_320_000]);
        let prices = Arc::new(vec![42_000.5f64, 42_001.0, 41_999.25]);
        let mut stream = new_stream(batch(&values, &prices));
        // SAFETY: the calls follow the C stream interface: the stream is live until its
        // release, each output is released once, no pointer is read after its release.
        unsafe {
            let mut schema = std::mem::MaybeUninit::<ArrowSchema>::uninit();
            assert_eq!((stream.get_schema.unwrap())(&mut stream, schema.as_mut_ptr()), 0);
            let mut schema = schema.assume_init();
            assert_eq!(CStr::from_ptr(schema.format).to_str().unwrap(), "+s");
            let fields: Vec<(String, String)> = (0..schema.n_children as usize)
                .map(|i| {
                    let child = &**schema.children.add(i);
                    let text = |p: *const c_char| CStr::from_ptr(p).to_string_lossy().into_owned();
                    (text(child.name), text(child.format))
                })
                .collect();
            assert_eq!(fields, [("open_time".into(), "tsm:UTC".into()), ("close".into(), "g".into())]);
            (schema.release.unwrap())(&mut schema);
            assert!(schema.release.is_none());

            let mut array = std::mem::MaybeUninit::<ArrowArray>::uninit();
            assert_eq!((stream.get_next.unwrap())(&mut stream, array.as_mut_ptr()), 0);
            let mut array = array.assume_init();
            assert_eq!(array.length, 3);
            // Zero copy: the values buffer is the core's column itself.
            assert_eq!((*(**array.children).buffers.add(1)).cast::<i64>(), values.as_ptr());
            // The stream may be released before the array it gave out.
            (stream.release.unwrap())(&mut stream);
            drop((values, prices)); // the array's owner keeps the columns alive
            assert_eq!(column::<i64>(&array, 0)[2], 1_704_067_320_000);
            assert_eq!(column::<f64>(&array, 1), [42_000.5, 42_001.0, 41_999.25]);
            (array.release.unwrap())(&mut array);
            assert!(array.release.is_none());
        }
    }

    #[test]
    fn the_stream_ends_after_its_batch_and_releases_what_was_never_read() {
        let values = Arc::new(vec![7i64; 4]);
        let prices = Arc::new(vec![1.5f64; 4]);
        let mut stream = new_stream(batch(&values, &prices));
        // SAFETY: as above.
        unsafe {
            let mut first = std::mem::MaybeUninit::<ArrowArray>::uninit();
            (stream.get_next.unwrap())(&mut stream, first.as_mut_ptr());
            let mut first = first.assume_init();
            let mut end = std::mem::MaybeUninit::<ArrowArray>::uninit();
            (stream.get_next.unwrap())(&mut stream, end.as_mut_ptr());
            assert!(end.assume_init().release.is_none(), "a released array marks the end");
            assert_eq!(CStr::from_ptr((stream.get_last_error.unwrap())(&mut stream)).to_bytes(), b"");
            (first.release.unwrap())(&mut first);
            (stream.release.unwrap())(&mut stream);
        }
        // A stream released unread frees its batch.
        let mut unread = new_stream(batch(&values, &prices));
        // SAFETY: released once.
        unsafe { (unread.release.unwrap())(&mut unread) };
        assert_eq!(Arc::strong_count(&values), 1, "nothing holds the columns any more");
    }
}
