//! A small fixed random generator for the demo city and the measuring
//! data: the same seed gives the same rows on every machine.

/// A 64-bit linear congruential generator.
pub struct Dice(pub u64);

impl Dice {
    pub fn roll(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.roll() % 100 < percent
    }
}
