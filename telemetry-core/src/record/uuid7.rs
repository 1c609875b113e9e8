//! The uuid of each record: a UUID v7, ordered within the process, without a lock.

use std::sync::atomic::{AtomicU64, Ordering};

use uuid::Uuid;

use super::time::UnixTime;

/// The UUID v7 of a record made at `time`: ordered by creation within this process, and
/// told apart from other processes' by 62 random-looking bits.
///
/// Its 48-bit millisecond timestamp and the 12 bits after the version (RFC 9562's `rand_a`)
/// hold a 60-bit value that only grows within the process: the clock's fraction of the
/// millisecond in 1/4096ths (RFC 9562 §6.2, method 3) or, when that is not above the last
/// uuid's, the last one plus one (so a burst within one 1/4096 ms, or a clock stepped back,
/// runs the uuids a little ahead of the clock, as a counter does; the timestamp is the clock's).
/// One atomic update on a static instead of the lock uuid's `ContextV7` needs.
///
/// The other 62 bits (`rand_b`) are the 60-bit value's output of a SplitMix64 generator with a
/// per-process random seed: a bijection of the value, so no two uuids of a process share them,
/// and as unpredictable across processes as the seed (std's `RandomState`, from the OS's
/// random source). A forked child starts from its parent's state, as it would with uuid's own
/// context and generator. Nothing here relies on the bits being secret: PostHog only
/// de-duplicates by them.
pub(super) fn uuid_v7(time: UnixTime) -> Uuid {
    static LAST: AtomicU64 = AtomicU64::new(0);
    uuid_v7_after(&LAST, time)
}

/// [`uuid_v7`] with `last` holding the last 60-bit value handed out. A clock past what 48
/// bits of milliseconds hold (year 10889) is held there, and the values after it wrap: still
/// unique, no longer ordered.
fn uuid_v7_after(last: &AtomicU64, time: UnixTime) -> Uuid {
    use std::sync::OnceLock;
    static SEED: OnceLock<u64> = OnceLock::new();
    const MAX_MILLIS: u64 = (1 << 48) - 1;

    let millis = u64::try_from(time.secs).map_or(0, |secs| {
        secs.saturating_mul(1000)
            .saturating_add(u64::from(time.nanos / 1_000_000))
            .min(MAX_MILLIS)
    });
    let fraction = u64::from(time.nanos % 1_000_000) * 4096 / 1_000_000;
    let clock = millis << 12 | fraction;
    // `Relaxed`: only this one variable's order matters, and every update sees the last one.
    let previous = last
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |last| {
            Some(clock.max(last.wrapping_add(1)))
        })
        .unwrap_or_else(|last| last);
    let ordered = clock.max(previous.wrapping_add(1));

    let seed = *SEED.get_or_init(|| {
        use std::hash::BuildHasher;
        std::hash::RandomState::new().hash_one(0x7e1e_5eed_u64)
    });
    let random = splitmix64(seed.wrapping_add(ordered.wrapping_mul(0x9e37_79b9_7f4a_7c15)));

    let value = u128::from(ordered >> 12 & MAX_MILLIS) << 80
        | 0x7 << 76
        | u128::from(ordered & 0xfff) << 64
        | 0b10 << 62
        | u128::from(random >> 2);
    Uuid::from_u128(value)
}

/// SplitMix64's output function (Steele, Lea & Flood): a bijection of 64-bit values whose
/// outputs pass the usual statistical tests.
fn splitmix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Unique across threads, ordered within each; the bits after the time differ.
    #[test]
    fn uuids_are_unique_across_threads() {
        let time = UnixTime::now();
        let per_thread: Vec<Vec<Uuid>> = std::thread::scope(|s| {
            let threads: Vec<_> = (0..4)
                .map(|_| s.spawn(move || (0..5_000).map(|_| uuid_v7(time)).collect::<Vec<_>>()))
                .collect();
            threads.into_iter().map(|t| t.join().unwrap()).collect()
        });
        for uuids in &per_thread {
            assert!(uuids.windows(2).all(|pair| pair[0] < pair[1]));
        }
        let all: std::collections::HashSet<Uuid> = per_thread.iter().flatten().copied().collect();
        assert_eq!(all.len(), 20_000);
        let random: std::collections::HashSet<u64> = all
            .iter()
            .map(|u| (u.as_u128() as u64) & ((1 << 62) - 1))
            .collect();
        assert_eq!(random.len(), 20_000);
    }

    /// A clock stepped back is not followed back; one before 1970 or past what 48 bits of
    /// milliseconds hold still gives v7 uuids, unique.
    #[test]
    fn uuids_outlast_a_wrong_clock() {
        let last = AtomicU64::new(0);
        let now = UnixTime::now();
        let first = uuid_v7_after(&last, now);
        let earlier = UnixTime {
            secs: now.secs - 3600,
            nanos: 0,
        };
        assert!(uuid_v7_after(&last, earlier) > first);
        let last = AtomicU64::new(0);
        let mut seen = std::collections::HashSet::new();
        for secs in [-5, -5, 0, i64::MAX, i64::MAX, i64::MAX] {
            let uuid = uuid_v7_after(&last, UnixTime { secs, nanos: 0 });
            assert_eq!(uuid.get_version_num(), 7);
            assert!(seen.insert(uuid));
        }
    }
}
