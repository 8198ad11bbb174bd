//! When an entry read from L2 is copied into L1.
//!
//! The decision is [`Promotion`] (chosen per namespace); the bookkeeping it needs (how many
//! L2 hits a key had, and when) is [`Tracker`], bounded so that a scan over many keys cannot
//! grow it without limit.

use std::collections::HashMap;
use std::time::Duration;

use parking_lot::Mutex;
use strata_core::{Key, Timestamp};

/// How an L2 hit is promoted into L1.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "strategy")]
pub enum Promotion {
    /// On the first L2 hit.
    #[default]
    Immediate,
    /// On the `hits`-th L2 hit of a key within `window` (counted from its first L2 hit):
    /// keys read once in a while stay in L2 only.
    Conditional {
        /// L2 hits needed (at least 1).
        hits: u32,
        /// The window they must fall in.
        window: Duration,
    },
    /// The first L2 hit only marks the key; the next read of it promotes it, however late.
    Lazy,
    /// Predictive: on an L2 hit, when L1 says it would keep the key (its frequency
    /// estimate, counting this read, beats the entry it would evict next; see
    /// [`TieredBuilder::admission`](crate::TieredBuilder::admission)). Keys read once in a
    /// while never displace the hot set; a key read often enough is promoted.
    Predictive,
    /// Never: L1 holds only what this node wrote.
    Never,
}

impl std::str::FromStr for Promotion {
    type Err = String;

    /// `immediate`, `lazy`, `predictive`, `never`, or `conditional:<hits>/<window>` (for
    /// example `conditional:3/60s`: the third L2 hit within 60 s promotes).
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim().to_ascii_lowercase();
        Ok(match t.as_str() {
            "immediate" => Promotion::Immediate,
            "lazy" => Promotion::Lazy,
            "predictive" => Promotion::Predictive,
            "never" => Promotion::Never,
            _ => {
                let spec = t.strip_prefix("conditional:").ok_or_else(|| {
                    format!(
                        "unknown promotion {s:?}; expected immediate, lazy, predictive, never or conditional:<hits>/<window> (conditional:3/60s)"
                    )
                })?;
                let (hits, window) = spec
                    .split_once('/')
                    .ok_or_else(|| format!("{s:?} needs hits and a window: conditional:3/60s"))?;
                let hits: u32 = hits
                    .trim()
                    .parse()
                    .ok()
                    .filter(|&h| h >= 1)
                    .ok_or_else(|| {
                        format!("{s:?}: the hits must be a whole number of 1 or more")
                    })?;
                let window = strata_core::config::parse_duration(window)
                    .map_err(|e| format!("{s:?}: {e}"))?;
                if window.is_zero() {
                    return Err(format!("{s:?}: the window must be longer than 0"));
                }
                Promotion::Conditional { hits, window }
            }
        })
    }
}

impl Promotion {
    /// The L2 hits needed and the window, or `None` for `Never`.
    fn threshold(self) -> Option<(u32, Option<Duration>)> {
        match self {
            Promotion::Immediate | Promotion::Predictive => Some((1, None)),
            Promotion::Conditional { hits, window } => Some((hits.max(1), Some(window))),
            Promotion::Lazy => Some((2, None)),
            Promotion::Never => None,
        }
    }
}

/// The most keys whose L2 hits are remembered; past it the oldest half is forgotten (they
/// start counting again).
const MAX_TRACKED: usize = 65_536;

/// L2 hits per key, for the strategies that need more than one.
#[derive(Debug, Default)]
pub(crate) struct Tracker {
    hits: Mutex<HashMap<Key, (u32, Timestamp)>>,
}

impl Tracker {
    /// Records an L2 hit of `key` at `now`; true when `promotion` says to promote it now.
    pub(crate) fn hit(&self, promotion: Promotion, key: &Key, now: Timestamp) -> bool {
        let Some((needed, window)) = promotion.threshold() else {
            return false;
        };
        if needed <= 1 {
            return true;
        }
        let mut map = self.hits.lock();
        let slot = map.entry(key.clone()).or_insert((0, now));
        if window.is_some_and(|w| now.saturating_duration_since(slot.1) > w) {
            // The window ran out: this hit starts a new one.
            *slot = (0, now);
        }
        slot.0 += 1;
        if slot.0 >= needed {
            map.remove(key);
            return true;
        }
        if map.len() > MAX_TRACKED {
            let mut firsts: Vec<Timestamp> = map.values().map(|&(_, t)| t).collect();
            let mid = firsts.len() / 2;
            let (_, cut, _) = firsts.select_nth_unstable(mid);
            let cut = *cut;
            map.retain(|_, &mut (_, first)| first > cut);
        }
        false
    }

    /// Forgets `key` (it was written or invalidated).
    pub(crate) fn forget(&self, key: &Key) {
        self.hits.lock().remove(key);
    }

    /// Keys being counted.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.hits.lock().len()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn promotions_parse_from_configuration() {
        use super::Promotion;
        use std::time::Duration;
        assert_eq!("Predictive".parse(), Ok(Promotion::Predictive));
        assert_eq!("lazy".parse(), Ok(Promotion::Lazy));
        assert_eq!(
            "conditional:3/60s".parse(),
            Ok(Promotion::Conditional {
                hits: 3,
                window: Duration::from_secs(60)
            })
        );
        for bad in [
            "sometimes",
            "conditional:0/1s",
            "conditional:3",
            "conditional:2/0s",
        ] {
            assert!(bad.parse::<Promotion>().is_err(), "{bad}");
        }
    }

    use super::*;
    use strata_core::Namespace;

    fn key(id: &str) -> Key {
        Key::new(&Namespace::new("t").unwrap(), id).unwrap()
    }

    #[test]
    fn conditional_promotes_on_the_nth_hit_in_the_window() {
        let t = Tracker::default();
        let p = Promotion::Conditional {
            hits: 3,
            window: Duration::from_secs(10),
        };
        let at = |s: u64| Timestamp::from_millis(s * 1_000);
        assert!(!t.hit(p, &key("a"), at(0)));
        assert!(!t.hit(p, &key("a"), at(5)));
        assert!(t.hit(p, &key("a"), at(9)), "third hit within 10 s");
        assert!(!t.hit(p, &key("b"), at(0)));
        assert!(!t.hit(p, &key("b"), at(5)));
        assert!(
            !t.hit(p, &key("b"), at(11)),
            "the window ran out: counting restarts"
        );
        assert!(!t.hit(p, &key("b"), at(12)));
        assert!(t.hit(p, &key("b"), at(13)));
    }

    #[test]
    fn lazy_promotes_on_the_second_read_however_late_and_never_never() {
        let t = Tracker::default();
        assert!(!t.hit(Promotion::Lazy, &key("a"), Timestamp::from_millis(0)));
        assert!(t.hit(
            Promotion::Lazy,
            &key("a"),
            Timestamp::from_millis(u64::MAX / 2)
        ));
        assert!(t.hit(Promotion::Immediate, &key("a"), Timestamp::from_millis(0)));
        assert!(!t.hit(Promotion::Never, &key("a"), Timestamp::from_millis(0)));
        assert_eq!(t.len(), 0);
    }

    #[test]
    fn the_tracker_is_bounded() {
        let t = Tracker::default();
        for i in 0..(MAX_TRACKED as u64 + 10) {
            t.hit(
                Promotion::Lazy,
                &key(&format!("k{i}")),
                Timestamp::from_millis(i),
            );
        }
        assert!(t.len() <= MAX_TRACKED / 2 + 11, "{}", t.len());
    }
}
