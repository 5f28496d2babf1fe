//! Kafka record batches (magic v2), uncompressed, framed exactly as aiokafka's
//! `DefaultRecordBatchBuilder` frames them: same records, same cut between batches.
//!
//! The producer fields are left unset (-1) and the CRC zero: the Python side compresses the
//! batch and writes its checksum (`streamforge.bus.batches`), as it does for its own batches.

/// Bytes of a v2 batch header.
pub const HEADER_BYTES: usize = 61;

/// Appends Kafka's zigzag varint of `value` to `out`.
fn put_varint(out: &mut Vec<u8>, value: i64) {
    let mut v = ((value << 1) ^ (value >> 63)) as u64;
    while v >= 0x80 {
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Bytes of the zigzag varint of `value`.
fn varint_size(value: i64) -> usize {
    let mut v = ((value << 1) ^ (value >> 63)) as u64;
    let mut size = 1;
    while v >= 0x80 {
        v >>= 7;
        size += 1;
    }
    size
}

/// Batches of records that all share one key and one timestamp, each batch at most about
/// `max_batch_bytes` before compression (a single larger record makes a batch of its own).
pub struct BatchWriter<'k> {
    key: Option<&'k [u8]>,
    timestamp_ms: i64,
    max_batch_bytes: usize,
    current: Vec<u8>,
    records: usize,
    done: Vec<(Vec<u8>, usize)>,
    body: Vec<u8>,
}

impl<'k> BatchWriter<'k> {
    pub fn new(key: Option<&'k [u8]>, timestamp_ms: i64, max_batch_bytes: usize) -> Self {
        BatchWriter {
            key,
            timestamp_ms,
            max_batch_bytes,
            current: vec![0; HEADER_BYTES],
            records: 0,
            done: Vec::new(),
            body: Vec::with_capacity(512),
        }
    }

    /// Appends a record whose value is `value`.
    pub fn append(&mut self, value: &[u8]) {
        self.frame(value);
        let required = self.body.len() + varint_size(self.body.len() as i64);
        if self.records > 0 && required + self.current.len() > self.max_batch_bytes {
            self.close();
            self.frame(value); // the offset delta restarts at zero in the new batch
        }
        put_varint(&mut self.current, self.body.len() as i64);
        self.current.extend_from_slice(&self.body);
        self.records += 1;
    }

    /// The batches, each with its record count.
    pub fn finish(mut self) -> Vec<(Vec<u8>, usize)> {
        if self.records > 0 {
            self.close();
        }
        self.done
    }

    /// Writes the record's body (everything after its length) into `self.body`.
    fn frame(&mut self, value: &[u8]) {
        let body = &mut self.body;
        body.clear();
        body.push(0); // attributes
        put_varint(body, 0); // timestamp delta: every record has the batch's timestamp
        put_varint(body, self.records as i64); // offset delta
        match self.key {
            Some(key) => {
                put_varint(body, key.len() as i64);
                body.extend_from_slice(key);
            }
            None => put_varint(body, -1),
        }
        put_varint(body, value.len() as i64);
        body.extend_from_slice(value);
        put_varint(body, 0); // no headers
    }

    fn close(&mut self) {
        let mut batch = std::mem::replace(&mut self.current, vec![0; HEADER_BYTES]);
        let length = (batch.len() - 12) as i32;
        let last_offset_delta = (self.records - 1) as i32;
        let mut header = Vec::with_capacity(HEADER_BYTES);
        header.extend_from_slice(&0i64.to_be_bytes()); // base offset: the broker sets it
        header.extend_from_slice(&length.to_be_bytes());
        header.extend_from_slice(&(-1i32).to_be_bytes()); // partition leader epoch
        header.push(2); // magic
        header.extend_from_slice(&0u32.to_be_bytes()); // CRC: written when sealed
        header.extend_from_slice(&0i16.to_be_bytes()); // attributes: no codec yet
        header.extend_from_slice(&last_offset_delta.to_be_bytes());
        header.extend_from_slice(&self.timestamp_ms.to_be_bytes()); // first timestamp
        header.extend_from_slice(&self.timestamp_ms.to_be_bytes()); // max timestamp
        header.extend_from_slice(&(-1i64).to_be_bytes()); // producer id
        header.extend_from_slice(&(-1i16).to_be_bytes()); // producer epoch
        header.extend_from_slice(&(-1i32).to_be_bytes()); // base sequence
        header.extend_from_slice(&(self.records as i32).to_be_bytes());
        batch[..HEADER_BYTES].copy_from_slice(&header);
        self.done.push((batch, self.records));
        self.records = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_are_zigzag() {
        for (value, bytes) in [
            (0i64, vec![0u8]),
            (-1, vec![1]),
            (1, vec![2]),
            (63, vec![126]),
            (64, vec![128, 1]),
            (300, vec![216, 4]),
        ] {
            let mut out = Vec::new();
            put_varint(&mut out, value);
            assert_eq!(out, bytes, "{value}");
            assert_eq!(varint_size(value), bytes.len(), "{value}");
        }
    }

    #[test]
    fn a_batch_is_cut_before_it_would_pass_the_limit() {
        let mut writer = BatchWriter::new(Some(b"k"), 5, HEADER_BYTES + 3 * 13);
        for _ in 0..7 {
            writer.append(b"value"); // 12 bytes framed, 13 with its length
        }
        let counts: Vec<usize> = writer.finish().iter().map(|(_, n)| *n).collect();
        assert_eq!(counts, vec![3, 3, 1]);
    }

    #[test]
    fn a_record_larger_than_the_limit_makes_a_batch_of_its_own() {
        let mut writer = BatchWriter::new(None, 5, HEADER_BYTES + 4);
        writer.append(b"a large value");
        writer.append(b"another");
        let batches = writer.finish();
        assert_eq!(
            batches.iter().map(|(_, n)| *n).collect::<Vec<_>>(),
            vec![1, 1]
        );
        let (first, _) = &batches[0];
        assert_eq!(
            i32::from_be_bytes(first[8..12].try_into().unwrap()) as usize,
            first.len() - 12
        );
    }
}
