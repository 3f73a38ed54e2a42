//! Worked examples of k6 reference §6 (verified against k6 v1.1).

use super::*;

fn tuple(seg: &str, seq: &str) -> ExecutionTuple {
    let s = ExecutionSegment::parse(seg).unwrap();
    ExecutionTuple::new(Some(s), &parse_sequence(seq).unwrap()).unwrap()
}

fn all(seq: &str) -> Vec<ExecutionTuple> {
    let segs = parse_sequence(seq).unwrap();
    segs.iter()
        .map(|s| ExecutionTuple::new(Some(*s), &segs).unwrap())
        .collect()
}

#[test]
fn parses_numbers() {
    assert_eq!(Rat::parse("1/3").unwrap(), Rat::new(1, 3).unwrap());
    assert_eq!(Rat::parse("50%").unwrap(), Rat::new(1, 2).unwrap());
    assert_eq!(Rat::parse("0.5").unwrap(), Rat::new(1, 2).unwrap());
    assert_eq!(Rat::parse("12.5%").unwrap(), Rat::new(1, 8).unwrap());
    assert_eq!(Rat::parse("1").unwrap(), Rat::ONE);
    assert!(Rat::parse("x").is_err());
    assert!(Rat::parse("1/0").is_err());
    let e = ExecutionSegment::parse("1/2:1/3").unwrap_err();
    assert!(e.to_string().contains("1/2:1/3"), "{e}");
    assert_eq!(ExecutionSegment::parse("").unwrap(), ExecutionSegment::FULL);
    assert_eq!(ExecutionSegment::parse("1/2").unwrap().to_string(), "0:1/2");
    assert!(parse_sequence("0").is_err());
    assert!(parse_sequence("0,1/2,1/3,1").is_err());
    assert!(parse_sequence("").unwrap().is_empty());
}

#[test]
fn segment_must_be_in_sequence() {
    let seq = parse_sequence("0,1/2,1").unwrap();
    let e = ExecutionTuple::new(Some(ExecutionSegment::parse("0:1/3").unwrap()), &seq).unwrap_err();
    assert!(matches!(e, SegmentError::NotInSequence { .. }), "{e}");
}

#[test]
fn filled_sequence() {
    let t = ExecutionTuple::new(Some(ExecutionSegment::parse("1/3:2/3").unwrap()), &[]).unwrap();
    assert_eq!(t.striping.segments.len(), 3);
    assert_eq!(t.index, 1);
    let t = ExecutionTuple::full();
    assert_eq!(t.scale(17), 17);
    assert_eq!(t.unscaled(5), 5);
}

#[test]
fn striping_examples() {
    let t = tuple("0:1/2", "0,1/2,3/4,1");
    assert_eq!(t.lcd(), 4);
    assert_eq!(t.striping.owned, vec![vec![0, 2], vec![1], vec![3]]);

    let t = tuple("0:3/10", "0,3/10,1/2,1");
    assert_eq!(t.lcd(), 10);
    assert_eq!(
        t.striping.owned,
        vec![vec![1, 5, 7], vec![3, 9], vec![0, 2, 4, 6, 8]]
    );

    let t = tuple("0:1/3", "0,1/3,2/3,1");
    assert_eq!(t.striping.owned, vec![vec![0], vec![1], vec![2]]);
}

#[test]
fn scaling_examples() {
    let ts = all("0,3/10,1/2,1");
    let s23: Vec<u64> = ts.iter().map(|t| t.scale(23)).collect();
    assert_eq!(s23, vec![7, 4, 12]);
    let s7: Vec<u64> = ts.iter().map(|t| t.scale(7)).collect();
    assert_eq!(s7, vec![2, 1, 4]);
    // 0:1/3 alone vs. with the thirds sequence.
    assert_eq!(
        ExecutionTuple::new(Some(ExecutionSegment::parse("0:1/3").unwrap()), &[])
            .unwrap()
            .scale(10),
        3
    );
    assert_eq!(tuple("0:1/3", "0,1/3,2/3,1").scale(10), 4);
    // per-vu-iterations 5 VUs x 2 iterations -> 6/2/2.
    let per: Vec<u64> = all("0,1/2,3/4,1").iter().map(|t| t.scale(5) * 2).collect();
    assert_eq!(per, vec![6, 2, 2]);
}

#[test]
fn scale_sums_to_whole_and_is_monotonic() {
    for seq in [
        "0,1/2,3/4,1",
        "0,3/10,1/2,1",
        "0,1/3,2/3,1",
        "0,0.1,0.25,0.7,1",
    ] {
        let ts = all(seq);
        let mut prev = vec![0u64; ts.len()];
        for v in 0..200 {
            let parts: Vec<u64> = ts.iter().map(|t| t.scale(v)).collect();
            assert_eq!(parts.iter().sum::<u64>(), v, "{seq} v={v}");
            for (p, q) in prev.iter().zip(&parts) {
                assert!(q >= p);
            }
            prev = parts;
        }
    }
}

#[test]
fn shared_iterations_resegmenting() {
    // vus=3, iterations=10 on 0,1/2,3/4,1: VUs 2/1/0, iterations 7/3/0.
    let ts = all("0,1/2,3/4,1");
    let vus: Vec<u64> = ts.iter().map(|t| t.scale(3)).collect();
    assert_eq!(vus, vec![2, 1, 0]);
    let re: Vec<Option<ExecutionTuple>> = ts.iter().map(|t| t.resegment(3)).collect();
    assert!(re[2].is_none(), "third instance has no work");
    let a = re[0].as_ref().unwrap();
    let b = re[1].as_ref().unwrap();
    assert_eq!(a.scale(10), 7);
    assert_eq!(b.scale(10), 3);
    let ga: Vec<u64> = (1..=7).map(|s| a.unscaled(s) - 1).collect();
    let gb: Vec<u64> = (1..=3).map(|s| b.unscaled(s) - 1).collect();
    assert_eq!(ga, vec![0, 2, 3, 5, 6, 8, 9]);
    assert_eq!(gb, vec![1, 4, 7]);
}

#[test]
fn vu_ids_in_test() {
    let ts = all("0,1/2,3/4,1");
    let ids = |t: &ExecutionTuple, n: u64| -> Vec<u64> {
        let idx = SegmentedIndex::new(t.clone());
        (0..n).map(|_| idx.next().1).collect()
    };
    assert_eq!(ids(&ts[0], 7), vec![1, 3, 5, 7, 9, 11, 13]);
    assert_eq!(ids(&ts[1], 3), vec![2, 6, 10]);
    assert_eq!(ids(&ts[2], 2), vec![4, 8]);
}

#[test]
fn arrival_rate_stripes() {
    let ts = all("0,1/2,3/4,1");
    let own = |t: &ExecutionTuple| -> Vec<u64> { (0..8).filter(|g| t.owns(*g)).collect() };
    assert_eq!(own(&ts[0]), vec![0, 2, 4, 6]);
    assert_eq!(own(&ts[1]), vec![1, 5]);
    assert_eq!(own(&ts[2]), vec![3, 7]);
}
