//! Requests counted per network address in fixed windows, in memory: a
//! restart forgets, which errs towards letting people in. Public answers
//! and sign-ins each have one.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct Limiter {
    window: Duration,
    max: u32,
    seen: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

/// Sign-in attempts one address may make a minute, whatever the accounts:
/// the per-account lockout stops guessing one password, this stops
/// trying many accounts. A school's or an office's computers behind one
/// address still fit.
pub const SIGN_INS_PER_WINDOW: u32 = 60;
pub const SIGN_IN_WINDOW: Duration = Duration::from_secs(60);

impl Limiter {
    pub fn new(window: Duration, max: u32) -> Self {
        Limiter {
            window,
            max,
            seen: Mutex::default(),
        }
    }

    /// The public answers' limit.
    pub fn public_answers() -> Self {
        Self::new(
            super::surveys::PUBLIC_WINDOW,
            super::surveys::PUBLIC_ANSWERS_PER_WINDOW,
        )
    }

    pub fn sign_ins() -> Self {
        Self::new(SIGN_IN_WINDOW, SIGN_INS_PER_WINDOW)
    }

    /// Whether one more is allowed now (and counts it).
    pub fn allow(&self, ip: IpAddr) -> bool {
        let now = Instant::now();
        let Ok(mut seen) = self.seen.lock() else {
            return true;
        };
        if seen.len() > 100_000 {
            seen.retain(|_, (at, _)| now.duration_since(*at) < self.window);
        }
        let e = seen.entry(ip).or_insert((now, 0));
        if now.duration_since(e.0) >= self.window {
            *e = (now, 0);
        }
        e.1 += 1;
        e.1 <= self.max
    }

    /// Seconds until the address's window starts afresh.
    pub fn retry_after(&self, ip: IpAddr) -> u64 {
        let Ok(seen) = self.seen.lock() else {
            return 0;
        };
        seen.get(&ip).map_or(0, |(at, _)| {
            self.window.saturating_sub(at.elapsed()).as_secs().max(1)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_answers_limit_stops_an_address_after_its_share() {
        let l = Limiter::public_answers();
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        for _ in 0..super::super::surveys::PUBLIC_ANSWERS_PER_WINDOW {
            assert!(l.allow(a));
        }
        assert!(!l.allow(a));
        assert!(l.allow(b));
    }

    #[test]
    fn an_address_past_its_limit_waits_for_the_next_window() {
        let l = Limiter::new(Duration::from_millis(200), 3);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        assert!((0..3).all(|_| l.allow(a)));
        assert!(!l.allow(a), "the fourth in the window");
        assert!(l.allow(b), "another address is not held back");
        assert!(l.retry_after(a) >= 1);
        std::thread::sleep(Duration::from_millis(250));
        assert!(l.allow(a), "a new window");
    }
}
