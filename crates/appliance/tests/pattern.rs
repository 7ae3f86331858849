//! The generated body's fast paths agree with `pattern` byte for byte.

use unistack_appliance::{fill_pattern, is_pattern, pattern};

#[test]
fn table_fill_and_check_match_the_per_byte_pattern() {
    let period = 1usize << 21;
    for i in [0, 1, 12_345, period - 1] {
        assert_eq!(pattern(i), pattern(i + period), "period at {i}");
        assert_eq!(pattern(i), pattern(i + 5 * period), "period at {i}");
    }
    for start in [0, 1, 4095, period - 3, period, 3 * period + 5, 100 << 20] {
        for len in [0, 1, 100, 65_536, period + 10] {
            let want: Vec<u8> = (start..start + len).map(pattern).collect();
            let mut got = vec![0u8; len];
            fill_pattern(start, &mut got);
            assert!(got == want, "fill at {start}+{len}");
            assert!(is_pattern(start, &want), "check at {start}+{len}");
            if len > 0 {
                for flip in [0, len / 2, len - 1] {
                    let mut bad = want.clone();
                    bad[flip] ^= 0x40;
                    assert!(!is_pattern(start, &bad), "flip {flip} at {start}+{len}");
                }
                assert!(!is_pattern(start + 1, &want) || len == 0, "offset by one");
            }
        }
    }
}
