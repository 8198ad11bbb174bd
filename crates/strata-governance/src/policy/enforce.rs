//! What a rule decides about one write: the TTL to forward, the violations, and the outcome
//! its enforcement mode gives them.

use std::time::Duration;

use strata_core::{Error, ErrorKind, Namespace, Ttl};

use super::{Mode, Rule};
use strata_core::config::format_duration;

/// What the layer does with the write.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Forward it with the decided TTL.
    Forward,
    /// Forward it with a TTL the rule fixed (clamp mode): counts an override.
    Overridden,
    /// Refuse it.
    Rejected(Error),
}

/// A rule's decision about one write.
#[derive(Debug)]
pub(crate) struct Decision {
    /// The TTL to forward.
    pub(crate) ttl: Option<Ttl>,
    /// The rule fields the write broke, with what happened (for logs and counters).
    pub(crate) violations: Vec<(&'static str, String)>,
    /// What to do.
    pub(crate) outcome: Outcome,
}

impl Rule {
    /// Decides a write (or an `expire`) in `ns` asking for `requested`, of `payload` bytes
    /// (`None` for `expire`). `unit` is a uniform draw in `[0, 1)` for the jitter.
    pub(crate) fn decide(
        &self,
        ns: &Namespace,
        requested: Option<Ttl>,
        payload: Option<usize>,
        unit: f64,
    ) -> Decision {
        let mut violations = Vec::new();
        let mut payload_broken = false;
        if let (Some(max), Some(len)) = (self.max_payload, payload)
            && len as u64 > max
        {
            payload_broken = true;
            violations.push((
                "max_payload",
                format!(
                    "a value of {len} bytes is over the limit of {max} bytes for namespace {ns}"
                ),
            ));
        }
        let (wanted, fixed) = match requested {
            None => (
                Some(self.ttl.duration().map_or(Ttl::Never, Ttl::After)),
                None,
            ),
            Some(Ttl::Never) => match self.ceiling {
                Some(c) => {
                    violations.push((
                        "ceiling",
                        format!(
                            "no expiry is above the ceiling of {} for namespace {ns}",
                            format_duration(c)
                        ),
                    ));
                    (requested, Some(Ttl::After(c)))
                }
                None => (requested, None),
            },
            Some(Ttl::After(d)) => {
                if let Some(f) = self.floor.filter(|f| d < *f) {
                    violations.push((
                        "floor",
                        format!(
                            "ttl {} is below the floor of {} for namespace {ns}",
                            format_duration(d),
                            format_duration(f)
                        ),
                    ));
                    (requested, Some(Ttl::After(f)))
                } else if let Some(c) = self.ceiling.filter(|c| d > *c) {
                    violations.push((
                        "ceiling",
                        format!(
                            "ttl {} is above the ceiling of {} for namespace {ns}",
                            format_duration(d),
                            format_duration(c)
                        ),
                    ));
                    (requested, Some(Ttl::After(c)))
                } else {
                    (requested, None)
                }
            }
            // Ttl is non-exhaustive: a variant added later is forwarded as asked.
            Some(_) => (requested, None),
        };
        if violations.is_empty() {
            return Decision {
                ttl: wanted.map(|t| self.jittered(t, unit)),
                violations,
                outcome: Outcome::Forward,
            };
        }
        match self.mode {
            Mode::Warn => Decision {
                ttl: requested.or(wanted),
                violations,
                outcome: Outcome::Forward,
            },
            Mode::Clamp if !payload_broken => Decision {
                ttl: fixed.map(|t| self.jittered(t, unit)),
                violations,
                outcome: Outcome::Overridden,
            },
            _ => {
                let (field, message) = &violations[0];
                let more = if violations.len() > 1 {
                    format!(" (and {} more)", violations.len() - 1)
                } else {
                    String::new()
                };
                let error = Error::new(
                    ErrorKind::Rejected,
                    format!(
                        "governance rule rules.{}.{field} (mode {}) refused the write: {message}{more}",
                        self.namespace, self.mode
                    ),
                )
                .with_backend("governance");
                Decision {
                    ttl: None,
                    violations,
                    outcome: Outcome::Rejected(error),
                }
            }
        }
    }

    /// `ttl` spread by the jitter (`unit` in `[0, 1)`), kept within the floor and ceiling and
    /// at least 1 ms.
    fn jittered(&self, ttl: Ttl, unit: f64) -> Ttl {
        let Ttl::After(d) = ttl else { return ttl };
        if self.jitter <= 0.0 {
            return ttl;
        }
        let factor = 1.0 + self.jitter * (2.0 * unit - 1.0);
        let mut spread = Duration::from_secs_f64((d.as_secs_f64() * factor).max(0.001));
        if let Some(f) = self.floor {
            spread = spread.max(f);
        }
        if let Some(c) = self.ceiling {
            spread = spread.min(c);
        }
        Ttl::After(spread.max(Duration::from_millis(1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{AllowedTiers, Origin, Priority, TtlSpec};

    fn rule(mode: Mode) -> Rule {
        Rule {
            namespace: "curves".into(),
            origin: Origin::BuiltIn,
            ttl: TtlSpec::After(Duration::from_secs(300)),
            floor: Some(Duration::from_secs(60)),
            ceiling: Some(Duration::from_secs(600)),
            max_payload: Some(10),
            jitter: 0.1,
            tiers: AllowedTiers::Both,
            priority: Priority::High,
            mode,
        }
    }

    #[test]
    fn jitter_stays_in_its_band_and_bounds() {
        let r = rule(Mode::Clamp);
        let ns = Namespace::new("curves").unwrap();
        for (unit, want) in [(0.0, 270.0), (0.5, 300.0), (0.999_999, 330.0)] {
            let d = r.decide(&ns, None, Some(1), unit);
            let Some(Ttl::After(ttl)) = d.ttl else {
                panic!("{d:?}")
            };
            assert!((ttl.as_secs_f64() - want).abs() < 0.01, "{unit}: {ttl:?}");
        }
        // A clamped ceiling with jitter never goes past the ceiling.
        let d = r.decide(&ns, Some(Ttl::secs(3600)), Some(1), 0.999);
        assert!(matches!(d.outcome, Outcome::Overridden));
        assert!(d.ttl.and_then(Ttl::duration).unwrap() <= Duration::from_secs(600));
    }
}
