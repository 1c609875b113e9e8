//! The clock reading a record is made at, and its RFC 3339 text (written without chrono).

use chrono::{DateTime, Utc};

/// A reading of the system clock: seconds since the Unix epoch (negative before it) and
/// nanoseconds into that second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct UnixTime {
    pub(super) secs: i64,
    pub(super) nanos: u32,
}

/// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the range RFC 3339's four-digit years hold.
const FIRST_SECOND: i64 = -62_167_219_200;
const LAST_SECOND: i64 = 253_402_300_799;

impl UnixTime {
    /// Now. One clock read serves a record's uuid and its timestamp (a `clock_gettime`, through
    /// the vDSO where the clock source allows).
    pub(super) fn now() -> Self {
        use std::time::{SystemTime, UNIX_EPOCH};
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(since) => Self {
                secs: i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
                nanos: since.subsec_nanos(),
            },
            // A clock set before 1970: counted back from the epoch.
            Err(before) => {
                let before = before.duration();
                let secs = i64::try_from(before.as_secs()).unwrap_or(i64::MAX);
                match before.subsec_nanos() {
                    0 => Self {
                        secs: -secs,
                        nanos: 0,
                    },
                    nanos => Self {
                        secs: -secs - 1,
                        nanos: 1_000_000_000 - nanos,
                    },
                }
            }
        }
    }

    /// RFC 3339, UTC, milliseconds, written from the clock's count with a civil-from-days
    /// computation (chrono's conversion to a date, then formatting its fields, cost about 4
    /// times as much in the record benchmark).
    ///
    /// A time before year 0 or after year 9999 is clamped to the first or last millisecond of
    /// that range: RFC 3339 has exactly four digits for the year, so no valid timestamp exists
    /// outside it, and a record must carry a valid one (the queue's readers and PostHog parse
    /// it). Only a clock set absurdly far off gets there.
    pub(super) fn rfc3339(self) -> Rfc3339Millis {
        let (secs, millis) = if self.secs < FIRST_SECOND {
            (FIRST_SECOND, 0)
        } else if self.secs > LAST_SECOND {
            (LAST_SECOND, 999)
        } else {
            (self.secs, self.nanos.min(999_999_999) / 1_000_000)
        };
        // Counted from 0000-01-01 the clamped range is positive and small: unsigned arithmetic
        // (divisions by constants become multiplications), no `div_euclid` on signed values.
        let since_year_0 = secs.abs_diff(FIRST_SECOND);
        let (days, second_of_day) = (since_year_0 / 86_400, since_year_0 % 86_400);
        // under 3 652 425 days and 86 400 seconds: the casts cannot truncate
        let (year, month, day) = civil_from_days(days as u32);
        let second_of_day = second_of_day as u32;
        let mut out = *b"0000-00-00T00:00:00.000Z";
        put_two_digits(&mut out, 0, year / 100);
        put_two_digits(&mut out, 2, year % 100);
        put_two_digits(&mut out, 5, month);
        put_two_digits(&mut out, 8, day);
        put_two_digits(&mut out, 11, second_of_day / 3600);
        put_two_digits(&mut out, 14, second_of_day / 60 % 60);
        put_two_digits(&mut out, 17, second_of_day % 60);
        out[20] = b'0' + (millis / 100) as u8;
        put_two_digits(&mut out, 21, millis % 100);
        Rfc3339Millis(out)
    }
}

/// The proleptic Gregorian date (year, month 1–12, day 1–31) `days` after 0000-01-01, up to
/// 9999-12-31. Howard Hinnant's `civil_from_days`
/// (<https://howardhinnant.github.io/date_algorithms.html>): in 400-year eras of 146 097 days
/// whose years start on 1 March, so that a leap day is the last day of its year. Counted from
/// 0000-03-01 minus one era, so that every quantity is unsigned.
fn civil_from_days(days: u32) -> (u32, u32, u32) {
    const ERA: u32 = 146_097;
    // 0000-01-01 is 60 days before 0000-03-01 (year 0 is a leap year)
    let z = days + ERA - 60;
    let era = z / ERA;
    let day_of_era = z % ERA;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / (ERA - 1)) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153; // 0 = March … 11 = February
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let (month, january_or_february) = if shifted_month < 10 {
        (shifted_month + 3, 0)
    } else {
        (shifted_month - 9, 1)
    };
    // the era before year 0 holds only its last January and February: at least 400 here
    let year = (era * 400 + year_of_era + january_or_february).saturating_sub(400);
    (year, month, day)
}

/// Writes `value` (under 100) as two decimal digits at `out[at..at + 2]`.
fn put_two_digits(out: &mut [u8; 24], at: usize, value: u32) {
    /// "00", "01", … "99".
    const DIGITS: [u8; 200] = {
        let mut digits = [0; 200];
        let mut n = 0;
        while n < 100 {
            digits[2 * n] = b'0' + (n / 10) as u8;
            digits[2 * n + 1] = b'0' + (n % 10) as u8;
            n += 1;
        }
        digits
    };
    let i = (value % 100) as usize * 2;
    if let (Some(pair), Some(slot)) = (DIGITS.get(i..i + 2), out.get_mut(at..at + 2)) {
        slot.copy_from_slice(pair);
    }
}

/// A timestamp as [`UnixTime::rfc3339`] writes it, on the stack.
pub(super) struct Rfc3339Millis([u8; 24]);

impl Rfc3339Millis {
    pub(super) fn bytes(&self) -> &[u8; 24] {
        &self.0
    }

    pub(super) fn as_str(&self) -> &str {
        // only ASCII digits were written into an ASCII template
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// `time` in chrono's terms, as [`UnixTime::rfc3339`] takes it.
pub(super) fn from_chrono(time: DateTime<Utc>) -> UnixTime {
    // chrono holds a leap second as nanoseconds past 10⁹: written as the second's .999
    UnixTime {
        secs: time.timestamp(),
        nanos: time.timestamp_subsec_nanos().min(999_999_999),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// chrono's RFC 3339 text with milliseconds, the reference.
    fn chrono_rfc3339(secs: i64, nanos: u32) -> String {
        DateTime::from_timestamp(secs, nanos)
            .unwrap()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    }

    #[test]
    fn timestamps_are_written_as_chrono_writes_them() {
        let written = |secs, nanos| UnixTime { secs, nanos }.rfc3339().as_str().to_owned();
        let now = UnixTime::now();
        let mut times = vec![
            (now.secs, now.nanos),
            (0, 0),
            (-1, 999_999_999),
            (-1, 0),
            (1_775_642_400, 0),              // 2026-04-08T10:00:00Z
            (946_684_799, 999_999_999),      // 1999-12-31T23:59:59.999
            (951_786_123, 45_000_000),       // 2000-02-29T01:02:03.045
            (4_107_542_400, 1_000_000),      // 2100-03-01
            (-2_203_891_200, 0),             // 1900-03-01
            (FIRST_SECOND, 0),               // 0000-01-01
            (FIRST_SECOND + 60 * 86_400, 0), // 0000-03-01
            (LAST_SECOND, 999_999_999),      // 9999-12-31T23:59:59.999
        ];
        // Every day of 1968–2105 at a moving second, then strides over the whole range.
        let mut secs = -63_158_400;
        while secs < 4_260_000_000 {
            times.push((secs, 123_456_789));
            secs += 86_400 + 3_671;
        }
        let mut secs = FIRST_SECOND;
        while secs <= LAST_SECOND {
            times.push((secs, 987_654_321));
            secs += 86_400 * 29 + 7_919;
        }
        for (secs, nanos) in times {
            assert_eq!(
                written(secs, nanos),
                chrono_rfc3339(secs, nanos),
                "{secs} {nanos}"
            );
            let time = DateTime::from_timestamp(secs, nanos).unwrap();
            assert_eq!(
                from_chrono(time).rfc3339().as_str(),
                chrono_rfc3339(secs, nanos)
            );
        }
    }

    /// RFC 3339 has four-digit years: a clock outside 0000–9999 gives that range's ends.
    #[test]
    fn timestamps_outside_four_digit_years_are_clamped() {
        let written = |secs, nanos| UnixTime { secs, nanos }.rfc3339().as_str().to_owned();
        for (secs, nanos) in [(LAST_SECOND + 1, 0), (i64::MAX, 999_999_999)] {
            assert_eq!(written(secs, nanos), "9999-12-31T23:59:59.999Z");
        }
        for (secs, nanos) in [(FIRST_SECOND - 1, 999_999_999), (i64::MIN, 0)] {
            assert_eq!(written(secs, nanos), "0000-01-01T00:00:00.000Z");
        }
        use chrono::{TimeZone, Timelike};
        let far = Utc.with_ymd_and_hms(10_000, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(
            from_chrono(far).rfc3339().as_str(),
            "9999-12-31T23:59:59.999Z"
        );
        let before = Utc.with_ymd_and_hms(-1, 6, 1, 0, 0, 0).unwrap();
        assert_eq!(
            from_chrono(before).rfc3339().as_str(),
            "0000-01-01T00:00:00.000Z"
        );
        // a leap second, as chrono can hold one, stays within its minute
        let leap = Utc
            .with_ymd_and_hms(2016, 12, 31, 23, 59, 59)
            .unwrap()
            .with_nanosecond(1_500_000_000)
            .unwrap();
        assert_eq!(
            from_chrono(leap).rfc3339().as_str(),
            "2016-12-31T23:59:59.999Z"
        );
    }
}
