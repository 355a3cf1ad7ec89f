//! Numbers and times formatted for people.

/// "66.7 %" — one decimal below 100, none at 0 and 100.
pub fn percent(value: f64) -> String {
    if value <= 0.0 {
        "0 %".into()
    } else if value >= 100.0 {
        "100 %".into()
    } else {
        format!("{value:.1} %")
    }
}

/// Thousands separated with a thin space: "16 777 216".
pub fn count(value: i64) -> String {
    let digits = value.unsigned_abs().to_string();
    let mut grouped = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push('\u{202f}');
        }
        grouped.push(digit);
    }
    if value < 0 {
        format!("-{grouped}")
    } else {
        grouped
    }
}

/// "2026-11-26 18:53 UTC" from an RFC 3339 timestamp (left as is if it is not one).
pub fn timestamp(rfc3339: &str) -> String {
    match (rfc3339.get(0..10), rfc3339.get(11..16)) {
        (Some(date), Some(time)) => format!("{date} {time} UTC"),
        _ => rfc3339.to_owned(),
    }
}

/// "45 s", "3 min 20 s", "2 h 5 min": a duration a person reads at a glance.
pub fn duration(seconds: i64) -> String {
    let seconds = seconds.max(0);
    match seconds {
        0..60 => format!("{seconds} s"),
        60..3600 => match seconds % 60 {
            0 => format!("{} min", seconds / 60),
            rest => format!("{} min {rest} s", seconds / 60),
        },
        _ => format!("{} h {} min", seconds / 3600, (seconds % 3600) / 60),
    }
}

/// "1 250 addresses/s" or "0.4 addresses/s".
pub fn rate(per_second: f64) -> String {
    if per_second >= 10.0 {
        format!("{} addresses/s", count(per_second.round() as i64))
    } else {
        format!("{per_second:.1} addresses/s")
    }
}

/// "just now", "5 min ago", "3 h ago", "2 d ago" from an age in seconds.
pub fn age(seconds: i64) -> String {
    match seconds {
        s if s < 60 => "just now".into(),
        s if s < 3600 => format!("{} min ago", s / 60),
        s if s < 86_400 => format!("{} h ago", s / 3600),
        s => format!("{} d ago", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_use_the_largest_sensible_units() {
        assert_eq!(duration(45), "45 s");
        assert_eq!(duration(200), "3 min 20 s");
        assert_eq!(duration(120), "2 min");
        assert_eq!(duration(7500), "2 h 5 min");
        assert_eq!(duration(-3), "0 s");
    }

    #[test]
    fn rates_round_when_large() {
        assert_eq!(rate(1250.4), "1\u{202f}250 addresses/s");
        assert_eq!(rate(0.42), "0.4 addresses/s");
    }

    #[test]
    fn percentages_read_naturally() {
        assert_eq!(percent(0.0), "0 %");
        assert_eq!(percent(100.0), "100 %");
        assert_eq!(percent(200.0 / 3.0), "66.7 %");
    }

    #[test]
    fn large_counts_are_grouped() {
        assert_eq!(count(16_777_216), "16\u{202f}777\u{202f}216");
        assert_eq!(count(999), "999");
        assert_eq!(count(-1000), "-1\u{202f}000");
    }

    #[test]
    fn timestamps_drop_seconds_and_offset() {
        assert_eq!(
            timestamp("2026-11-26T18:53:20.123+00:00"),
            "2026-11-26 18:53 UTC"
        );
        assert_eq!(timestamp("soon"), "soon");
    }

    #[test]
    fn ages_read_like_a_person_would_say_them() {
        assert_eq!(age(-3), "just now");
        assert_eq!(age(59), "just now");
        assert_eq!(age(5 * 60 + 10), "5 min ago");
        assert_eq!(age(3 * 3600 + 59), "3 h ago");
        assert_eq!(age(2 * 86_400 + 5), "2 d ago");
    }
}
