//! Every column type arrow's IPC writer produces reads back through `open_fragment`: the
//! layout checks run before decoding (`ipc_check`) must accept arrow's own files, sliced and
//! with nulls, not only the shapes oxvec's tests happen to write.

use arrow::array::*;
use arrow::buffer::{OffsetBuffer, ScalarBuffer};
use arrow::datatypes::*;
use oxvec_storage::{open_fragment, FragmentWriter};
use std::sync::Arc;

fn columns() -> Vec<(&'static str, ArrayRef)> {
    let n = 37;
    let ints = Int32Array::from_iter((0..n).map(|i| (i % 5 != 0).then_some(i)));
    let strings =
        StringArray::from_iter((0..n).map(|i| (i % 3 != 0).then(|| "x".repeat(i as usize % 7))));
    let list = ListArray::from_iter_primitive::<Int32Type, _, _>(
        (0..n).map(|i| (i % 4 != 0).then(|| (0..i % 3).map(Some).collect::<Vec<_>>())),
    );
    let vectors = FixedSizeListArray::new(
        Arc::new(Field::new_list_field(DataType::Float32, false)),
        3,
        Arc::new(Float32Array::from_iter_values((0..n * 3).map(|i| i as f32))),
        None,
    );
    let structs = StructArray::from(vec![
        (
            Arc::new(Field::new("a", DataType::Int32, true)),
            Arc::new(ints.clone()) as ArrayRef,
        ),
        (
            Arc::new(Field::new("b", DataType::Utf8, true)),
            Arc::new(strings.clone()) as ArrayRef,
        ),
    ]);
    let mut map = MapBuilder::new(None, StringBuilder::new(), Int64Builder::new());
    for i in 0..n {
        for k in 0..i % 3 {
            map.keys().append_value(format!("k{k}"));
            map.values().append_value(i64::from(k));
        }
        map.append(i % 6 != 0).unwrap();
    }
    let dictionary: DictionaryArray<Int8Type> = (0..n)
        .map(|i| ["red", "green", "blue"][i as usize % 3])
        .collect();
    let union_fields: UnionFields = [
        (0, Arc::new(Field::new("i", DataType::Int32, false))),
        (1, Arc::new(Field::new("s", DataType::Utf8, false))),
    ]
    .into_iter()
    .collect();
    let type_ids: ScalarBuffer<i8> = (0..n).map(|i| (i % 2) as i8).collect();
    let dense = UnionArray::try_new(
        union_fields.clone(),
        type_ids.clone(),
        Some((0..n).map(|i| i / 2).collect()),
        vec![
            Arc::new(Int32Array::from_iter_values(0..(n + 1) / 2)),
            Arc::new(StringArray::from_iter_values(
                (0..n / 2).map(|i| i.to_string()),
            )),
        ],
    )
    .unwrap();
    let sparse = UnionArray::try_new(
        union_fields,
        type_ids,
        None,
        vec![
            Arc::new(Int32Array::from_iter_values(0..n)),
            Arc::new(StringArray::from_iter_values((0..n).map(|i| i.to_string()))),
        ],
    )
    .unwrap();
    let runs = RunArray::<Int32Type>::try_new(
        &Int32Array::from_iter_values([10, 20, n]),
        &StringArray::from(vec!["a", "b", "c"]),
    )
    .unwrap();
    let large_list = LargeListArray::new(
        Arc::new(Field::new_list_field(DataType::Utf8, true)),
        OffsetBuffer::from_lengths((0..n).map(|i| i as usize % 2)),
        Arc::new(StringArray::from_iter(
            (0..n).map(|i| (i % 2 == 0).then(|| i.to_string())),
        )),
        None,
    );
    vec![
        ("null", Arc::new(NullArray::new(n as usize))),
        (
            "bool",
            Arc::new(BooleanArray::from_iter(
                (0..n).map(|i| (i % 7 != 0).then_some(i % 2 == 0)),
            )),
        ),
        (
            "i8",
            Arc::new(Int8Array::from_iter_values((0..n).map(|i| i as i8))),
        ),
        (
            "u16",
            Arc::new(UInt16Array::from_iter_values((0..n).map(|i| i as u16))),
        ),
        ("i32", Arc::new(ints)),
        (
            "u64",
            Arc::new(UInt64Array::from_iter_values((0..n).map(|i| i as u64))),
        ),
        (
            "f16",
            Arc::new(Float16Array::from_iter_values(
                (0..n).map(|i| half::f16::from_f32(i as f32)),
            )),
        ),
        (
            "f64",
            Arc::new(Float64Array::from_iter(
                (0..n).map(|i| (i % 4 != 0).then_some(f64::from(i))),
            )),
        ),
        (
            "decimal128",
            Arc::new(Decimal128Array::from_iter_values((0..n).map(i128::from))),
        ),
        (
            "decimal256",
            Arc::new(Decimal256Array::from_iter_values((0..n).map(i256::from))),
        ),
        ("date32", Arc::new(Date32Array::from_iter_values(0..n))),
        (
            "timestamp",
            Arc::new(TimestampMicrosecondArray::from_iter_values(
                (0..n).map(i64::from),
            )),
        ),
        (
            "time32",
            Arc::new(Time32SecondArray::from_iter_values(0..n)),
        ),
        (
            "duration",
            Arc::new(DurationNanosecondArray::from_iter_values(
                (0..n).map(i64::from),
            )),
        ),
        (
            "interval",
            Arc::new(IntervalMonthDayNanoArray::from_iter_values(
                (0..n).map(|i| IntervalMonthDayNano::new(i, i, i64::from(i))),
            )),
        ),
        ("utf8", Arc::new(strings)),
        (
            "large_utf8",
            Arc::new(LargeStringArray::from_iter_values(
                (0..n).map(|i| i.to_string()),
            )),
        ),
        (
            "binary",
            Arc::new(BinaryArray::from_iter_values(
                (0..n).map(|i| vec![i as u8; i as usize % 5]),
            )),
        ),
        (
            "large_binary",
            Arc::new(LargeBinaryArray::from_iter_values(
                (0..n).map(|i| vec![i as u8; 2]),
            )),
        ),
        (
            "fixed_binary",
            Arc::new(FixedSizeBinaryArray::try_from_iter((0..n).map(|i| [i as u8; 3])).unwrap()),
        ),
        (
            "utf8_view",
            Arc::new(StringViewArray::from_iter_values(
                (0..n).map(|i| format!("a string longer than twelve bytes {i}")),
            )),
        ),
        (
            "binary_view",
            Arc::new(BinaryViewArray::from_iter_values(
                (0..n).map(|i| vec![i as u8; i as usize % 20]),
            )),
        ),
        ("list", Arc::new(list)),
        ("large_list", Arc::new(large_list)),
        ("vector", Arc::new(vectors)),
        ("struct", Arc::new(structs)),
        ("map", Arc::new(map.finish())),
        ("dictionary", Arc::new(dictionary)),
        ("dense_union", Arc::new(dense)),
        ("sparse_union", Arc::new(sparse)),
        ("run_end", Arc::new(runs)),
    ]
}

#[test]
fn every_column_type_reads_back() {
    let cols = columns();
    let schema = Arc::new(Schema::new(
        cols.iter()
            .map(|(name, a)| Field::new(*name, a.data_type().clone(), true))
            .collect::<Vec<_>>(),
    ));
    let batch =
        RecordBatch::try_new(schema.clone(), cols.into_iter().map(|(_, a)| a).collect()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let mut w = FragmentWriter::create(tmp.path(), &schema).unwrap();
    // Whole, then sliced at an odd offset: sliced arrays are written with rebased offsets and
    // bitmaps, the shapes most likely to trip a layout check.
    w.write(&batch).unwrap();
    w.write(&batch.slice(3, 29)).unwrap();
    let meta = w.finish().unwrap();
    let (read_schema, batches) = open_fragment(&tmp.path().join(&meta.file), &meta).unwrap();
    assert_eq!(read_schema.fields().len(), schema.fields().len());
    assert_eq!(batches.len(), 2);
    assert_eq!(batches[0], batch);
    assert_eq!(batches[1], batch.slice(3, 29));
}
