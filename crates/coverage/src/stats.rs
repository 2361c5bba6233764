//! Interval estimates for the report.

use serde::Serialize;

/// Two-sided 95% normal quantile.
pub const Z95: f64 = 1.959_963_984_540_054;

/// Wilson score interval for `k` successes in `n` trials at normal quantile
/// `z` (Wilson 1927). Unlike the Wald interval it stays inside [0, 1] and is
/// sensible for k = 0 or k = n, which is common here (full coverage gives no
/// major outbreak at all). Returns (0, 1) for n = 0.
pub fn wilson(k: u64, n: u64, z: f64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let n_f = n as f64;
    let p = k as f64 / n_f;
    let z2 = z * z;
    let denom = 1.0 + z2 / n_f;
    let centre = (p + z2 / (2.0 * n_f)) / denom;
    let half = z * (p * (1.0 - p) / n_f + z2 / (4.0 * n_f * n_f)).sqrt() / denom;
    // The exact ends for k = 0 and k = n, which rounding would miss by 1e-18.
    let lo = if k == 0 {
        0.0
    } else {
        (centre - half).max(0.0)
    };
    let hi = if k >= n {
        1.0
    } else {
        (centre + half).min(1.0)
    };
    (lo, hi)
}

/// Two-sided 97.5% quantile of Student's t for `df` degrees of freedom
/// (table for df ≤ 30, normal beyond: the difference is under 2% there).
pub fn t975(df: u64) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::INFINITY,
        d if d <= 30 => TABLE[(d - 1) as usize],
        _ => Z95,
    }
}

/// Mean, sample standard deviation and 95% t-interval of the mean.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MeanCi {
    pub n: u64,
    pub mean: f64,
    pub sd: f64,
    pub ci_low: f64,
    pub ci_high: f64,
}

/// `None` for fewer than two values (no spread, no interval).
pub fn mean_ci(values: impl Iterator<Item = f64> + Clone) -> Option<MeanCi> {
    let (mut n, mut sum) = (0u64, 0.0);
    for v in values.clone() {
        n += 1;
        sum += v;
    }
    if n < 2 {
        return None;
    }
    let mean = sum / n as f64;
    let ss: f64 = values.map(|v| (v - mean) * (v - mean)).sum();
    let sd = (ss / (n - 1) as f64).sqrt();
    let half = t975(n - 1) * sd / (n as f64).sqrt();
    Some(MeanCi {
        n,
        mean,
        sd,
        ci_low: mean - half,
        ci_high: mean + half,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_known_values() {
        // 8 of 10 at 95%: (0.4902, 0.9433), the textbook example.
        let (lo, hi) = wilson(8, 10, Z95);
        assert!(
            (lo - 0.4902).abs() < 1e-4 && (hi - 0.9433).abs() < 1e-4,
            "{lo} {hi}"
        );
        let (lo, hi) = wilson(0, 100, Z95);
        assert_eq!(lo, 0.0);
        assert!((hi - 0.0370).abs() < 1e-4, "{hi}");
        assert_eq!(wilson(0, 0, Z95), (0.0, 1.0));
    }

    #[test]
    fn mean_interval() {
        let m = mean_ci([1.0, 2.0, 3.0, 4.0].into_iter()).unwrap();
        assert_eq!(m.mean, 2.5);
        assert!((m.sd - 1.290_994).abs() < 1e-6);
        // t(3) = 3.182: half width 3.182 * 1.291 / 2 = 2.054.
        assert!((m.ci_high - 4.554).abs() < 1e-3, "{}", m.ci_high);
        assert_eq!(mean_ci([1.0].into_iter()), None);
    }
}
