//! Buffers whose size comes from the input, allocated fallibly: a size that does not fit in
//! memory is an error, never an abort of the whole process.

use crate::PqError;

/// A vector of `len` copies of `value`, or [`PqError::OutOfMemory`] naming `what` it was for.
pub fn filled_vec<T: Clone>(len: usize, value: T, what: &str) -> Result<Vec<T>, PqError> {
    let mut vec = Vec::new();
    grow(&mut vec, len, value, what)?;
    Ok(vec)
}

/// Resizes `vec` to at least `len` values (new ones are `value`), fallibly.
pub fn grow<T: Clone>(vec: &mut Vec<T>, len: usize, value: T, what: &str) -> Result<(), PqError> {
    if len > vec.len() {
        vec.try_reserve_exact(len - vec.len()).map_err(|_| out_of_memory::<T>(len, what))?;
        vec.resize(len, value);
    }
    Ok(())
}

/// Appends `value`, growing the vector fallibly (doubling) when it is full.
pub fn push<T>(vec: &mut Vec<T>, value: T, what: &str) -> Result<(), PqError> {
    if vec.len() == vec.capacity() {
        let more = vec.len().max(64);
        vec.try_reserve(more).map_err(|_| out_of_memory::<T>(vec.len() + more, what))?;
    }
    vec.push(value);
    Ok(())
}

fn out_of_memory<T>(len: usize, what: &str) -> PqError {
    // u128: the byte count of an absurd length must not overflow while it is being reported.
    PqError::OutOfMemory { what: what.to_owned(), bytes: len as u128 * std::mem::size_of::<T>() as u128 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_impossible_size_is_an_error() {
        let error = filled_vec(usize::MAX / 4, 0u32, "an id map").unwrap_err();
        assert!(matches!(error, PqError::OutOfMemory { .. }));
        assert!(error.to_string().starts_with("cannot allocate 18446744073709551612 bytes for an id map"));
        assert_eq!(filled_vec(3, 7u8, "x").unwrap(), [7, 7, 7]);
        let mut v = vec![1u8];
        grow(&mut v, 0, 0, "x").unwrap();
        assert_eq!(v, [1]);
    }
}
