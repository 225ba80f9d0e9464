//! The real clock and random source.

use arca_core::ports::{Clock, RandomSource};
use chrono::{DateTime, SubsecRound, Utc};
use rand::RngCore;

/// The system clock, truncated to microseconds (the precision every metadata store keeps).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now().trunc_subsecs(6)
    }
}

/// The operating system's cryptographically secure random source.
#[derive(Debug, Clone, Copy, Default)]
pub struct OsRandom;

impl RandomSource for OsRandom {
    fn fill(&self, buf: &mut [u8]) {
        rand::rngs::OsRng.fill_bytes(buf);
    }
}
