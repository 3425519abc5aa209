//! Per-channel and per-chat pacing, so that the platform never has to refuse (SPEC §5.2), and the
//! bookkeeping that keeps one channel from taking the worker's capacity: how many of its entries this
//! process holds, how many requests it has in flight, and a pause a 429 imposed on it.
//!
//! Pacing is GCRA ("virtual scheduling"): each limiter keeps the theoretical arrival time of the next
//! message; a reservation returns when the message may go, so waiting costs a timer, not a poll.
//!
//! A reservation is a plan, and timers run late when the core is busy: sends planned 34 ms apart whose
//! timers fired together would reach the platform together, and a platform that counts any sliding
//! second (Telegram) refuses what goes over. So the channel's rate is enforced a second time on the
//! moments requests really leave (`depart`), as the platform counts them: at most the rate's worth in
//! any sliding second, and never two closer than half an interval. Sends a busy core held back then
//! catch up (the second's budget they missed is still there) without leaving in a bunch.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::time::Instant;

use super::connectors::PlatformSettings;

/// One rate: at most `per_sec` on average, `burst` at once.
#[derive(Debug, Clone, Copy)]
struct Gcra {
    interval: Duration,
    tolerance: Duration,
    tat: Option<Instant>,
}

impl Gcra {
    fn new(per_sec: f64, burst: u32) -> Option<Self> {
        (per_sec > 0.0).then(|| {
            let interval = Duration::from_secs_f64(1.0 / per_sec);
            Self { interval, tolerance: interval * burst.saturating_sub(1), tat: None }
        })
    }

    /// The first moment at or after `at` this rate allows, without taking it.
    fn peek(&self, at: Instant) -> Instant {
        self.tat.map_or(at, |tat| at.max(tat.checked_sub(self.tolerance).unwrap_or(at)))
    }

    /// Takes the slot at `at` (which must be at or after `peek(at)`).
    fn take(&mut self, at: Instant) {
        self.tat = Some(self.tat.map_or(at, |tat| tat.max(at)) + self.interval);
    }
}

/// The rate over real departures: at most `count` in any `window` (the rate's worth of a second), none
/// closer than `spacing` (half an interval) to the one before.
struct Departures {
    count: usize,
    window: Duration,
    spacing: Duration,
    /// The last `count` departures, oldest first.
    recent: VecDeque<Instant>,
}

impl Departures {
    fn new(per_sec: f64) -> Option<Self> {
        (per_sec > 0.0).then(|| {
            let count = (per_sec.floor() as usize).max(1);
            Self {
                count,
                window: Duration::from_secs_f64(count as f64 / per_sec),
                spacing: Duration::from_secs_f64(0.5 / per_sec),
                recent: VecDeque::with_capacity(count),
            }
        })
    }

    /// The first moment at or after `now` a request may leave.
    fn next(&self, now: Instant) -> Instant {
        let mut at = now;
        if let Some(last) = self.recent.back() {
            at = at.max(*last + self.spacing);
        }
        if self.recent.len() >= self.count {
            at = at.max(self.recent[self.recent.len() - self.count] + self.window);
        }
        at
    }

    fn take(&mut self, at: Instant) {
        self.recent.push_back(at);
        while self.recent.len() > self.count {
            self.recent.pop_front();
        }
    }
}

/// What this process knows of one channel.
struct ChannelState {
    rate: Option<Gcra>,
    /// The channel's rate over the moments requests really left.
    departures: Option<Departures>,
    chat_rate: Option<Gcra>,
    chats: HashMap<String, Gcra>,
    paused_until: Option<Instant>,
    /// Entries of the channel this process has claimed and not yet finished.
    held: usize,
    /// The most it may hold: a couple of seconds of sending, so a throttled or paused channel leaves
    /// its entries in the database for later (or for another instance).
    max_held: usize,
    in_flight: Arc<Semaphore>,
}

#[derive(Default)]
pub struct Throttle {
    channels: Mutex<HashMap<i64, ChannelState>>,
}

/// Entries held per channel of a platform without a rate (the internal ones).
const UNPACED_HELD: usize = 512;
/// Chats remembered per channel before idle ones are forgotten.
const CHATS_KEPT: usize = 4096;

impl Throttle {
    fn with<T>(
        &self,
        channel: i64,
        limits: Option<&PlatformSettings>,
        f: impl FnOnce(&mut ChannelState) -> T,
    ) -> T {
        let mut map = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
        let state = map.entry(channel).or_insert_with(|| {
            let rate = limits.and_then(|l| Gcra::new(l.per_channel_per_sec, 1));
            let max_held = limits
                .filter(|l| l.per_channel_per_sec > 0.0)
                .map_or(UNPACED_HELD, |l| ((l.per_channel_per_sec * 2.0) as usize).max(16));
            let concurrency =
                limits.map_or(Semaphore::MAX_PERMITS, |l| l.per_channel_concurrency.max(1) as usize);
            ChannelState {
                rate,
                departures: limits.and_then(|l| Departures::new(l.per_channel_per_sec)),
                chat_rate: limits.and_then(|l| Gcra::new(l.per_chat_per_sec, l.per_chat_burst.max(1))),
                chats: HashMap::new(),
                paused_until: None,
                held: 0,
                max_held,
                in_flight: Arc::new(Semaphore::new(concurrency)),
            }
        });
        f(state)
    }

    /// Counts a claimed entry against its channel.
    pub fn hold(&self, channel: i64, limits: Option<&PlatformSettings>) {
        self.with(channel, limits, |s| s.held += 1);
    }

    /// A held entry is finished.
    pub fn release(&self, channel: i64) {
        let mut map = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(s) = map.get_mut(&channel) {
            s.held = s.held.saturating_sub(1);
        }
    }

    /// Channels not to claim for now: holding their fill, or paused.
    pub fn busy_channels(&self, now: Instant) -> Vec<i64> {
        let map = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
        map.iter()
            .filter(|(_, s)| s.held >= s.max_held || s.paused_until.is_some_and(|p| p > now))
            .map(|(id, _)| *id)
            .collect()
    }

    /// Reserves the next moment a message to `chat` of `channel` may go (both rates, and the pause).
    pub fn reserve(
        &self,
        channel: i64,
        chat: &str,
        limits: Option<&PlatformSettings>,
        now: Instant,
    ) -> Instant {
        self.with(channel, limits, |s| {
            let mut at = s.paused_until.map_or(now, |p| p.max(now));
            let chat_rate = s.chat_rate;
            if let Some(template) = chat_rate {
                if s.chats.len() >= CHATS_KEPT {
                    s.chats.retain(|_, g| g.tat.is_some_and(|t| t > now));
                }
                at = s.chats.get(chat).copied().unwrap_or(template).peek(at);
            }
            if let Some(rate) = &mut s.rate {
                at = rate.peek(at);
                rate.take(at);
            }
            if let Some(template) = chat_rate {
                s.chats.entry(chat.to_string()).or_insert(template).take(at);
            }
            at
        })
    }

    /// A request of `channel` is about to leave at `now`: takes its departure slot if the channel's rate
    /// allows one now, or tells when it will (nothing taken then).
    pub fn depart(
        &self,
        channel: i64,
        limits: Option<&PlatformSettings>,
        now: Instant,
    ) -> Result<(), Instant> {
        self.with(channel, limits, |s| {
            let paused = s.paused_until.filter(|p| *p > now);
            let at = s.departures.as_ref().map_or(now, |d| d.next(now)).max(paused.unwrap_or(now));
            if at > now {
                return Err(at);
            }
            if let Some(d) = &mut s.departures {
                d.take(now);
            }
            Ok(())
        })
    }

    /// Until when the channel is paused, if it is.
    pub fn paused_until(&self, channel: i64, now: Instant) -> Option<Instant> {
        self.with(channel, None, |s| s.paused_until.filter(|p| *p > now))
    }

    /// The platform asked the whole channel to wait: nothing more of it goes before `until`.
    pub fn pause(&self, channel: i64, until: Instant) {
        self.with(channel, None, |s| {
            s.paused_until = Some(s.paused_until.map_or(until, |p| p.max(until)));
            if let Some(rate) = &mut s.rate {
                rate.tat = Some(rate.tat.map_or(until, |t| t.max(until)));
            }
        });
    }

    /// The channel's request slots (a hanging channel holds only its own).
    pub fn in_flight(&self, channel: i64, limits: Option<&PlatformSettings>) -> Arc<Semaphore> {
        self.with(channel, limits, |s| s.in_flight.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tg(per_channel: f64, per_chat: f64, burst: u32) -> PlatformSettings {
        PlatformSettings {
            base_url: String::new(),
            per_channel_per_sec: per_channel,
            per_chat_per_sec: per_chat,
            per_chat_burst: burst,
            per_channel_concurrency: 4,
        }
    }

    #[test]
    fn channel_rate_spaces_messages_evenly() {
        let t = Throttle::default();
        let l = tg(10.0, 0.0, 1);
        let now = Instant::now();
        let times: Vec<Duration> =
            (0..5).map(|i| t.reserve(1, &format!("c{i}"), Some(&l), now) - now).collect();
        assert_eq!(times, (0..5).map(|i| Duration::from_millis(100 * i)).collect::<Vec<_>>());
    }

    #[test]
    fn chat_rate_allows_a_burst_then_paces_and_other_chats_are_free() {
        let t = Throttle::default();
        let l = tg(0.0, 1.0, 3);
        let now = Instant::now();
        let same: Vec<Duration> = (0..5).map(|_| t.reserve(1, "a", Some(&l), now) - now).collect();
        assert_eq!(same[..3], [Duration::ZERO; 3], "a burst of 3");
        assert_eq!(same[3], Duration::from_secs(1));
        assert_eq!(same[4], Duration::from_secs(2));
        assert_eq!(t.reserve(1, "b", Some(&l), now), now, "another chat is not held back");
        assert_eq!(t.reserve(2, "a", Some(&l), now), now, "nor the same chat id on another channel");
    }

    #[test]
    fn departures_catch_up_without_bunching_when_timers_fire_together() {
        let t = Throttle::default();
        let l = tg(10.0, 0.0, 1);
        let now = Instant::now();
        let ms = Duration::from_millis;
        // Three sends planned 100 ms apart whose timers all fired 250 ms late, at once: they leave at
        // once, 50 ms (half an interval) apart, not a planned 100 ms apart.
        for i in 0..3 {
            t.reserve(1, &format!("c{i}"), Some(&l), now);
        }
        let late = now + ms(250);
        assert_eq!(t.depart(1, Some(&l), late), Ok(()));
        assert_eq!(t.depart(1, Some(&l), late), Err(late + ms(50)));
        assert_eq!(t.depart(1, Some(&l), late + ms(50)), Ok(()));
        // Never more than the rate's worth (10) in any second of real departures.
        for i in 2..10 {
            assert_eq!(t.depart(1, Some(&l), late + ms(50 * i)), Ok(()), "departure {i}");
        }
        assert_eq!(
            t.depart(1, Some(&l), late + ms(500)),
            Err(late + ms(1000)),
            "the 11th waits for the first to age"
        );
        assert_eq!(t.depart(1, Some(&l), late + ms(1000)), Ok(()));
        assert_eq!(t.depart(2, None, late), Ok(()), "a channel without a rate never waits");
    }

    #[test]
    fn a_pause_holds_only_its_channel() {
        let t = Throttle::default();
        let l = tg(100.0, 0.0, 1);
        let now = Instant::now();
        t.pause(1, now + Duration::from_secs(5));
        assert!(t.reserve(1, "a", Some(&l), now) >= now + Duration::from_secs(5));
        assert_eq!(t.reserve(2, "a", Some(&l), now), now);
        assert_eq!(t.busy_channels(now), vec![1]);
        assert!(t.busy_channels(now + Duration::from_secs(6)).is_empty());
    }
}
