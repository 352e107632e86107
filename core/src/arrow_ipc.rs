//! The Arrow IPC streaming format (`application/vnd.apache.arrow.stream`, the `.arrow`
//! stream files pyarrow, polars and apache-arrow JS read), written from [`Batch`]es.
//!
//! Written here rather than with the arrow crates (a dozen crates and a long compile for
//! four column types): a stream is a schema message, one record-batch message per batch
//! and an end marker. Each message is `0xFFFFFFFF`, the length of its FlatBuffers
//! metadata, the metadata (`Message` of the Arrow format's `Message.fbs`/`Schema.fbs`,
//! metadata version V5), then the body: each column's validity bitmap (empty when it has
//! no nulls) and values, every buffer padded to 8 bytes, little-endian.
//! Spec: <https://arrow.apache.org/docs/format/Columnar.html#serialization-and-interprocess-communication-ipc>.

use std::io::{self, Write};

use flatbuffers::{FlatBufferBuilder, WIPOffset};

use crate::columns::{Batch, Values};

/// `MetadataVersion.V5`.
const METADATA_V5: i16 = 4;
/// `MessageHeader` union tags.
const HEADER_SCHEMA: u8 = 1;
const HEADER_RECORD_BATCH: u8 = 3;
/// `Type` union tags.
const TYPE_INT: u8 = 2;
const TYPE_FLOATING_POINT: u8 = 3;
const TYPE_UTF8: u8 = 5;
const TYPE_TIMESTAMP: u8 = 10;
/// `Precision.DOUBLE`, `TimeUnit.MILLISECOND`.
const PRECISION_DOUBLE: i16 = 2;
const UNIT_MILLISECOND: i16 = 1;
/// The continuation marker before every message.
const CONTINUATION: [u8; 4] = [0xFF; 4];

/// The vtable slot of a table's `n`-th field.
const fn slot(n: u16) -> u16 {
    4 + 2 * n
}

/// Writes an Arrow IPC stream: the schema with the first batch, then one record batch per
/// [`StreamWriter::write`], and the end marker on [`StreamWriter::finish`].
#[derive(Debug)]
pub struct StreamWriter<W: Write> {
    out: W,
    schema: Option<Vec<(&'static str, u8)>>,
}

impl<W: Write> StreamWriter<W> {
    /// A writer into `out`.
    pub fn new(out: W) -> Self {
        StreamWriter { out, schema: None }
    }

    /// Appends `batch` (its columns define the schema; later batches must match it).
    pub fn write(&mut self, batch: &Batch) -> io::Result<()> {
        let shape: Vec<(&'static str, u8)> =
            batch.columns.iter().map(|c| (c.name, type_tag(&c.values))).collect();
        match &self.schema {
            None => {
                write_message(&mut self.out, &schema_message(batch), &[])?;
                self.schema = Some(shape);
            }
            Some(schema) if *schema != shape => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "batch columns differ from the schema",
                ))
            }
            Some(_) => {}
        }
        let (metadata, body) = record_batch_message(batch);
        write_message(&mut self.out, &metadata, &body)
    }

    /// Writes the end-of-stream marker and returns the output; at least one batch must
    /// have been written (it carries the schema).
    pub fn finish(mut self) -> io::Result<W> {
        if self.schema.is_none() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "an Arrow stream needs at least one batch",
            ));
        }
        self.out.write_all(&CONTINUATION)?;
        self.out.write_all(&0i32.to_le_bytes())?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// A whole stream holding one batch, in memory.
pub fn stream_bytes(batch: &Batch) -> Vec<u8> {
    let mut writer = StreamWriter::new(Vec::new());
    // Writing to a Vec cannot fail, and the one batch carries the schema.
    match writer.write(batch).and_then(|()| writer.finish()) {
        Ok(bytes) => bytes,
        Err(e) => unreachable!("in-memory Arrow stream: {e}"),
    }
}

fn type_tag(values: &Values) -> u8 {
    match values {
        Values::TimestampMs(_) => TYPE_TIMESTAMP,
        Values::Int64(_) | Values::UInt64(_) => TYPE_INT,
        Values::Float64(_) => TYPE_FLOATING_POINT,
        Values::Utf8(_) => TYPE_UTF8,
    }
}

/// One encapsulated message: marker, metadata length (padded so the body starts on an
/// 8-byte boundary), metadata, padding, body.
fn write_message(out: &mut impl Write, metadata: &[u8], body: &[u8]) -> io::Result<()> {
    let padded = (8 + metadata.len()).next_multiple_of(8) - 8;
    out.write_all(&CONTINUATION)?;
    out.write_all(&(padded as i32).to_le_bytes())?;
    out.write_all(metadata)?;
    out.write_all(&vec![0; padded - metadata.len()])?;
    out.write_all(body)
}

/// The `Message { header: Schema }` of a batch's columns.
fn schema_message(batch: &Batch) -> Vec<u8> {
    let mut fbb = FlatBufferBuilder::new();
    let fields: Vec<_> = batch
        .columns
        .iter()
        .map(|c| {
            let name = fbb.create_string(c.name);
            let ty = type_table(&mut fbb, &c.values);
            let children = fbb.create_vector::<WIPOffset<flatbuffers::UnionWIPOffset>>(&[]);
            let field = fbb.start_table();
            fbb.push_slot_always(slot(0), name);
            fbb.push_slot(slot(1), c.values.nullable(), false);
            fbb.push_slot(slot(2), type_tag(&c.values), 0);
            fbb.push_slot_always(slot(3), ty);
            fbb.push_slot_always(slot(5), children);
            fbb.end_table(field)
        })
        .collect();
    let fields = fbb.create_vector(&fields);
    let schema = fbb.start_table();
    fbb.push_slot_always(slot(1), fields);
    let schema = fbb.end_table(schema);
    finish_message(fbb, HEADER_SCHEMA, schema.as_union_value(), 0)
}

/// The type table of a column (`Int`, `FloatingPoint`, `Utf8`, `Timestamp`).
fn type_table(fbb: &mut FlatBufferBuilder<'_>, values: &Values) -> WIPOffset<flatbuffers::UnionWIPOffset> {
    let timezone = matches!(values, Values::TimestampMs(_)).then(|| fbb.create_string("UTC"));
    let table = fbb.start_table();
    match values {
        Values::TimestampMs(_) => {
            fbb.push_slot(slot(0), UNIT_MILLISECOND, 0);
            if let Some(tz) = timezone {
                fbb.push_slot_always(slot(1), tz);
            }
        }
        Values::Int64(_) | Values::UInt64(_) => {
            fbb.push_slot(slot(0), 64i32, 0);
            fbb.push_slot(slot(1), matches!(values, Values::Int64(_)), false);
        }
        Values::Float64(_) => fbb.push_slot(slot(0), PRECISION_DOUBLE, 0),
        Values::Utf8(_) => {}
    }
    fbb.end_table(table).as_union_value()
}

/// `Message { version: V5, header, bodyLength }`, finished.
fn finish_message(
    mut fbb: FlatBufferBuilder<'_>,
    header_type: u8,
    header: WIPOffset<flatbuffers::UnionWIPOffset>,
    body_length: i64,
) -> Vec<u8> {
    let message = fbb.start_table();
    fbb.push_slot(slot(0), METADATA_V5, 0);
    fbb.push_slot(slot(1), header_type, 0);
    fbb.push_slot_always(slot(2), header);
    fbb.push_slot(slot(3), body_length, 0);
    let message = fbb.end_table(message);
    fbb.finish(message, None);
    fbb.finished_data().to_vec()
}

/// The body of a batch and where each buffer lies in it.
#[derive(Default)]
struct Body {
    bytes: Vec<u8>,
    /// `(offset, length)` of each buffer.
    buffers: Vec<(i64, i64)>,
    /// `(length, null count)` of each column.
    nodes: Vec<(i64, i64)>,
}

impl Body {
    /// Appends one buffer, padded to 8 bytes.
    fn buffer(&mut self, data: &[u8]) {
        self.buffers.push((self.bytes.len() as i64, data.len() as i64));
        self.bytes.extend_from_slice(data);
        self.bytes.resize(self.bytes.len().next_multiple_of(8), 0);
    }

    /// Appends a column: node, validity bitmap (empty without nulls), value buffers.
    fn column(&mut self, values: &Values) {
        let len = values.len();
        let le = |v: &mut Vec<u8>, bytes: &[u8]| v.extend_from_slice(bytes);
        let mut data = Vec::with_capacity(len * 8);
        let mut nulls = 0;
        let mut validity = Vec::new();
        match values {
            Values::TimestampMs(v) | Values::Int64(v) => {
                v.iter().for_each(|x| le(&mut data, &x.to_le_bytes()))
            }
            Values::Float64(v) => v.iter().for_each(|x| le(&mut data, &x.to_le_bytes())),
            Values::UInt64(v) => {
                validity = vec![0u8; len.div_ceil(8)];
                for (i, x) in v.iter().enumerate() {
                    match x {
                        Some(_) => validity[i / 8] |= 1 << (i % 8),
                        None => nulls += 1,
                    }
                    le(&mut data, &x.unwrap_or(0).to_le_bytes());
                }
            }
            Values::Utf8(v) => {
                let mut offsets = Vec::with_capacity((len + 1) * 4);
                let mut at = 0i32;
                le(&mut offsets, &at.to_le_bytes());
                for s in v {
                    data.extend_from_slice(s.as_bytes());
                    at += s.len() as i32;
                    le(&mut offsets, &at.to_le_bytes());
                }
                self.nodes.push((len as i64, 0));
                self.buffer(&[]);
                self.buffer(&offsets);
                self.buffer(&data);
                return;
            }
        }
        self.nodes.push((len as i64, nulls));
        self.buffer(if nulls > 0 { &validity } else { &[] });
        self.buffer(&data);
    }
}

/// A vector of two-long structs (`FieldNode`, `Buffer`), built back to front: the
/// layout of `n` structs is that of `2n` longs, with `n` as the vector's length.
fn struct_vector<'f>(
    fbb: &mut FlatBufferBuilder<'f>,
    pairs: &[(i64, i64)],
) -> WIPOffset<flatbuffers::Vector<'f, i64>> {
    fbb.start_vector::<i64>(pairs.len() * 2);
    for &(a, b) in pairs.iter().rev() {
        fbb.push(b);
        fbb.push(a);
    }
    fbb.end_vector::<i64>(pairs.len())
}

/// The `Message { header: RecordBatch }` of a batch and its body.
fn record_batch_message(batch: &Batch) -> (Vec<u8>, Vec<u8>) {
    let mut body = Body::default();
    batch.columns.iter().for_each(|c| body.column(&c.values));
    let mut fbb = FlatBufferBuilder::new();
    let nodes = struct_vector(&mut fbb, &body.nodes);
    let buffers = struct_vector(&mut fbb, &body.buffers);
    let record_batch = fbb.start_table();
    fbb.push_slot(slot(0), batch.rows() as i64, 0);
    fbb.push_slot_always(slot(1), nodes);
    fbb.push_slot_always(slot(2), buffers);
    let record_batch = fbb.end_table(record_batch);
    let metadata =
        finish_message(fbb, HEADER_RECORD_BATCH, record_batch.as_union_value(), body.bytes.len() as i64);
    (metadata, body.bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::columns::Column;

    fn batch() -> Batch {
        Batch {
            columns: vec![
                Column { name: "time", values: Values::TimestampMs(vec![1, 2, 3]) },
                Column { name: "n", values: Values::UInt64(vec![Some(7), None, Some(9)]) },
                Column { name: "side", values: Values::Utf8(vec!["buy", "sell", "buy"]) },
            ],
        }
    }

    #[test]
    fn messages_are_framed_and_aligned() {
        let bytes = stream_bytes(&batch());
        assert_eq!(&bytes[..4], &CONTINUATION);
        let schema_len = i32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize;
        assert_eq!((8 + schema_len) % 8, 0);
        let at = 8 + schema_len;
        assert_eq!(&bytes[at..at + 4], &CONTINUATION, "the record batch follows the schema");
        assert_eq!(&bytes[bytes.len() - 8..], &[0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0]);
        assert_eq!(bytes.len() % 8, 0);
    }

    #[test]
    fn the_body_holds_validity_offsets_and_values() {
        let mut body = Body::default();
        batch().columns.iter().for_each(|c| body.column(&c.values));
        assert_eq!(body.nodes, [(3, 0), (3, 1), (3, 0)]);
        // time: no validity, 24 bytes; n: 1-byte bitmap (padded to 8), 24 bytes;
        // side: no validity, 16 bytes of offsets, 10 bytes of text (padded to 16).
        let lengths: Vec<i64> = body.buffers.iter().map(|b| b.1).collect();
        assert_eq!(lengths, [0, 24, 1, 24, 0, 16, 10]);
        assert_eq!(body.bytes[24], 0b101, "7 and 9 valid, the middle one null");
        assert_eq!(body.bytes.len(), 24 + 8 + 24 + 16 + 16);
    }

    #[test]
    fn a_batch_of_another_shape_is_refused() {
        let mut writer = StreamWriter::new(Vec::new());
        writer.write(&batch()).unwrap();
        let other = Batch { columns: vec![Column { name: "time", values: Values::Float64(vec![]) }] };
        assert!(writer.write(&other).is_err());
        assert!(StreamWriter::new(Vec::new()).finish().is_err());
    }
}
