//! Layout checks on one Arrow IPC block, run before arrow's decoder sees it.
//!
//! arrow-ipc trusts a message's buffer table: it slices buffers without bounds checks, and it
//! reinterprets them as typed slices behind assertions, so a fragment that passes its checksum
//! but was written wrong would panic instead of failing (the fragment fuzz target found three
//! such inputs). Walking the schema the way the decoder does, every buffer is checked to lie
//! inside the body, to start 8-byte aligned (the IPC format requires it, and arrow's writer
//! aligns to 64) and to hold whole elements of its type. A file arrow's writer produced always
//! passes; anything else is reported as corrupt.

use arrow::datatypes::{DataType, Schema, UnionMode};
use arrow::ipc::{FieldNode, MetadataVersion, RecordBatch as IpcBatch};

type Check<T = ()> = std::result::Result<T, String>;

/// Byte ranges `(start, len)` in the file.
pub(crate) type Ranges = Vec<(u64, u64)>;

/// Checks the block `bytes` (metadata, then body) of a record or dictionary batch, and
/// returns where each top-level column's buffers lie in the file (a record batch; a
/// dictionary batch's buffers are attributed to no column).
///
/// `block_start` is the block's offset in the file, whose mapping is page aligned.
pub(crate) fn check_block(
    bytes: &[u8],
    meta_len: i32,
    body_len: i64,
    block_start: u64,
    schema: &Schema,
    version: MetadataVersion,
) -> Check<Vec<Ranges>> {
    let meta_len = usize::try_from(meta_len).map_err(|_| "negative metadata length")?;
    let body_len = u64::try_from(body_len).map_err(|_| "negative body length")?;
    let meta = bytes
        .get(..meta_len)
        .ok_or("metadata extends past the block")?;
    // An encapsulated message: [0xFFFFFFFF] i32 length, then the flatbuffer.
    let at = if meta.get(..4) == Some(&[0xff; 4][..]) {
        4
    } else {
        0
    };
    let len_bytes: [u8; 4] = meta
        .get(at..at + 4)
        .and_then(|b| b.try_into().ok())
        .ok_or("short message header")?;
    let len =
        usize::try_from(i32::from_le_bytes(len_bytes)).map_err(|_| "negative message length")?;
    let fb = meta
        .get(at + 4..at + 4 + len)
        .ok_or("message extends past its metadata")?;
    let message = arrow::ipc::root_as_message(fb).map_err(|e| format!("bad message: {e}"))?;
    let is_record = message.header_as_record_batch().is_some();
    let (batch, types) = if let Some(rb) = message.header_as_record_batch() {
        (rb, schema.fields().iter().map(|f| f.data_type()).collect())
    } else if let Some(d) = message.header_as_dictionary_batch() {
        #[expect(
            deprecated,
            reason = "arrow's decoder finds the value type the same way"
        )]
        let field = *schema
            .fields_with_dict_id(d.id())
            .first()
            .ok_or_else(|| format!("dictionary {} is not in the schema", d.id()))?;
        let DataType::Dictionary(_, value) = field.data_type() else {
            return Err(format!(
                "dictionary {} names a non-dictionary column",
                d.id()
            ));
        };
        (
            d.data().ok_or("dictionary batch without data")?,
            vec![&**value],
        )
    } else {
        return Err("block holds neither a record nor a dictionary batch".into());
    };
    if batch.compression().is_some() {
        return Err("compressed buffers (fragments are written uncompressed)".into());
    }
    let mut walk = Walk {
        batch,
        next_node: 0,
        next_buffer: 0,
        next_variadic: 0,
        body_len,
        body_start: block_start + meta_len as u64,
        union_validity: version < MetadataVersion::V5,
        ranges: Vec::new(),
    };
    let mut columns = Vec::with_capacity(types.len());
    for t in types {
        walk.array(t)?;
        columns.push(std::mem::take(&mut walk.ranges));
    }
    if !is_record {
        columns.clear();
    }
    Ok(columns)
}

/// A cursor over a batch's field nodes and buffers, consumed in the decoder's order.
struct Walk<'a> {
    batch: IpcBatch<'a>,
    next_node: usize,
    next_buffer: usize,
    next_variadic: usize,
    body_len: u64,
    body_start: u64,
    /// Metadata before V5 gives unions a validity buffer.
    union_validity: bool,
    /// The file ranges of the buffers walked since the last column.
    ranges: Ranges,
}

impl Walk<'_> {
    /// The next field node's length.
    fn node(&mut self) -> Check<u64> {
        let nodes = self.batch.nodes().ok_or("batch without field nodes")?;
        if self.next_node >= nodes.len() {
            return Err("fewer field nodes than the schema has arrays".into());
        }
        let node: &FieldNode = nodes.get(self.next_node);
        self.next_node += 1;
        if node.null_count() < 0 || node.null_count() > node.length() {
            return Err(format!(
                "field node with {} nulls in {} rows",
                node.null_count(),
                node.length()
            ));
        }
        Ok(node.length() as u64)
    }

    /// Checks the next buffer holds whole `width`-byte elements and returns its length.
    fn buffer(&mut self, width: usize) -> Check<u64> {
        let buffers = self.batch.buffers().ok_or("batch without buffers")?;
        if self.next_buffer >= buffers.len() {
            return Err("fewer buffers than the schema needs".into());
        }
        let b = buffers.get(self.next_buffer);
        self.next_buffer += 1;
        let (off, len) = (b.offset(), b.length());
        let (Ok(start), Ok(n)) = (u64::try_from(off), u64::try_from(len)) else {
            return Err(format!("buffer ({off}, {len}) has a negative extent"));
        };
        if start.checked_add(n).is_none_or(|end| end > self.body_len) {
            return Err(format!(
                "a buffer ({off}, {len}) lies outside the {}-byte body",
                self.body_len
            ));
        }
        if n > 0 && !(self.body_start + start).is_multiple_of(8) {
            return Err(format!("buffer at body offset {off} is not 8-byte aligned"));
        }
        if !n.is_multiple_of(width as u64) {
            return Err(format!(
                "a {len}-byte buffer does not hold whole {width}-byte values"
            ));
        }
        if n > 0 {
            self.ranges.push((self.body_start + start, n));
        }
        Ok(n)
    }

    /// A validity or boolean bitmap: any length.
    fn bitmap(&mut self) -> Check {
        self.buffer(1).map(drop)
    }

    fn array(&mut self, t: &DataType) -> Check {
        use DataType::*;
        match t {
            Null => self.node().map(drop),
            Boolean => {
                self.node()?;
                self.bitmap()?;
                self.bitmap()
            }
            Utf8 | Binary | LargeUtf8 | LargeBinary => {
                self.node()?;
                self.bitmap()?;
                self.buffer(offset_width(t))?;
                self.buffer(1).map(drop)
            }
            Utf8View | BinaryView => {
                let counts = self.batch.variadicBufferCounts();
                let data_buffers = counts
                    .filter(|c| self.next_variadic < c.len())
                    .map(|c| c.get(self.next_variadic))
                    .ok_or("a view column without its variadic buffer count")?;
                self.next_variadic += 1;
                self.node()?;
                self.bitmap()?;
                self.buffer(16)?;
                let data_buffers =
                    usize::try_from(data_buffers).map_err(|_| "negative variadic buffer count")?;
                for _ in 0..data_buffers {
                    self.buffer(1)?;
                }
                Ok(())
            }
            FixedSizeBinary(_) => {
                self.node()?;
                self.bitmap()?;
                self.buffer(1).map(drop)
            }
            List(child) | LargeList(child) | Map(child, _) => {
                self.node()?;
                self.bitmap()?;
                self.buffer(offset_width(t))?;
                self.array(child.data_type())
            }
            ListView(child) | LargeListView(child) => {
                self.node()?;
                self.bitmap()?;
                self.buffer(offset_width(t))?;
                self.buffer(offset_width(t))?;
                self.array(child.data_type())
            }
            FixedSizeList(child, size) => {
                // arrow multiplies rows by the list size with an overflow `expect`.
                let rows = self.node()?;
                let size = u64::try_from(*size).map_err(|_| "negative list size")?;
                if rows.checked_mul(size).is_none_or(|n| n > i64::MAX as u64) {
                    return Err(format!("{rows} lists of {size} values overflow"));
                }
                self.bitmap()?;
                self.array(child.data_type())
            }
            Struct(children) => {
                self.node()?;
                self.bitmap()?;
                children.iter().try_for_each(|c| self.array(c.data_type()))
            }
            RunEndEncoded(run_ends, values) => {
                self.node()?;
                self.array(run_ends.data_type())?;
                self.array(values.data_type())
            }
            Dictionary(key, _) => {
                self.node()?;
                self.bitmap()?;
                let width = key.primitive_width().ok_or("non-integer dictionary key")?;
                self.buffer(width).map(drop)
            }
            Union(children, mode) => {
                // The decoder slices type ids (and dense offsets) to the node's length
                // without checking, so these buffers must be long enough.
                let rows = self.node()?;
                if self.union_validity {
                    self.bitmap()?;
                }
                if self.buffer(1)? < rows {
                    return Err(format!("union type ids shorter than its {rows} rows"));
                }
                if *mode == UnionMode::Dense {
                    let need = rows.checked_mul(4).ok_or("union row count overflows")?;
                    if self.buffer(4)? < need {
                        return Err(format!("union offsets shorter than its {rows} rows"));
                    }
                }
                children
                    .iter()
                    .try_for_each(|(_, c)| self.array(c.data_type()))
            }
            primitive => {
                let width = primitive
                    .primitive_width()
                    .ok_or_else(|| format!("unsupported column type {primitive}"))?;
                self.node()?;
                self.bitmap()?;
                self.buffer(width).map(drop)
            }
        }
    }
}

fn offset_width(t: &DataType) -> usize {
    match t {
        DataType::LargeUtf8
        | DataType::LargeBinary
        | DataType::LargeList(_)
        | DataType::LargeListView(_) => 8,
        _ => 4,
    }
}
