//! Points, exactly: a test's points and a score are counted in hundredths of a point.
//!
//! Points may be fractional (`// TEST name (1.5 points)`) and a test may award part of its
//! points (`partial!(0.5, …)`). Adding them as `f64` drifts (`0.1 + 0.2` prints as
//! `0.30000000000000004`), and a gradebook must add up to the cent, so points are an integer
//! count of hundredths. Hundredths are what Gradescope's and Canvas's grade books show (two
//! decimals); a decimal crate (`rust_decimal`) would buy more places than any rubric uses at
//! the price of a dependency, and an `i64` of hundredths sums, compares and hashes exactly.
//! Written out, whole points are integers (`3`) and the rest the shortest decimal (`0.3`,
//! `1.25`), in JSON as in CSV.

use serde::{Serialize, Serializer};
use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign};
use std::str::FromStr;

/// A number of points, in hundredths (`Points::from_hundredths(150)` is 1.5 points).
///
/// ```
/// use grader::points::Points;
/// let sum: Points = ["0.1", "0.2"].iter().map(|p| p.parse::<Points>().unwrap()).sum();
/// assert_eq!(sum.to_string(), "0.3");
/// assert_eq!("2".parse::<Points>().unwrap().to_string(), "2");
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Points(i64);

/// Hundredths in one point.
const SCALE: i64 = 100;

impl Points {
    /// No points.
    pub const ZERO: Points = Points(0);

    /// `hundredths` hundredths of a point.
    pub const fn from_hundredths(hundredths: i64) -> Points {
        Points(hundredths)
    }

    /// Whole points.
    pub const fn whole(points: i64) -> Points {
        Points(points * SCALE)
    }

    /// The count of hundredths.
    pub const fn hundredths(self) -> i64 {
        self.0
    }

    /// The points as a float, for formats that take a JSON number (Gradescope's `score`).
    pub fn as_f64(self) -> f64 {
        self.0 as f64 / SCALE as f64
    }

    /// The nearest number of points to `value` (a float read back from JSON); `None` when it
    /// is not finite.
    pub fn from_f64(value: f64) -> Option<Points> {
        let hundredths = (value * SCALE as f64).round();
        (hundredths.is_finite() && hundredths.abs() < i64::MAX as f64)
            .then_some(Points(hundredths as i64))
    }

    /// `fraction` of these points (a partial credit), rounded to the nearest hundredth.
    ///
    /// # Errors
    /// [`PointsError::FractionOutOfRange`] when `fraction` is not a number from 0 to 1 (NaN
    /// included).
    pub fn part(self, fraction: f64) -> Result<Points, PointsError> {
        if !(0.0..=1.0).contains(&fraction) {
            return Err(PointsError::FractionOutOfRange { fraction });
        }
        Ok(Points((self.0 as f64 * fraction).round() as i64))
    }
}

impl fmt::Display for Points {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let (whole, rest) = (self.0.abs() / SCALE, self.0.abs() % SCALE);
        match rest {
            0 => write!(f, "{sign}{whole}"),
            r if r % 10 == 0 => write!(f, "{sign}{whole}.{}", r / 10),
            r => write!(f, "{sign}{whole}.{r:02}"),
        }
    }
}

/// Why a text is not a number of points, or a fraction not a part of them.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PointsError {
    /// The text is not a decimal with at most two places ([`Points::from_str`]).
    #[error(
        "`{text}` is not a number of points (a decimal with at most two places, like 2 or 1.5)"
    )]
    NotANumber {
        /// The text as given.
        text: String,
    },
    /// A partial credit's fraction outside 0 to 1 ([`Points::part`]).
    #[error("partial credit must be a fraction from 0 to 1 of the test's points, not {fraction}")]
    FractionOutOfRange {
        /// The fraction as given (may be NaN).
        fraction: f64,
    },
}

impl FromStr for Points {
    type Err = PointsError;

    /// Reads `3`, `1.5`, `0.25`, `-1` (at most two decimal places, no exponent).
    fn from_str(text: &str) -> Result<Points, PointsError> {
        let bad = || PointsError::NotANumber {
            text: text.to_owned(),
        };
        let trimmed = text.trim();
        let (negative, digits) = match trimmed.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, trimmed),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        let all_digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) || fraction.len() > 2 {
            return Err(bad());
        }
        let whole: i64 = whole.parse().map_err(|_| bad())?;
        let fraction: i64 = format!("{fraction:0<2}").parse().map_err(|_| bad())?;
        let hundredths = whole
            .checked_mul(SCALE)
            .and_then(|w| w.checked_add(fraction))
            .ok_or_else(bad)?;
        Ok(Points(if negative { -hundredths } else { hundredths }))
    }
}

impl Add for Points {
    type Output = Points;
    fn add(self, other: Points) -> Points {
        Points(self.0 + other.0)
    }
}

impl AddAssign for Points {
    fn add_assign(&mut self, other: Points) {
        self.0 += other.0;
    }
}

impl Sum for Points {
    fn sum<I: Iterator<Item = Points>>(iter: I) -> Points {
        Points(iter.map(|p| p.0).sum())
    }
}

impl<'a> Sum<&'a Points> for Points {
    fn sum<I: Iterator<Item = &'a Points>>(iter: I) -> Points {
        iter.copied().sum()
    }
}

impl Serialize for Points {
    /// Whole points as a JSON integer, the rest as the shortest float that reads back exactly.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0 % SCALE == 0 {
            serializer.serialize_i64(self.0 / SCALE)
        } else {
            serializer.serialize_f64(self.as_f64())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_are_exact() {
        let tenths: Points = std::iter::repeat_n("0.1".parse::<Points>().unwrap(), 10).sum();
        assert_eq!(tenths, Points::whole(1));
        let sum = "0.1".parse::<Points>().unwrap() + "0.2".parse().unwrap();
        assert_eq!(sum.to_string(), "0.3");
        assert_eq!(serde_json::to_string(&sum).unwrap(), "0.3");
        assert_eq!(serde_json::to_string(&Points::whole(3)).unwrap(), "3");
    }

    #[test]
    fn texts_read_and_write_back() {
        for text in ["0", "3", "1.5", "0.25", "0.05", "12.1", "-1.5"] {
            assert_eq!(text.parse::<Points>().unwrap().to_string(), text);
        }
        assert_eq!("1.50".parse::<Points>().unwrap().to_string(), "1.5");
        for bad in ["", ".5", "1.234", "1e2", "two", "1.5.0", "+1", " - 1"] {
            let error = bad.parse::<Points>().unwrap_err();
            assert_eq!(
                error,
                PointsError::NotANumber {
                    text: bad.to_owned()
                }
            );
            assert!(
                error.to_string().contains("is not a number of points"),
                "{bad}"
            );
        }
    }

    #[test]
    fn parts_round_to_hundredths_and_refuse_fractions_outside_0_to_1() {
        let three = Points::whole(3);
        assert_eq!(three.part(0.5).unwrap().to_string(), "1.5");
        assert_eq!(three.part(1.0 / 3.0).unwrap().to_string(), "1");
        assert_eq!(
            Points::whole(1).part(1.0 / 3.0).unwrap().to_string(),
            "0.33"
        );
        let error = three.part(1.5).unwrap_err();
        assert_eq!(error, PointsError::FractionOutOfRange { fraction: 1.5 });
        assert!(error.to_string().contains("from 0 to 1"), "{error}");
        assert!(
            matches!(three.part(f64::NAN), Err(PointsError::FractionOutOfRange { fraction }) if fraction.is_nan())
        );
        assert_eq!(Points::from_f64(0.30000000000000004), "0.3".parse().ok());
    }
}
