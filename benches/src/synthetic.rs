//! Synthetic workloads for `cargo xtask sim`: access patterns the real traces hold little
//! of, to check that the adaptive policy adapts instead of fitting five traces.
//!
//! Each workload is a fixed, seeded sequence of page numbers (the same on every run and
//! machine), meant for caches of 5,000 to 40,000 entries. The simulator takes one as
//! `--trace synthetic:NAME`; its results name the trace `synthetic-NAME`.
//!
//! | name | what it is | what it tests |
//! |---|---|---|
//! | `loop` | the same 48,000 pages in order, over and over | a loop larger than the cache: LRU hits nothing, a frequency filter keeps a fixed part |
//! | `shift` | 70 % Zipf (0.9) over a hot set of 20,000 pages that is replaced by new pages every 250,000 requests, 30 % uniform over 1,000,000 cold pages | a hot set that moves: frequency must age |
//! | `scan` | 70,000 requests Zipf (0.9) over 10,000 hot pages, then 30,000 pages never seen before, in turn | scan resistance |
//! | `phases` | 250,000 requests Zipf (0.9) over 200,000 pages, then 250,000 requests in which each page comes back once, 4,000 pages later, in turn | a workload that changes from frequency- to recency-friendly and back: the window must move |
//!
//! ```
//! let pages = strata_benches::synthetic::generate("scan").unwrap();
//! assert_eq!(pages.len(), strata_benches::synthetic::REQUESTS);
//! assert!(strata_benches::synthetic::generate("nope").is_err());
//! ```

use crate::workload::{Rng, Zipf};

/// Requests in each workload.
pub const REQUESTS: usize = 2_000_000;

/// The workloads, by name.
pub const NAMES: [&str; 4] = ["loop", "shift", "scan", "phases"];

/// What `--trace` starts with to name a synthetic workload.
pub const PREFIX: &str = "synthetic:";

/// The workload a `--trace` argument names, if it names one (`synthetic:NAME`).
pub fn name_in(arg: &str) -> Option<&str> {
    arg.strip_prefix(PREFIX)
}

/// The name results give the workload `name`.
pub fn trace_name(name: &str) -> String {
    format!("synthetic-{name}")
}

/// The pages of workload `name`, or an error listing the names there are.
pub fn generate(name: &str) -> Result<Vec<u64>, String> {
    let mut rng = Rng::new(0x5157_4E54 ^ NAMES.iter().position(|n| *n == name).unwrap_or(0) as u64);
    let pages = match name {
        "loop" => (0..REQUESTS as u64).map(|i| i % 48_000).collect(),
        "shift" => shift(&mut rng),
        "scan" => scan(&mut rng),
        "phases" => phases(&mut rng),
        other => {
            return Err(format!(
                "no synthetic workload `{other}`: there are {}",
                NAMES.map(|n| format!("{PREFIX}{n}")).join(", ")
            ));
        }
    };
    Ok(pages)
}

/// Page numbers of distinct parts of a workload never meet: each part starts at a multiple
/// of this.
const PART: u64 = 1 << 32;

fn shift(rng: &mut Rng) -> Vec<u64> {
    let hot = Zipf::new(20_000, 0.9);
    (0..REQUESTS)
        .map(|i| {
            if rng.next_f64() < 0.7 {
                let generation = (i / 250_000) as u64 + 1;
                generation * PART + hot.sample(rng)
            } else {
                rng.next_u64() % 1_000_000
            }
        })
        .collect()
}

fn scan(rng: &mut Rng) -> Vec<u64> {
    let hot = Zipf::new(10_000, 0.9);
    let mut pages = Vec::with_capacity(REQUESTS);
    let mut next_new = PART;
    while pages.len() < REQUESTS {
        pages.extend((0..70_000).map(|_| hot.sample(rng)));
        pages.extend(next_new..next_new + 30_000);
        next_new += 30_000;
    }
    pages.truncate(REQUESTS);
    pages
}

fn phases(rng: &mut Rng) -> Vec<u64> {
    let frequent = Zipf::new(200_000, 0.9);
    let mut pages = Vec::with_capacity(REQUESTS);
    let mut part = 0;
    while pages.len() < REQUESTS {
        part += 1;
        pages.extend((0..250_000).map(|_| part * PART + frequent.sample(rng)));
        part += 1;
        // Each page twice, 4,000 pages apart: new pages interleaved with returning ones.
        pages.extend((0..250_000u64).map(|t| {
            let k = t / 2;
            part * PART
                + if t % 2 == 0 {
                    k
                } else {
                    k.saturating_sub(4_000)
                }
        }));
    }
    pages.truncate(REQUESTS);
    pages
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_workload_is_deterministic_and_full_length() {
        for name in NAMES {
            let a = generate(name).unwrap();
            assert_eq!(a.len(), REQUESTS, "{name}");
            assert_eq!(a, generate(name).unwrap(), "{name} changed between calls");
        }
    }

    #[test]
    fn workloads_have_the_shape_they_claim() {
        let looped = generate("loop").unwrap();
        assert_eq!(looped[48_000], looped[0]);
        assert_eq!(*looped.iter().max().unwrap(), 47_999);

        // Each scan's pages are new.
        let scan = generate("scan").unwrap();
        assert_eq!(scan[70_000], PART);
        assert_eq!(scan[170_000], PART + 30_000);
        assert!(scan[..70_000].iter().all(|&p| (1..=10_000).contains(&p)));

        // The hot set of one generation never comes back in the next.
        let shift = generate("shift").unwrap();
        let first: std::collections::HashSet<u64> = shift[..250_000]
            .iter()
            .copied()
            .filter(|&p| p >= PART)
            .collect();
        assert!(first.len() > 5_000);
        assert!(shift[250_000..500_000].iter().all(|p| !first.contains(p)));

        let phases = generate("phases").unwrap();
        // The recency phase: page k at step 2k and again at step 2(k + 4,000) + 1.
        assert!(
            phases[..250_000]
                .iter()
                .all(|&p| p > PART && p <= PART + 200_000)
        );
        assert_eq!(phases[250_000], 2 * PART);
        assert_eq!(phases[250_000 + 2 * (1 + 4_000) + 1], phases[250_000 + 2]);
        assert_eq!(
            phases[250_000 + 2 * (100 + 4_000) + 1],
            phases[250_000 + 200]
        );
    }

    #[test]
    fn unknown_names_are_an_error_that_lists_the_names() {
        let e = generate("loops").unwrap_err();
        assert!(
            e.contains("synthetic:loop") && e.contains("synthetic:phases"),
            "{e}"
        );
        assert_eq!(name_in("synthetic:scan"), Some("scan"));
        assert_eq!(name_in("P3.lis.zst"), None);
        assert_eq!(trace_name("scan"), "synthetic-scan");
    }
}
