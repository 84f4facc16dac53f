//! Stage 7: write records out, one [`Sink`] per format.

use crate::types::Record;
use std::io::Write;

/// Receives records in input order.
pub trait Sink: Send {
    fn write(&mut self, record: &Record) -> std::io::Result<()>;
    /// Flushes everything; called once after the last record.
    fn finish(&mut self) -> std::io::Result<()>;
}

/// One JSON object per line. Each record is written as a complete line and flushed, so a
/// reader (or a resumed run) never sees half a record from a live process.
pub struct JsonlSink<W: Write + Send> {
    out: W,
    line: Vec<u8>,
}

impl<W: Write + Send> JsonlSink<W> {
    pub fn new(out: W) -> Self {
        JsonlSink {
            out,
            line: Vec::with_capacity(16 * 1024),
        }
    }
}

impl<W: Write + Send> Sink for JsonlSink<W> {
    fn write(&mut self, record: &Record) -> std::io::Result<()> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, record)?;
        self.line.push(b'\n');
        self.out.write_all(&self.line)?;
        self.out.flush()
    }

    fn finish(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}
