//! Parquet output (`-o file.parquet`): zstd-compressed, one row group per part fetched,
//! the same columns as the CSV with times as UTC timestamp columns (see
//! [`cryptocache::columns`]). Uses the `parquet` crate's low-level writer only (no arrow
//! crates, one codec).

use std::io::Write;
use std::sync::Arc;

use cryptocache::columns::{Batch, Values};
use parquet::basic::{Compression, ZstdLevel};
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;

/// zstd level: the library's default trade-off of speed and size.
const ZSTD_LEVEL: i32 = 3;

/// A Parquet file being written.
pub struct ParquetWriter<W: Write + Send> {
    writer: SerializedFileWriter<W>,
}

impl<W: Write + Send> ParquetWriter<W> {
    /// Starts a file whose schema is that of `first` (later batches must match it).
    pub fn new(out: W, first: &Batch) -> Result<Self, ParquetError> {
        let schema = Arc::new(parse_message_type(&message_type(first))?);
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::try_new(ZSTD_LEVEL)?))
            .build();
        Ok(ParquetWriter { writer: SerializedFileWriter::new(out, schema, Arc::new(props))? })
    }

    /// Appends `batch` as one row group (nothing for an empty batch).
    pub fn write(&mut self, batch: &Batch) -> Result<(), ParquetError> {
        if batch.rows() == 0 {
            return Ok(());
        }
        let mut group = self.writer.next_row_group()?;
        for column in &batch.columns {
            let Some(mut writer) = group.next_column()? else {
                return Err(ParquetError::General("batch has more columns than the schema".into()));
            };
            match &column.values {
                Values::TimestampMs(v) | Values::Int64(v) => {
                    writer.typed::<Int64Type>().write_batch(v, None, None)?;
                }
                Values::UInt64(v) => {
                    // Unsigned 64-bit values are stored in INT64 (their bit pattern), as
                    // the INTEGER(64, false) logical type specifies.
                    let present: Vec<i64> = v.iter().flatten().map(|&n| n as i64).collect();
                    let levels: Vec<i16> = v.iter().map(|n| i16::from(n.is_some())).collect();
                    writer.typed::<Int64Type>().write_batch(&present, Some(&levels), None)?;
                }
                Values::Float64(v) => {
                    writer.typed::<DoubleType>().write_batch(v, None, None)?;
                }
                Values::Utf8(v) => {
                    let bytes: Vec<ByteArray> = v.iter().map(|s| ByteArray::from(*s)).collect();
                    writer.typed::<ByteArrayType>().write_batch(&bytes, None, None)?;
                }
            }
            writer.close()?;
        }
        group.close()?;
        Ok(())
    }

    /// Writes the footer and returns the output.
    pub fn finish(self) -> Result<W, ParquetError> {
        self.writer.into_inner()
    }
}

/// The Parquet schema of a batch's columns, in the message-type text syntax.
fn message_type(batch: &Batch) -> String {
    let fields: Vec<String> = batch
        .columns
        .iter()
        .map(|c| {
            let ty = match c.values {
                Values::TimestampMs(_) => "REQUIRED INT64 {} (TIMESTAMP(MILLIS,true))",
                Values::Int64(_) => "REQUIRED INT64 {}",
                Values::UInt64(_) => "OPTIONAL INT64 {} (INTEGER(64,false))",
                Values::Float64(_) => "REQUIRED DOUBLE {}",
                Values::Utf8(_) => "REQUIRED BYTE_ARRAY {} (STRING)",
            };
            ty.replace("{}", c.name) + ";"
        })
        .collect();
    format!("message cryptocache {{ {} }}", fields.join(" "))
}
