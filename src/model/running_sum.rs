//! A sum of numbers whose mean stays right past the largest `f64`.

/// The scale of a sum that went past the largest `f64`: a power of two, so scaling loses no
/// precision.
const SCALE: f64 = 1.0 / 18_446_744_073_709_551_616.0;

/// A running sum (a trait's `sum` or `avg`, a KPI's revenue). Once adding would go past the
/// largest `f64`, the sum is kept as `sum × 2⁻⁶⁴`: its mean then stays right, and the sum
/// itself reads as infinite (out of range).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RunningSum {
    value: f64,
    scaled: bool,
}

impl RunningSum {
    /// A sum kept as it is.
    pub fn plain(sum: f64) -> Self {
        Self {
            value: sum,
            scaled: false,
        }
    }

    /// A sum kept as `sum × 2⁻⁶⁴` ([`RunningSum::parts`] of a scaled one).
    pub fn scaled(value: f64) -> Self {
        Self {
            value,
            scaled: true,
        }
    }

    /// Adds `number`, scaling the sum from now on if it would leave the range.
    pub fn add(&mut self, number: f64) {
        if self.scaled {
            self.value += number * SCALE;
        } else if (self.value + number).is_finite() {
            self.value += number;
        } else {
            self.value = self.value * SCALE + number * SCALE;
            self.scaled = true;
        }
    }

    /// The sum: infinite once scaled.
    pub fn total(self) -> f64 {
        if self.scaled {
            self.value / SCALE
        } else {
            self.value
        }
    }

    /// The mean of `count` numbers that add up to this sum (NaN for none).
    pub fn mean(self, count: u64) -> f64 {
        let mean = self.value / count as f64;
        if self.scaled {
            mean / SCALE
        } else {
            mean
        }
    }

    /// The value kept and whether it is scaled.
    pub fn parts(self) -> (f64, bool) {
        (self.value, self.scaled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sum_past_the_largest_number_keeps_its_mean() {
        let mut sum = RunningSum::default();
        for number in [1.7e308, 1.7e308, 1.0e308] {
            sum.add(number);
        }
        assert!(sum.parts().1);
        assert_eq!(sum.total(), f64::INFINITY);
        assert!((sum.mean(3) - 1.4666666666666667e308).abs() < 1e294);
        let mut negative = RunningSum::default();
        negative.add(-1.7e308);
        negative.add(-1.7e308);
        assert_eq!(negative.mean(2), -1.7e308);
        assert_eq!(negative.total(), f64::NEG_INFINITY);
    }

    #[test]
    fn a_sum_in_range_is_plain() {
        let mut sum = RunningSum::default();
        for number in [0.1, 0.2, 0.3] {
            sum.add(number);
        }
        assert_eq!(sum, RunningSum::plain(0.1 + 0.2 + 0.3));
        assert_eq!(sum.total(), 0.1 + 0.2 + 0.3);
        assert_eq!(sum.mean(3), (0.1 + 0.2 + 0.3) / 3.0);
    }
}
