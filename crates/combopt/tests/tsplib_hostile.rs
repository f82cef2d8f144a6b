//! Hostile TSPLIB input (issue #25): every case is a clean error naming the
//! source, the line and the value as written, and nothing huge is allocated
//! before its size is checked. One test per class of bad input.

use duality_combopt::tsp::{parse_tsp, to_tsplib, Tour};
use proptest::prelude::*;

const EUC: &str = "NAME : tiny\nTYPE : TSP\nDIMENSION : 4\nEDGE_WEIGHT_TYPE : EUC_2D\nNODE_COORD_SECTION\n1 0 0\n2 0 10\n3 10 10\n4 10 0\nEOF\n";

fn explicit(fmt: &str, dim: &str, weights: &str) -> String {
    format!(
        "NAME: m\nTYPE: TSP\nDIMENSION: {dim}\nEDGE_WEIGHT_TYPE: EXPLICIT\nEDGE_WEIGHT_FORMAT: {fmt}\nEDGE_WEIGHT_SECTION\n{weights}\nEOF\n"
    )
}

fn err(text: &str) -> String {
    parse_tsp(text, "hostile.tsp").unwrap_err().to_string()
}

#[test]
fn huge_dimensions_are_refused_before_allocating() {
    // 2^64 - 1 nodes: no "capacity overflow", no abort.
    for dim in ["18446744073709551615", "1000000000000"] {
        let e = err(&EUC.replace("DIMENSION : 4", &format!("DIMENSION : {dim}")));
        assert!(
            e.contains("hostile.tsp line 3") && e.contains(dim),
            "{dim}: {e}"
        );
    }
    // An EXPLICIT matrix of dimension 5e9 (n^2 overflows nothing in u64 but
    // 2e20 bytes fits no memory) and 2^64 - 1 (n^2 overflows).
    for dim in ["5000000000", "18446744073709551615"] {
        for fmt in ["FULL_MATRIX", "UPPER_ROW", "LOWER_DIAG_ROW"] {
            let e = err(&explicit(fmt, dim, "1 2 3"));
            assert!(
                e.contains("hostile.tsp line 3") && e.contains(dim),
                "{dim} {fmt}: {e}"
            );
        }
    }
    // Not an integer as written.
    let e = err(&EUC.replace("DIMENSION : 4", "DIMENSION : 1e12"));
    assert!(e.contains("line 3") && e.contains("\"1e12\""), "{e}");
    let e = err(&EUC.replace("DIMENSION : 4", "DIMENSION : 99999999999999999999999"));
    assert!(e.contains("99999999999999999999999"), "{e}");
}

#[test]
fn asymmetric_full_matrix_is_refused_not_symmetrised() {
    let ok = explicit("FULL_MATRIX", "3", "0 1 2\n1 0 3\n2 3 0");
    let inst = parse_tsp(&ok, "m").unwrap();
    assert_eq!(inst.dist(1, 2), 3.0);
    let e = err(&explicit("FULL_MATRIX", "3", "0 1 2\n1 0 3\n2 7 0"));
    assert!(
        e.contains("hostile.tsp line 9") && e.contains("\"7\"") && e.contains("symmetric"),
        "{e}"
    );
}

#[test]
fn duplicate_keywords_and_sections_are_refused() {
    let e = err(&EUC.replace("DIMENSION : 4\n", "DIMENSION : 4\nDIMENSION : 5\n"));
    assert!(
        e.contains("line 4") && e.contains("DIMENSION appears twice") && e.contains("line 3"),
        "{e}"
    );
    let e = err(&EUC.replace(
        "EOF\n",
        "NODE_COORD_SECTION\n1 1 1\n2 1 2\n3 2 2\n4 2 1\nEOF\n",
    ));
    assert!(
        e.contains("line 10") && e.contains("NODE_COORD_SECTION appears twice"),
        "{e}"
    );
    let e = err(&EUC.replace(
        "EDGE_WEIGHT_TYPE : EUC_2D\n",
        "EDGE_WEIGHT_TYPE : EUC_2D\nEDGE_WEIGHT_TYPE : GEO\n",
    ));
    assert!(e.contains("EDGE_WEIGHT_TYPE appears twice"), "{e}");
    // A format after its section would have changed how it was read.
    let text = "NAME: m\nTYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EXPLICIT\nEDGE_WEIGHT_SECTION\n0 1 2\n1 0 3\n2 3 0\nEDGE_WEIGHT_FORMAT: FULL_MATRIX\nEOF\n";
    let e = err(text);
    assert!(
        e.contains("line 9") && e.contains("after EDGE_WEIGHT_SECTION"),
        "{e}"
    );
    // A section the edge weight type does not use.
    let e = err(&EUC.replace(
        "EOF\n",
        "EDGE_WEIGHT_SECTION\n0 1 2 3\n1 0 4 5\n2 4 0 6\n3 5 6 0\nEOF\n",
    ));
    assert!(e.contains("EXPLICIT") && e.contains("line 4"), "{e}");
}

#[test]
fn geo_coordinates_out_of_range_are_refused() {
    let geo = EUC.replace("EUC_2D", "GEO");
    assert!(parse_tsp(&geo, "g").is_ok());
    let e = err(&geo.replace("3 10 10", "3 500 10"));
    assert!(
        e.contains("line 8") && e.contains("latitude 500") && e.contains("node 3"),
        "{e}"
    );
    let e = err(&geo.replace("3 10 10", "3 10 -181"));
    assert!(e.contains("longitude -181"), "{e}");
    // 90.59 is 90 degrees 59 minutes: past the pole.
    let e = err(&geo.replace("3 10 10", "3 90.59 10"));
    assert!(e.contains("latitude 90.59"), "{e}");
}

#[test]
fn a_byte_order_mark_is_skipped() {
    let with_bom = format!("\u{feff}{EUC}");
    let inst = parse_tsp(&with_bom, "bom.tsp").unwrap();
    assert_eq!(inst.name, "tiny");
    assert_eq!(inst, parse_tsp(EUC, "plain.tsp").unwrap());
}

#[test]
fn tour_lengths_cannot_overflow() {
    // Coordinates near f64::MAX: squared distances overflow.
    let e = err(&EUC.replace("3 10 10", "3 1e300 10"));
    assert!(
        e.contains("line 8") && e.contains("1e300") && e.contains("overflow"),
        "{e}"
    );
    // Weights whose sum over a tour overflows.
    let e = err(&explicit("UPPER_ROW", "3", "1e308 1e308 1e308"));
    assert!(e.contains("line 7") && e.contains("overflow"), "{e}");
    // Just below the bound: finite lengths.
    let w = f64::MAX / 4.0;
    let inst = parse_tsp(&explicit("UPPER_ROW", "3", &format!("{w} {w} {w}")), "m").unwrap();
    let len = Tour::new(vec![0, 1, 2], 3).unwrap().length(&inst);
    assert!(len.is_finite(), "{len}");
}

#[test]
fn messages_quote_the_value_as_written() {
    let e = err(&EUC.replace("3 10 10", "3 1O 10"));
    assert!(e.contains("line 8") && e.contains("\"1O\""), "{e}");
    let e = err(&EUC.replace("3 10 10", "3 inf 10"));
    assert!(e.contains("line 8") && e.contains("\"inf\""), "{e}");
    let e = err(&explicit("UPPER_ROW", "3", "1 -2 3"));
    assert!(e.contains("line 7") && e.contains("\"-2\""), "{e}");
    // A 1 MB line is not echoed in full.
    let long = "9".repeat(1 << 20);
    let e = err(&EUC.replace("3 10 10", &format!("3 {long}x 10")));
    assert!(e.len() < 1000, "{} bytes", e.len());
    // Too many weights, and more data than DIMENSION.
    let e = err(&explicit("UPPER_ROW", "3", "1 2 3 4"));
    assert!(e.contains("too many") && e.contains("\"4\""), "{e}");
    let e = err(&explicit("UPPER_ROW", "3", "1 2 3\n4 5"));
    assert!(e.contains("line 8") && e.contains("DIMENSION 3"), "{e}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Any byte string parses or fails cleanly; what parses round-trips.
    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        let _ = parse_tsp(&text, "p");
    }

    /// Mutating a valid file (one character changed) never panics.
    #[test]
    fn mutated_files_never_panic(pos in 0usize..120, c in proptest::char::any()) {
        let mut chars: Vec<char> = EUC.chars().collect();
        let pos = pos % chars.len();
        chars[pos] = c;
        let text: String = chars.into_iter().collect();
        if let Ok(inst) = parse_tsp(&text, "p") {
            let again = parse_tsp(&to_tsplib(&inst), "again").unwrap();
            prop_assert_eq!(inst.len(), again.len());
        }
    }
}
