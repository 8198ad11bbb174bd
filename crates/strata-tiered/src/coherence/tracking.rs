//! Key tracking's part of the coherence state: whether writes by any client reach this node.

use std::fmt;

/// The state of key tracking, as health and explain report it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TrackingState {
    /// Not configured: the backplane alone keeps L1 coherent.
    Off,
    /// Configured, not armed yet (L1 is bypassed until it is).
    Arming,
    /// Armed: writes by any client evict L1 entries.
    Armed,
    /// Lost (disconnection, restart, topology change); re-arming. L1 is bypassed.
    Lost(String),
    /// The backend refuses tracking: the backplane alone keeps L1 coherent.
    Unavailable(String),
}

impl TrackingState {
    /// True when tracking does not stop L1 from being served: armed, or not part of the
    /// design (off, unavailable).
    pub(crate) fn allows_l1(&self) -> bool {
        matches!(
            self,
            TrackingState::Off | TrackingState::Armed | TrackingState::Unavailable(_)
        )
    }

    /// True when writes by other clients (not through a Strata node) reach L1.
    pub(crate) fn covers_foreign_writes(&self) -> bool {
        matches!(self, TrackingState::Armed)
    }
}

impl fmt::Display for TrackingState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrackingState::Off => f.write_str("off (backplane only)"),
            TrackingState::Arming => f.write_str("arming"),
            TrackingState::Armed => f.write_str("armed"),
            TrackingState::Lost(reason) => write!(f, "lost, re-arming: {reason}"),
            TrackingState::Unavailable(reason) => {
                write!(f, "unavailable (backplane only): {reason}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_arming_and_lost_stop_l1() {
        assert!(TrackingState::Off.allows_l1());
        assert!(TrackingState::Armed.allows_l1());
        assert!(TrackingState::Unavailable("no".into()).allows_l1());
        assert!(!TrackingState::Arming.allows_l1());
        assert!(!TrackingState::Lost("restart".into()).allows_l1());
        assert!(TrackingState::Armed.covers_foreign_writes());
        assert!(!TrackingState::Unavailable("x".into()).covers_foreign_writes());
        assert_eq!(
            TrackingState::Unavailable("NOPERM".into()).to_string(),
            "unavailable (backplane only): NOPERM"
        );
    }
}
