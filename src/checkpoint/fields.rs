//! The checkpoint's fields: little-endian numbers, flags, lists of sizes and named tensors,
//! written by [`Writer`] and read back by [`Reader`], which never reads past the end.

use super::Problem;
use crate::config::Choice;
use crate::tensor::Tensor;

/// Sizes are written as `u32`: no network of this crate comes near 4 billion units.
pub fn to_u32(n: usize) -> u32 {
    u32::try_from(n).expect("network sizes fit in u32")
}

/// Appends little-endian fields.
pub struct Writer(pub Vec<u8>);

impl Writer {
    pub fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    pub fn bool(&mut self, v: bool) {
        self.u8(u8::from(v));
    }
    pub fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub fn f64(&mut self, v: f64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub fn f32(&mut self, v: f32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub fn opt_f32(&mut self, v: Option<f32>) {
        self.bool(v.is_some());
        self.f32(v.unwrap_or(0.0));
    }
    pub fn opt_u64(&mut self, v: Option<usize>) {
        self.bool(v.is_some());
        self.u64(v.map_or(0, |n| n as u64));
    }
    pub fn sizes(&mut self, sizes: &[usize]) {
        self.u32(to_u32(sizes.len()));
        for &n in sizes {
            self.u32(to_u32(n));
        }
    }
    /// UTF-8 text, its length in bytes first.
    pub fn string(&mut self, text: &str) {
        self.u32(to_u32(text.len()));
        self.0.extend_from_slice(text.as_bytes());
    }
    pub fn tensors(&mut self, names: &[String], tensors: &[&Tensor]) {
        self.u32(to_u32(tensors.len()));
        for (name, tensor) in names.iter().zip(tensors) {
            self.string(name);
            self.sizes(tensor.shape());
            for &x in tensor.data() {
                self.f32(x);
            }
        }
    }
}

/// Reads little-endian fields; running out of bytes is an error, never a panic.
pub struct Reader<'a> {
    pub bytes: &'a [u8],
    pub at: usize,
}

impl Reader<'_> {
    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.at
    }
    pub fn take<const N: usize>(&mut self) -> Result<[u8; N], Problem> {
        let field = self.bytes.get(self.at..self.at + N).ok_or_else(|| {
            Problem::Malformed(format!("a field runs past the end at byte {}", self.at))
        })?;
        self.at += N;
        Ok(field.try_into().expect("N bytes"))
    }
    pub fn u8(&mut self) -> Result<u8, Problem> {
        Ok(self.take::<1>()?[0])
    }
    pub fn bool(&mut self) -> Result<bool, Problem> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(Problem::Malformed(format!("{other} where a flag (0 or 1) belongs"))),
        }
    }
    pub fn u32(&mut self) -> Result<u32, Problem> {
        Ok(u32::from_le_bytes(self.take()?))
    }
    pub fn u64(&mut self) -> Result<u64, Problem> {
        Ok(u64::from_le_bytes(self.take()?))
    }
    pub fn usize(&mut self) -> Result<usize, Problem> {
        let v = self.u64()?;
        usize::try_from(v).map_err(|_| Problem::Malformed(format!("{v} does not fit this machine")))
    }
    pub fn f64(&mut self) -> Result<f64, Problem> {
        Ok(f64::from_le_bytes(self.take()?))
    }
    pub fn f32(&mut self) -> Result<f32, Problem> {
        Ok(f32::from_le_bytes(self.take()?))
    }
    pub fn opt_f32(&mut self) -> Result<Option<f32>, Problem> {
        let present = self.bool()?;
        let value = self.f32()?;
        Ok(present.then_some(value))
    }
    pub fn opt_usize(&mut self) -> Result<Option<usize>, Problem> {
        let present = self.bool()?;
        let value = self.usize()?;
        Ok(present.then_some(value))
    }
    /// A [`Choice`] stored as its position in its table.
    pub fn choice<T: Choice>(&mut self, what: &str) -> Result<T, Problem> {
        let code = self.u8()?;
        T::from_code(code).ok_or_else(|| Problem::Malformed(format!("{what} code {code}")))
    }

    /// A count followed by that many `u32`; the count is checked against the bytes left
    /// before anything is allocated.
    pub fn sizes(&mut self) -> Result<Vec<usize>, Problem> {
        let count = self.u32()? as usize;
        if count * 4 > self.remaining() {
            return Err(Problem::Malformed(format!("a list of {count} sizes runs past the end")));
        }
        (0..count).map(|_| Ok(self.u32()? as usize)).collect()
    }
    /// UTF-8 text, its length first, inside the bytes left.
    pub fn string(&mut self, what: &str) -> Result<String, Problem> {
        let length = self.u32()? as usize;
        let start = self.at;
        let text = start
            .checked_add(length)
            .and_then(|end| self.bytes.get(start..end))
            .and_then(|b| std::str::from_utf8(b).ok())
            .ok_or_else(|| Problem::Malformed(format!("{what} at byte {start}")))?;
        self.at += length;
        Ok(text.to_string())
    }
    /// The tensors of one network, which must carry the names the network gives its
    /// parameters, in the same order.
    pub fn tensors(&mut self, names: &[String], network: &str) -> Result<Vec<Tensor>, Problem> {
        let count = self.u32()? as usize;
        if count != names.len() {
            return Err(Problem::Sizes(format!(
                "the {network} has {} parameter tensors, the file stores {count}",
                names.len()
            )));
        }
        let mut tensors = Vec::with_capacity(count);
        for expected in names {
            let length = self.u32()? as usize;
            let start = self.at;
            let name = self
                .bytes
                .get(start..start + length)
                .and_then(|b| std::str::from_utf8(b).ok())
                .ok_or_else(|| Problem::Malformed(format!("tensor name at byte {start}")))?;
            self.at += length;
            if name != expected {
                return Err(Problem::Sizes(format!(
                    "the {network}'s parameter {expected} is stored as '{name}'"
                )));
            }
            let shape = self.sizes()?;
            let len = shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
            let len =
                len.filter(|&n| n.saturating_mul(4) <= self.remaining()).ok_or_else(|| {
                    Problem::Malformed(format!(
                        "{network} {name} of shape {shape:?} runs past the end"
                    ))
                })?;
            let data = (0..len).map(|_| self.f32()).collect::<Result<Vec<f32>, Problem>>()?;
            // A writer saves only finite networks: anything else was altered after the fact,
            // and a NaN behind a ReLU that never fires could go unnoticed for a long time.
            if let Some(at) = data.iter().position(|x| !x.is_finite()) {
                return Err(Problem::NonFinite {
                    network: network.to_string(),
                    tensor: name.to_string(),
                    index: unravel(at, &shape),
                    value: data[at],
                });
            }
            tensors.push(Tensor::from_vec(&shape, data));
        }
        Ok(tensors)
    }
}

/// The position `[i, j, …]` of the `flat`-th value of a row-major tensor of `shape`.
fn unravel(mut flat: usize, shape: &[usize]) -> Vec<usize> {
    let mut index = vec![0; shape.len()];
    for (i, &d) in shape.iter().enumerate().rev() {
        index[i] = flat % d;
        flat /= d;
    }
    index
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_row_major() {
        assert_eq!(unravel(0, &[3, 4]), [0, 0]);
        assert_eq!(unravel(5, &[3, 4]), [1, 1]);
        assert_eq!(unravel(11, &[3, 4]), [2, 3]);
        assert_eq!(unravel(7, &[8]), [7]);
    }
}
