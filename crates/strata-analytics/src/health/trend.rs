//! The score's trend: the moving average of the last window against the window before.

use std::collections::VecDeque;
use std::time::Duration;

use serde::Serialize;
use strata_core::Timestamp;

/// How far apart the two windows' averages must be to count as a change.
pub(crate) const STABLE_BAND: f64 = 5.0;
const MAX_POINTS: usize = 4096;

/// Which way the score is going.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TrendDirection {
    /// Up by more than 5 points.
    Improving,
    /// Within 5 points.
    Stable,
    /// Down by more than 5 points.
    Degrading,
    /// No assessment in one of the two windows yet.
    InsufficientData,
}

/// The score's moving average over the last window and the one before it.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Trend {
    /// The verdict.
    pub direction: TrendDirection,
    /// The mean score of the assessments in the last window (this one included).
    pub current_average: Option<f64>,
    /// The mean score in the window before.
    pub previous_average: Option<f64>,
    /// The window, in seconds.
    pub window_s: u64,
}

/// Scores of past assessments.
#[derive(Default)]
pub(crate) struct History {
    points: VecDeque<(Timestamp, u32)>,
}

impl History {
    /// Records `score` at `now` and returns the trend over `window`.
    pub(crate) fn record(&mut self, now: Timestamp, score: u32, window: Duration) -> Trend {
        if self.points.len() == MAX_POINTS {
            self.points.pop_front();
        }
        self.points.push_back((now, score));
        let window_nanos = u64::try_from(window.as_nanos()).unwrap_or(u64::MAX);
        let start = Timestamp::from_nanos(now.as_nanos().saturating_sub(window_nanos));
        let before = Timestamp::from_nanos(start.as_nanos().saturating_sub(window_nanos));
        let mean = |from: Timestamp, to: Timestamp, include_to: bool| {
            let (sum, n) = self
                .points
                .iter()
                .filter(|(t, _)| *t > from && (*t < to || (include_to && *t == to)))
                .fold((0u64, 0u64), |(s, n), (_, v)| (s + u64::from(*v), n + 1));
            (n > 0).then(|| sum as f64 / n as f64)
        };
        let current = mean(start, now, true);
        let previous = mean(before, start, true);
        let direction = match (current, previous) {
            (Some(c), Some(p)) if c - p > STABLE_BAND => TrendDirection::Improving,
            (Some(c), Some(p)) if p - c > STABLE_BAND => TrendDirection::Degrading,
            (Some(_), Some(_)) => TrendDirection::Stable,
            _ => TrendDirection::InsufficientData,
        };
        // Points older than two windows no longer matter.
        while self.points.front().is_some_and(|(t, _)| *t <= before) {
            self.points.pop_front();
        }
        Trend {
            direction,
            current_average: current,
            previous_average: previous,
            window_s: window.as_secs(),
        }
    }
}
