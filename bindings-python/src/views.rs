//! Read-only numpy arrays over the core's shared columns, without a copy.
//!
//! A result served from one cached segment points into that segment's columns (an `Arc`
//! the memory tier shares); a result spanning segments points into the one concatenation
//! the core made. Each array's base object is the `NativeTable` that holds the result, so
//! the columns live as long as any array over them, and numpy refuses to make an array
//! writeable whose base exposes no writeable buffer: the cache's values cannot be changed
//! from Python.

use std::os::raw::c_void;

use cryptocache::trades::Side;
use numpy::npyffi::{self, npy_intp, NPY_ARRAY_ALIGNED, NPY_ARRAY_C_CONTIGUOUS, PY_ARRAY_API};
use numpy::{Element, PyArrayDescrMethods};
use pyo3::exceptions::PyMemoryError;
use pyo3::prelude::*;

/// A read-only 1-D numpy array over `values`, kept alive by `owner`.
///
/// The caller promises that `owner` keeps `values` alive and unchanged for as long as it
/// lives: `NativeTable` is frozen and holds its result's columns behind an `Arc`.
pub(crate) fn view<'py, T: Element>(owner: &Bound<'py, PyAny>, values: &[T]) -> PyResult<Bound<'py, PyAny>> {
    array_over(owner, values.as_ptr(), values.len())
}

/// [`view`] of taker sides as an int8 array (`1` buy, `-1` sell).
pub(crate) fn side_view<'py>(owner: &Bound<'py, PyAny>, sides: &[Side]) -> PyResult<Bound<'py, PyAny>> {
    // `Side` is `#[repr(i8)]` with values 1 and -1: a slice of it is a slice of int8.
    array_over::<i8>(owner, sides.as_ptr().cast(), sides.len())
}

// The binding's numpy `unsafe`: building an array over memory it does not own, as numpy's
// own `frombuffer` does.
#[allow(unsafe_code)]
fn array_over<'py, T: Element>(
    owner: &Bound<'py, PyAny>,
    data: *const T,
    len: usize,
) -> PyResult<Bound<'py, PyAny>> {
    let py = owner.py();
    let mut dims = [npy_intp::try_from(len).map_err(|_| PyMemoryError::new_err("column too large"))?];
    // SAFETY: the GIL is held (`py`). `data` points at `len` initialised, aligned values of
    // `T` (a slice's pointer; dangling but never read when `len` is 0), whose dtype `T`
    // names. `PyArray_NewFromDescr` steals the dtype reference `into_dtype_ptr` hands
    // over; without `NPY_ARRAY_WRITEABLE` in the flags the array is read-only, so numpy
    // never writes through the `*mut` it is given. A NULL result is the pending error.
    let array = unsafe {
        let raw = PY_ARRAY_API.PyArray_NewFromDescr(
            py,
            npyffi::get_type_object(py, npyffi::NpyTypes::PyArray_Type),
            T::get_dtype(py).into_dtype_ptr(),
            1,
            dims.as_mut_ptr(),
            std::ptr::null_mut(),
            data.cast_mut().cast::<c_void>(),
            NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED,
            std::ptr::null_mut(),
        );
        Bound::from_owned_ptr_or_err(py, raw)?
    };
    // SAFETY: `array` is the ndarray just created and seen by nobody else yet; the call
    // steals the new reference to `owner` (also on failure), which keeps `data` alive
    // (the caller's promise).
    let status =
        unsafe { PY_ARRAY_API.PyArray_SetBaseObject(py, array.as_ptr().cast(), owner.clone().into_ptr()) };
    if status < 0 {
        return Err(PyErr::fetch(py));
    }
    Ok(array)
}
