//! nmap's timing templates and its retransmission-timeout estimator.

use std::time::Duration;

/// The timing templates users know from nmap (`-T3` is nmap's default).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TimingTemplate {
    #[default]
    T3,
    T4,
    T5,
}

impl TimingTemplate {
    pub fn timing(self) -> Timing {
        let ms = Duration::from_millis;
        let (initial, min, max, retries) = match self {
            TimingTemplate::T3 => (ms(1000), ms(100), ms(10_000), 10),
            TimingTemplate::T4 => (ms(500), ms(100), ms(1250), 6),
            TimingTemplate::T5 => (ms(250), ms(50), ms(300), 2),
        };
        Timing {
            initial_rtt_timeout: initial,
            min_rtt_timeout: min,
            max_rtt_timeout: max,
            max_retries: retries,
        }
    }
}

impl From<TimingTemplate> for Timing {
    fn from(template: TimingTemplate) -> Timing {
        template.timing()
    }
}

/// Probe timeouts and retries. Fields are public so callers can override a template's values
/// (nmap's `--initial-rtt-timeout`, `--min-rtt-timeout`, `--max-rtt-timeout`, `--max-retries`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    pub initial_rtt_timeout: Duration,
    pub min_rtt_timeout: Duration,
    pub max_rtt_timeout: Duration,
    /// Upper bound on retransmissions of a probe that got no response. Like nmap,
    /// the engine retries only as often as retries have been seen to help (plus one).
    pub max_retries: u32,
}

impl Default for Timing {
    fn default() -> Timing {
        TimingTemplate::T3.timing()
    }
}

/// TCP-style smoothed RTT and variance, as nmap's timing.cc keeps them:
/// timeout = srtt + 4·rttvar, clamped to the template's bounds.
#[derive(Clone, Copy, Debug)]
pub struct RttEstimator {
    srtt_us: Option<i64>,
    rttvar_us: i64,
    timeout: Duration,
    min: Duration,
    max: Duration,
}

impl RttEstimator {
    pub fn new(timing: &Timing) -> RttEstimator {
        RttEstimator {
            srtt_us: None,
            rttvar_us: 0,
            timeout: timing.initial_rtt_timeout.clamp(
                timing.min_rtt_timeout,
                timing.max_rtt_timeout.max(timing.min_rtt_timeout),
            ),
            min: timing.min_rtt_timeout,
            max: timing.max_rtt_timeout.max(timing.min_rtt_timeout),
        }
    }

    pub fn has_samples(&self) -> bool {
        self.srtt_us.is_some()
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    pub fn srtt(&self) -> Option<Duration> {
        self.srtt_us
            .map(|us| Duration::from_micros(us.max(0) as u64))
    }

    pub fn observe(&mut self, rtt: Duration) {
        let sample = i64::try_from(rtt.as_micros()).unwrap_or(i64::MAX / 8);
        match self.srtt_us {
            None => {
                // nmap seeds the variance with the first sample, bounded to [5 ms, 2 s].
                self.srtt_us = Some(sample);
                self.rttvar_us = sample.clamp(5_000, 2_000_000);
            }
            Some(srtt) => {
                let delta = sample - srtt;
                self.srtt_us = Some(srtt + delta / 8);
                self.rttvar_us += (delta.abs() - self.rttvar_us) / 4;
            }
        }
        let raw = self.srtt_us.unwrap_or(sample) + 4 * self.rttvar_us;
        self.timeout = Duration::from_micros(raw.max(0) as u64).clamp(self.min, self.max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_nmap() {
        let t4 = TimingTemplate::T4.timing();
        assert_eq!(t4.initial_rtt_timeout, Duration::from_millis(500));
        assert_eq!(t4.max_rtt_timeout, Duration::from_millis(1250));
        assert_eq!(t4.max_retries, 6);
        assert_eq!(
            TimingTemplate::T5.timing().min_rtt_timeout,
            Duration::from_millis(50)
        );
        assert_eq!(Timing::default().max_retries, 10);
    }

    #[test]
    fn initial_timeout_until_first_sample() {
        let estimator = RttEstimator::new(&TimingTemplate::T3.timing());
        assert!(!estimator.has_samples());
        assert_eq!(estimator.timeout(), Duration::from_secs(1));
    }

    #[test]
    fn first_sample_seeds_variance_and_timeout() {
        let mut estimator = RttEstimator::new(&TimingTemplate::T3.timing());
        estimator.observe(Duration::from_millis(40));
        // srtt 40 ms + 4 · rttvar 40 ms = 200 ms
        assert_eq!(estimator.timeout(), Duration::from_millis(200));
        // 20 ms later sample: delta -20 ms → srtt 37.5 ms, rttvar 40 + (20-40)/4 = 35 ms → 177.5 ms
        estimator.observe(Duration::from_millis(20));
        assert_eq!(estimator.srtt(), Some(Duration::from_micros(37_500)));
        assert_eq!(estimator.timeout(), Duration::from_micros(177_500));
    }

    #[test]
    fn timeout_is_clamped_to_template_bounds() {
        let mut fast = RttEstimator::new(&TimingTemplate::T4.timing());
        fast.observe(Duration::from_micros(30));
        assert_eq!(
            fast.timeout(),
            Duration::from_millis(100),
            "loopback RTTs clamp to the minimum"
        );
        let mut slow = RttEstimator::new(&TimingTemplate::T5.timing());
        slow.observe(Duration::from_secs(2));
        assert_eq!(slow.timeout(), Duration::from_millis(300));
    }
}
