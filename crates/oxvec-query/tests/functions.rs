//! The filter language's functions, `||`, struct fields, list parameters and projections.

use arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, Int32Array, Int64Array, ListArray, RecordBatch,
    StringArray, StructArray,
};
use arrow::datatypes::{DataType, Field, Fields, Int32Type, Schema};
use oxvec_core::Error;
use oxvec_query::{filter_mask, Filter, Output, Projection, ScalarValue};
use std::sync::Arc;

fn batch() -> RecordBatch {
    let meta_fields = Fields::from(vec![
        Field::new("a", DataType::Int64, true),
        Field::new("lang", DataType::Utf8, true),
    ]);
    let meta = StructArray::new(
        meta_fields.clone(),
        vec![
            Arc::new(Int64Array::from(vec![Some(1), Some(2), None, Some(4)])) as ArrayRef,
            Arc::new(StringArray::from(vec![
                Some("en"),
                Some("fr"),
                Some("en"),
                Some("de"),
            ])),
        ],
        // Row 3's struct is NULL: its fields read as NULL whatever the children hold.
        Some(vec![true, true, true, false].into()),
    );
    let tags = ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
        Some(vec![Some(1), Some(2)]),
        Some(vec![]),
        None,
        Some(vec![Some(3), Some(4), Some(5)]),
    ]);
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int32, false),
        Field::new("name", DataType::Utf8, true),
        Field::new("score", DataType::Float64, true),
        Field::new("meta", DataType::Struct(meta_fields), true),
        Field::new("tags", tags.data_type().clone(), true),
    ]));
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int32Array::from(vec![1, 2, 3, 4])),
            Arc::new(StringArray::from(vec![
                Some("Apple pie"),
                Some("banana"),
                None,
                Some("ÉCLAIR"),
            ])),
            Arc::new(Float64Array::from(vec![
                Some(-1.5),
                Some(2.0),
                None,
                Some(-4.0),
            ])),
            Arc::new(meta),
            Arc::new(tags),
        ],
    )
    .unwrap()
}

fn rows(sql: &str, params: &[ScalarValue]) -> Vec<i32> {
    let b = batch();
    let f = Filter::compile(sql, params, b.schema_ref()).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let mask = filter_mask(&f.expr, &b).unwrap();
    let ids = b.column(0).as_primitive::<Int32Type>();
    (0..b.num_rows())
        .filter(|&i| mask.value(i))
        .map(|i| ids.value(i))
        .collect()
}

fn error(sql: &str, params: &[ScalarValue]) -> String {
    let b = batch();
    match Filter::compile(sql, params, b.schema_ref()) {
        Ok(_) => panic!("{sql} compiled"),
        Err(e @ Error::Filter { .. }) => e.to_string(),
        Err(other) => panic!("{sql}: not a filter error: {other}"),
    }
}

#[test]
fn string_functions() {
    assert_eq!(rows("lower(name) = 'apple pie'", &[]), vec![1]);
    assert_eq!(rows("upper(name) = 'BANANA'", &[]), vec![2]);
    assert_eq!(
        rows("lower(name) = 'éclair'", &[]),
        vec![4],
        "Unicode case folding"
    );
    assert_eq!(rows("contains(name, 'an')", &[]), vec![2]);
    assert_eq!(rows("starts_with(name, 'App')", &[]), vec![1]);
    assert_eq!(rows("ends_with(name, 'pie')", &[]), vec![1]);
    assert_eq!(
        rows("length(name) = 6", &[]),
        vec![2, 4],
        "characters, not bytes"
    );
    assert_eq!(
        rows("NOT contains(name, 'a')", &[]),
        vec![1, 4],
        "NULL stays out"
    );
    assert_eq!(
        rows("contains(name, ?)", &[ScalarValue::Utf8("pie".into())]),
        vec![1]
    );
}

#[test]
fn regexp_match() {
    assert_eq!(rows("regexp_match(name, '^[ab]')", &[]), vec![2]);
    assert_eq!(rows("regexp_match(name, '^[ab]', 'i')", &[]), vec![1, 2]);
    assert_eq!(rows("regexp_like(name, 'an{2}')", &[]), Vec::<i32>::new());
    assert!(error("regexp_match(name, '(')", &[]).contains("regexp_match pattern"));
    assert!(error("regexp_match(name, 'a', 'q')", &[]).contains("flag 'q'"));
    assert!(error("regexp_match(name, name)", &[]).contains("constant string"));
}

#[test]
fn concat_and_coalesce() {
    assert_eq!(rows("name || '!' = 'banana!'", &[]), vec![2]);
    assert_eq!(
        rows("(name || 'x') IS NULL", &[]),
        vec![3],
        "|| with NULL is NULL"
    );
    assert_eq!(rows("concat(name, '-', id) = 'banana-2'", &[]), vec![2]);
    assert_eq!(
        rows("concat(name, '-', id) = '-3'", &[]),
        vec![3],
        "concat skips NULL"
    );
    assert_eq!(rows("coalesce(name, 'none') = 'none'", &[]), vec![3]);
    assert_eq!(rows("coalesce(score, 0) = 0", &[]), vec![3]);
    assert_eq!(rows("abs(score) > 3", &[]), vec![4]);
    assert!(error("abs(name) > 1", &[]).contains("abs needs a number"));
    assert!(error("lower(tags) = 'a'", &[]).contains("needs text"));
}

#[test]
fn struct_fields() {
    assert_eq!(rows("meta.a >= 2", &[]), vec![2]);
    assert_eq!(rows("meta.lang = 'en'", &[]), vec![1, 3]);
    assert_eq!(
        rows("meta.lang IS NULL", &[]),
        vec![4],
        "a NULL struct has NULL fields"
    );
    assert_eq!(rows("META.LANG = 'de'", &[]), Vec::<i32>::new());
    assert!(error("meta.nope = 1", &[]).contains("has no field 'nope'"));
    assert!(error("name.x = 1", &[]).contains("not a struct"));
    assert!(error("nope.x = 1", &[]).contains("unknown column 'nope.x'"));
}

#[test]
fn list_functions_and_list_parameters() {
    assert_eq!(rows("array_length(tags) = 0", &[]), vec![2]);
    assert_eq!(rows("array_length(tags) >= 2", &[]), vec![1, 4]);
    let list = ScalarValue::List(vec![ScalarValue::Int64(2), ScalarValue::Int64(4)]);
    assert_eq!(rows("id IN ?", std::slice::from_ref(&list)), vec![2, 4]);
    assert_eq!(rows("id NOT IN ?", std::slice::from_ref(&list)), vec![1, 3]);
    let two = ScalarValue::Int64(2);
    assert_eq!(rows("id in ? and id > ?", &[list.clone(), two]), vec![4]);
    assert_eq!(
        rows("id IN (1, ?)", std::slice::from_ref(&list)),
        vec![1, 2, 4]
    );
    assert_eq!(
        rows("id IN ?", &[ScalarValue::List(vec![])]),
        Vec::<i32>::new()
    );
    assert_eq!(
        rows("array_has_any(tags, ?)", std::slice::from_ref(&list)),
        vec![1, 4]
    );
    assert_eq!(
        rows("array_has_all(tags, ?)", std::slice::from_ref(&list)),
        Vec::<i32>::new()
    );
    let msg = error("id = ?", std::slice::from_ref(&list));
    assert!(
        msg.contains("list parameter (2 values) can only follow IN"),
        "{msg}"
    );
    // The word IN inside a string is not the operator.
    assert_eq!(rows("name = 'IN' OR id IN ?", &[list]), vec![2, 4]);
}

#[test]
fn unknown_function_lists_the_known_ones() {
    let msg = error("soundex(name) = 'x'", &[]);
    assert!(
        msg.contains("unknown function 'soundex'") && msg.contains("starts_with"),
        "{msg}"
    );
    assert!(error("lower(name, name) = 'x'", &[]).contains("takes 1 argument"));
}

#[test]
fn projection_computes_outputs_in_order() {
    let b = batch();
    let outputs = vec![
        Output {
            name: "shout".into(),
            sql: Some("upper(name) || '!'".into()),
        },
        Output {
            name: "id".into(),
            sql: None,
        },
        Output {
            name: "double".into(),
            sql: Some("id * 2".into()),
        },
        Output {
            name: "lang".into(),
            sql: Some("meta.lang".into()),
        },
    ];
    let p = Projection::compile(&outputs, b.schema_ref(), &["_distance"]).unwrap();
    assert_eq!(p.columns(), vec!["name", "id", "meta"]);
    let out = p.apply(&b).unwrap();
    let names: Vec<&str> = out
        .schema_ref()
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    assert_eq!(names, vec!["shout", "id", "double", "lang"]);
    let shout = out.column(0).as_string::<i32>();
    assert_eq!(shout.value(0), "APPLE PIE!");
    assert!(shout.is_null(2));
    assert_eq!(
        out.column(2).as_primitive::<Int32Type>().values().to_vec(),
        vec![2, 4, 6, 8]
    );
    assert!(out.column(3).is_null(3));

    let dup = vec![
        Output {
            name: "x".into(),
            sql: Some("1".into()),
        },
        Output {
            name: "x".into(),
            sql: Some("2".into()),
        },
    ];
    assert!(Projection::compile(&dup, b.schema_ref(), &[]).is_err());
    let bad = vec![Output {
        name: "x".into(),
        sql: Some("nope + 1".into()),
    }];
    let msg = Projection::compile(&bad, b.schema_ref(), &[])
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("select expression") && msg.contains("'x'"),
        "{msg}"
    );
}

#[test]
fn json_extract() {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int32, false),
        Field::new("doc", DataType::Utf8, true),
    ]));
    let b = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int32Array::from(vec![1, 2, 3, 4])),
            Arc::new(StringArray::from(vec![
                Some(r#"{"src": "a", "n": 3, "ok": true, "in": {"x": "deep"}}"#),
                Some(r#"{"src": "b", "n": 10.5, "ok": false}"#),
                Some("not json"),
                None,
            ])),
        ],
    )
    .unwrap();
    let ids = |sql: &str| -> Vec<i32> {
        let f = Filter::compile(sql, &[], &schema).unwrap_or_else(|e| panic!("{sql}: {e}"));
        let m = filter_mask(&f.expr, &b).unwrap();
        (0..4)
            .filter(|&i| m.value(i))
            .map(|i| i as i32 + 1)
            .collect()
    };
    assert_eq!(ids("json_extract_string(doc, '$.src') = 'b'"), vec![2]);
    assert_eq!(ids("json_extract_string(doc, '$.n') = '3'"), vec![1]);
    assert_eq!(ids("json_extract_number(doc, '$.n') > 5"), vec![2]);
    assert_eq!(ids("json_extract_bool(doc, '$.ok')"), vec![1]);
    assert_eq!(ids("json_extract_string(doc, '$.in.x') = 'deep'"), vec![1]);
    assert_eq!(ids("json_extract_string(doc, 'src') IS NULL"), vec![3, 4]);
    let e = Filter::compile("json_extract_string(doc, doc) = 'x'", &[], &schema).unwrap_err();
    assert!(e.to_string().contains("constant string"), "{e}");
    let e = Filter::compile("json_extract_string(doc, '$.a[0]') = 'x'", &[], &schema).unwrap_err();
    assert!(e.to_string().contains("object keys"), "{e}");
}

#[test]
fn concat_binds_less_tightly_than_arithmetic() {
    let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)]));
    let b = RecordBatch::try_new(
        schema.clone(),
        vec![Arc::new(Int64Array::from(vec![0, 5])) as ArrayRef],
    )
    .unwrap();
    let text = |sql: &str| -> Vec<String> {
        let p = Projection::compile(
            &[Output {
                name: "x".into(),
                sql: Some(sql.into()),
            }],
            &schema,
            &[],
        )
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
        let out = p.apply(&b).unwrap();
        let col = out.column(0).as_string::<i32>();
        (0..2).map(|i| col.value(i).to_string()).collect()
    };
    assert_eq!(text("'a' || id * 2"), vec!["a0", "a10"]);
    assert_eq!(text("'a' || 1 + 2"), vec!["a3", "a3"]);
    assert_eq!(text("1 + 2 || 3"), vec!["33", "33"]);
    assert_eq!(text("id - 1 || ''"), vec!["-1", "4"]);
    assert_eq!(text("('a' || id) || id * 2"), vec!["a00", "a510"]);
    assert!(Filter::compile("'a' || 'b' = 'ab'", &[], &schema).is_ok());
}

#[test]
fn abs_of_unsigned_and_null_typed_fields() {
    use arrow::array::{NullArray, UInt64Array};
    let inner = Fields::from(vec![Field::new("nul", DataType::Null, true)]);
    let schema = Arc::new(Schema::new(vec![
        Field::new("u", DataType::UInt64, false),
        Field::new("s", DataType::Struct(inner.clone()), true),
    ]));
    let b = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(UInt64Array::from(vec![1u64 << 63, 3])) as ArrayRef,
            Arc::new(StructArray::new(
                inner,
                vec![Arc::new(NullArray::new(2)) as ArrayRef],
                Some(vec![true, false].into()),
            )),
        ],
    )
    .unwrap();
    let n = |sql: &str| {
        let f = Filter::compile(sql, &[], &schema).unwrap_or_else(|e| panic!("{sql}: {e}"));
        let m = filter_mask(&f.expr, &b).unwrap();
        (0..2).filter(|&i| m.value(i)).count()
    };
    assert_eq!(n("abs(u) > 5"), 1);
    assert_eq!(n("s.nul IS NULL"), 2);
    let e = Filter::compile("starts_with(u, 'x')", &[], &schema).unwrap_err();
    assert!(e.to_string().contains("starts_with needs text"), "{e}");
}

#[test]
fn long_in_lists_answer_as_the_or_of_equalities() {
    use arrow::array::{StringArray as S, UInt64Array};
    let schema = Arc::new(Schema::new(vec![
        Field::new("i", DataType::Int32, true),
        Field::new("u", DataType::UInt64, true),
        Field::new("s", DataType::Utf8, true),
    ]));
    let n: usize = 500;
    let i: Int32Array = (0..n as i32)
        .map(|k| (k % 7 != 0).then_some(k % 53 - 20))
        .collect();
    let u: UInt64Array = (0..n)
        .map(|k| {
            (k % 11 != 0).then_some(if k % 5 == 0 {
                u64::MAX - k as u64
            } else {
                k as u64 % 40
            })
        })
        .collect();
    let s: S = (0..n)
        .map(|k| (k % 13 != 0).then(|| format!("v{}", k % 30)))
        .collect();
    let b =
        RecordBatch::try_new(schema.clone(), vec![Arc::new(i), Arc::new(u), Arc::new(s)]).unwrap();
    let mask = |sql: &str| -> Vec<Option<bool>> {
        let f = Filter::compile(sql, &[], &schema).unwrap_or_else(|e| panic!("{sql}: {e}"));
        let v = oxvec_query::evaluate(&f.expr, &b)
            .unwrap()
            .into_array(n)
            .unwrap();
        v.as_boolean().iter().collect()
    };
    let ints: Vec<String> = (-25..15).step_by(3).map(|x| x.to_string()).collect();
    let strs: Vec<String> = (0..40).step_by(4).map(|x| format!("'v{x}'")).collect();
    // Unsigned values past i64::MAX compare only with constants that fit them.
    let unsigned: Vec<String> = (0..40).step_by(3).map(|x| x.to_string()).collect();
    for (col, items) in [("i", &ints), ("u", &unsigned), ("s", &strs)] {
        for with_null in [false, true] {
            let mut items = items.clone();
            if with_null {
                items.push("NULL".into());
            }
            let listed = items.join(", ");
            let ors = items
                .iter()
                .map(|x| format!("{col} = {x}"))
                .collect::<Vec<_>>()
                .join(" OR ");
            assert_eq!(
                mask(&format!("{col} IN ({listed})")),
                mask(&format!("({ors})")),
                "{col}"
            );
            assert_eq!(
                mask(&format!("{col} NOT IN ({listed})")),
                mask(&format!("NOT ({ors})")),
                "{col} NOT"
            );
        }
    }
}

#[test]
fn the_longest_dotted_column_name_is_the_struct_root() {
    // Merge conditions see columns named `target.meta`: `target.meta.lang` is its field.
    let inner = Fields::from(vec![Field::new("lang", DataType::Utf8, true)]);
    let schema = Arc::new(Schema::new(vec![Field::new(
        "target.meta",
        DataType::Struct(inner.clone()),
        true,
    )]));
    let b = RecordBatch::try_new(
        schema.clone(),
        vec![Arc::new(StructArray::new(
            inner,
            vec![Arc::new(StringArray::from(vec!["en", "fr"])) as ArrayRef],
            None,
        )) as ArrayRef],
    )
    .unwrap();
    let f = Filter::compile("target.meta.lang = 'fr'", &[], &schema).unwrap();
    let m = filter_mask(&f.expr, &b).unwrap();
    assert_eq!((m.value(0), m.value(1)), (false, true));
}
