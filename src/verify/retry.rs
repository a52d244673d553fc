//! When to try again: up to 2 retries, waiting what the server asks (`retry-after-ms`, then
//! `retry-after` in seconds or as an HTTP date) up to 20 s, or else a capped exponential backoff
//! with jitter (0.5 s, 1 s, … at most 8 s, less up to a quarter), as OpenAI's own SDK does.

use super::clock::Clock;
use super::http::Answer;
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How many attempts and how far apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts after the first.
    pub max_retries: u32,
    /// The first backoff; each next one doubles.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// The longest `retry-after` honoured: asking for more gives `unknown` instead of a stall.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 2,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(20),
        }
    }
}

/// What to do after an undecided attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Wait this long, then try again.
    Wait(Duration),
    /// Stop: the attempts are used up.
    GiveUp,
    /// Stop: the server asked to wait longer than `max_retry_after`.
    TooLong(Duration),
}

impl RetryPolicy {
    /// After attempt `attempt` (0 for the first) failed: the server's wait if it named one,
    /// else the backoff scaled by `jitter` in [0, 1).
    pub fn next(&self, attempt: u32, asked: Option<Duration>, jitter: f64) -> Next {
        if let Some(wait) = asked.filter(|w| *w > self.max_retry_after) {
            return Next::TooLong(wait);
        }
        if attempt >= self.max_retries {
            return Next::GiveUp;
        }
        Next::Wait(asked.unwrap_or_else(|| self.backoff(attempt, jitter)))
    }

    /// After attempt `attempt` (0 for the first) ended undecided with `why` and `answer`: waits
    /// on `clock` and returns `None` to try again, or the reason the verdict stays `unknown`.
    pub fn pause(
        &self,
        clock: &dyn Clock,
        attempt: u32,
        answer: Option<&Answer>,
        why: String,
    ) -> Option<String> {
        let asked = answer.and_then(|a| asked_wait(a, clock.now()));
        match self.next(attempt, asked, jitter()) {
            Next::Wait(wait) => {
                clock.sleep(wait);
                None
            }
            Next::GiveUp => Some(format!("{why} (after {} attempts)", attempt + 1)),
            Next::TooLong(wait) => Some(format!(
                "{why}; asked to retry after {} s, longer than keyhound waits ({} s)",
                wait.as_secs_f64().ceil(),
                self.max_retry_after.as_secs()
            )),
        }
    }

    /// `min(initial * 2^attempt, max) * (1 - jitter / 4)`.
    pub fn backoff(&self, attempt: u32, jitter: f64) -> Duration {
        let full = self
            .initial_backoff
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.max_backoff);
        full.mul_f64(1.0 - 0.25 * jitter.clamp(0.0, 1.0))
    }
}

/// The wait an answer asks for: `retry-after-ms` first, then `retry-after` as seconds or as an
/// HTTP date (measured from `now`, seconds since the epoch). Unreadable values are ignored.
pub fn asked_wait(answer: &Answer, now: i64) -> Option<Duration> {
    let ms = answer
        .retry_after_ms
        .as_deref()
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v >= 0.0)
        .map(|v| Duration::from_secs_f64(v / 1000.0));
    ms.or_else(|| {
        answer
            .retry_after
            .as_deref()
            .and_then(|v| seconds_or_date(v, now))
    })
}

fn seconds_or_date(value: &str, now: i64) -> Option<Duration> {
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    let at = when.duration_since(UNIX_EPOCH).ok()?.as_secs() as i64;
    Some(Duration::from_secs(at.saturating_sub(now).max(0) as u64))
}

/// A number in [0, 1) that differs from call to call, to spread retries of concurrent workers.
pub fn jitter() -> f64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_less_jitter() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff(0, 0.0), ms(500));
        assert_eq!(p.backoff(1, 0.0), ms(1000));
        assert_eq!(p.backoff(1, 1.0), ms(750));
        assert_eq!(p.backoff(5, 0.0), ms(8000));
        assert_eq!(p.backoff(40, 0.0), ms(8000));
    }

    #[test]
    fn two_retries_then_give_up() {
        let p = RetryPolicy::default();
        assert_eq!(p.next(0, None, 0.0), Next::Wait(ms(500)));
        assert_eq!(p.next(1, None, 0.0), Next::Wait(ms(1000)));
        assert_eq!(p.next(2, None, 0.0), Next::GiveUp);
    }

    #[test]
    fn the_server_wait_is_honoured_up_to_20_s() {
        let p = RetryPolicy::default();
        assert_eq!(p.next(0, Some(ms(7000)), 0.9), Next::Wait(ms(7000)));
        assert_eq!(p.next(0, Some(ms(20_000)), 0.0), Next::Wait(ms(20_000)));
        assert_eq!(p.next(0, Some(ms(20_001)), 0.0), Next::TooLong(ms(20_001)));
        assert_eq!(p.next(2, Some(ms(60_000)), 0.0), Next::TooLong(ms(60_000)));
    }

    #[test]
    fn retry_after_ms_comes_first_then_seconds_then_dates() {
        let mut a = Answer {
            retry_after_ms: Some("250".into()),
            retry_after: Some("3".into()),
            ..Answer::default()
        };
        assert_eq!(asked_wait(&a, 0), Some(ms(250)));
        a.retry_after_ms = Some("soon".into());
        assert_eq!(asked_wait(&a, 0), Some(ms(3000)));
        a.retry_after = Some("Wed, 21 Oct 2015 07:28:05 GMT".into());
        assert_eq!(asked_wait(&a, 1_445_412_480), Some(ms(5000)));
        assert_eq!(asked_wait(&a, 1_445_412_490), Some(Duration::ZERO));
        a.retry_after = Some("-4".into());
        assert_eq!(asked_wait(&a, 0), None);
        assert_eq!(asked_wait(&Answer::default(), 0), None);
    }

    #[test]
    fn jitter_stays_in_range() {
        for _ in 0..100 {
            let j = jitter();
            assert!((0.0..1.0).contains(&j), "{j}");
        }
    }
}
