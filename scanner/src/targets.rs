//! Target specifications: addresses, CIDR blocks and nmap octet ranges,
//! kept as a sorted list of disjoint address intervals so that a /8 (or a
//! /64) costs a few bytes and can be indexed by position without ever being
//! materialised.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

use crate::Error;

/// Octet-range specifications such as `*.*.*.1` expand to one interval per
/// combination of the leading octets; beyond this many we refuse rather than
/// use unbounded memory.
const MAX_INTERVALS: usize = 1 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Interval {
    /// IPv4 sorts before IPv6; the two families never merge.
    v6: bool,
    start: u128,
    /// Inclusive, so that `::/0` is representable.
    end: u128,
}

impl Interval {
    fn size(&self) -> u128 {
        // A full IPv6 space has 2^128 addresses; saturating is fine because sizes are only summed and capped.
        (self.end - self.start).saturating_add(1)
    }
}

/// A parsed set of scan targets minus exclusions. Iteration and indexing are
/// lazy: memory depends on the number of ranges written, not on the number of
/// addresses they cover.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TargetSet {
    intervals: Vec<Interval>,
    /// `offsets[i]` = number of addresses in `intervals[..i]`.
    offsets: Vec<u128>,
    total: u128,
}

impl TargetSet {
    /// Parses a target specification: addresses, CIDR blocks (v4 and v6), nmap
    /// octet ranges (`10.0.0.1-50`, `10.0.1-3.*`), separated by commas,
    /// spaces or newlines. Host names are not accepted (nothing is resolved).
    pub fn parse(spec: &str) -> Result<TargetSet, Error> {
        Self::parse_with_exclusions(spec, "")
    }

    /// Like [`TargetSet::parse`], then removes every address matched by `exclude` (same syntax).
    pub fn parse_with_exclusions(spec: &str, exclude: &str) -> Result<TargetSet, Error> {
        let included = merge(parse_intervals(spec)?);
        let excluded = merge(parse_intervals(exclude)?);
        Ok(Self::from_intervals(subtract(&included, &excluded)))
    }

    fn from_intervals(intervals: Vec<Interval>) -> TargetSet {
        let mut offsets = Vec::with_capacity(intervals.len());
        let mut total: u128 = 0;
        for interval in &intervals {
            offsets.push(total);
            total = total.saturating_add(interval.size());
        }
        TargetSet {
            intervals,
            offsets,
            total,
        }
    }

    /// Number of addresses after exclusions, saturated at `u64::MAX` (only
    /// IPv6 blocks larger than a /64 get there).
    pub fn len(&self) -> u64 {
        u64::try_from(self.total).unwrap_or(u64::MAX)
    }

    /// Exact number of addresses after exclusions.
    pub fn len_u128(&self) -> u128 {
        self.total
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let (v6, value) = key(ip);
        let probe = Interval {
            v6,
            start: value,
            end: value,
        };
        let after = self
            .intervals
            .partition_point(|interval| (interval.v6, interval.start) <= (v6, value));
        after > 0 && {
            let candidate = self.intervals[after - 1];
            candidate.v6 == probe.v6 && candidate.start <= value && value <= candidate.end
        }
    }

    /// The address at `index` in ascending address order (IPv4 first), or
    /// `None` past the end.
    pub fn get(&self, index: u128) -> Option<IpAddr> {
        if index >= self.total {
            return None;
        }
        let slot = self.offsets.partition_point(|&offset| offset <= index) - 1;
        let interval = self.intervals[slot];
        let value = interval.start + (index - self.offsets[slot]);
        Some(if interval.v6 {
            IpAddr::V6(Ipv6Addr::from(value))
        } else {
            // IPv4 intervals only ever hold 32-bit values.
            IpAddr::V4(Ipv4Addr::from(value as u32))
        })
    }

    /// All addresses in ascending order, lazily.
    pub fn iter(&self) -> impl Iterator<Item = IpAddr> + '_ {
        self.intervals.iter().flat_map(|interval| {
            let v6 = interval.v6;
            // `start..=end` over u128 is lazy; the full IPv6 space would simply never finish.
            (interval.start..=interval.end).map(move |value| {
                if v6 {
                    IpAddr::V6(Ipv6Addr::from(value))
                } else {
                    IpAddr::V4(Ipv4Addr::from(value as u32))
                }
            })
        })
    }

    /// Whether every address of this set is also in `other`.
    pub fn is_subset_of(&self, other: &TargetSet) -> bool {
        subtract(&self.intervals, &other.intervals).is_empty()
    }

    /// Number of separate address ranges held (memory is proportional to this).
    pub fn range_count(&self) -> usize {
        self.intervals.len()
    }
}

/// Writes the set back as a target specification that parses to the same set:
/// the fewest CIDR blocks per range, single addresses bare, comma-separated.
impl std::fmt::Display for TargetSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut first = true;
        let mut write_block = |f: &mut std::fmt::Formatter<'_>, net: IpNet| {
            let separator = if first { "" } else { "," };
            first = false;
            if net.prefix_len() == net.max_prefix_len() {
                write!(f, "{separator}{}", net.addr())
            } else {
                write!(f, "{separator}{net}")
            }
        };
        for interval in &self.intervals {
            if interval.v6 {
                let blocks = ipnet::Ipv6Subnets::new(
                    Ipv6Addr::from(interval.start),
                    Ipv6Addr::from(interval.end),
                    0,
                );
                for block in blocks {
                    write_block(f, IpNet::V6(block))?;
                }
            } else {
                // IPv4 intervals only ever hold 32-bit values.
                let blocks = ipnet::Ipv4Subnets::new(
                    Ipv4Addr::from(interval.start as u32),
                    Ipv4Addr::from(interval.end as u32),
                    0,
                );
                for block in blocks {
                    write_block(f, IpNet::V4(block))?;
                }
            }
        }
        Ok(())
    }
}

fn key(ip: IpAddr) -> (bool, u128) {
    match ip {
        IpAddr::V4(v4) => (false, u128::from(u32::from(v4))),
        IpAddr::V6(v6) => (true, u128::from(v6)),
    }
}

/// Splits on commas and whitespace, keeping each token's character offset for error messages.
fn tokens(spec: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut rest_start = 0;
    std::iter::from_fn(move || {
        let rest = &spec[rest_start..];
        let skip = rest.find(|c: char| !(c == ',' || c.is_whitespace()))?;
        let token_start = rest_start + skip;
        let token_len = spec[token_start..]
            .find(|c: char| c == ',' || c.is_whitespace())
            .unwrap_or(spec.len() - token_start);
        rest_start = token_start + token_len;
        let offset = spec[..token_start].chars().count();
        Some((offset, &spec[token_start..token_start + token_len]))
    })
}

fn parse_intervals(spec: &str) -> Result<Vec<Interval>, Error> {
    let mut intervals = Vec::new();
    for (offset, token) in tokens(spec) {
        let bad = |problem: &str| Error::BadTarget {
            token: token.to_string(),
            offset,
            problem: problem.to_string(),
        };
        if token.contains('/') {
            let net: IpNet = token
                .parse()
                .map_err(|_| bad("not a valid CIDR block (address/prefix length)"))?;
            // nmap scans the whole block that contains the given address, so 10.0.0.5/24 means 10.0.0.0/24.
            let net = net.trunc();
            let (v6, start) = key(net.network());
            let (_, end) = key(net.broadcast());
            intervals.push(Interval { v6, start, end });
        } else if let Ok(ip) = token.parse::<IpAddr>() {
            let (v6, value) = key(ip);
            intervals.push(Interval {
                v6,
                start: value,
                end: value,
            });
        } else if token.contains(':') {
            return Err(bad(
                "not a valid IPv6 address (ranges are written as CIDR blocks in IPv6)",
            ));
        } else {
            push_octet_ranges(token, &mut intervals).map_err(|problem| bad(&problem))?;
        }
        if intervals.len() > MAX_INTERVALS {
            return Err(Error::TooFragmented {
                limit: MAX_INTERVALS,
            });
        }
    }
    Ok(intervals)
}

/// nmap's IPv4 octet-range syntax: four dot-separated parts, each `*`, `N`,
/// `N-M`, `-M` or `N-`.
fn push_octet_ranges(token: &str, intervals: &mut Vec<Interval>) -> Result<(), String> {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 4 {
        if token.chars().any(|c| c.is_ascii_alphabetic() && c != '*') {
            return Err("host names are not resolved; give an address or a block".to_string());
        }
        return Err(format!(
            "expected 4 dot-separated octets, found {}",
            parts.len()
        ));
    }
    let mut octets = [(0u8, 0u8); 4];
    for (slot, part) in octets.iter_mut().zip(&parts) {
        *slot = parse_octet_range(part)?;
    }
    // The lowest octet after which all octets are full (0-255) decides how many
    // contiguous runs the product has: e.g. 10.0.1-3.* is one run.
    let mut first_full_suffix = 4;
    while first_full_suffix > 0 && octets[first_full_suffix - 1] == (0, 255) {
        first_full_suffix -= 1;
    }
    let run_octet = first_full_suffix.saturating_sub(1);
    let prefix = &octets[..run_octet];
    let run_count: usize = prefix
        .iter()
        .map(|(lo, hi)| usize::from(hi - lo) + 1)
        .product();
    if intervals.len() + run_count > MAX_INTERVALS {
        return Err(format!(
            "expands to {run_count} separate ranges (more than {MAX_INTERVALS}); use CIDR blocks instead"
        ));
    }
    let shift = 8 * (3 - run_octet as u32);
    let (run_lo, run_hi) = octets[run_octet];
    for combination in 0..run_count {
        let mut remaining = combination;
        let mut base: u32 = 0;
        for (index, (lo, hi)) in prefix.iter().enumerate().rev() {
            let width = usize::from(hi - lo) + 1;
            let value = u32::from(*lo) + (remaining % width) as u32;
            remaining /= width;
            base |= value << (8 * (3 - index as u32));
        }
        let low_mask: u32 = if shift == 0 { 0 } else { (1u32 << shift) - 1 };
        let start = base | (u32::from(run_lo) << shift);
        let end = base | (u32::from(run_hi) << shift) | low_mask;
        intervals.push(Interval {
            v6: false,
            start: u128::from(start),
            end: u128::from(end),
        });
    }
    Ok(())
}

fn parse_octet_range(part: &str) -> Result<(u8, u8), String> {
    let octet = |text: &str, default: u8| -> Result<u8, String> {
        if text.is_empty() {
            return Ok(default);
        }
        if !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("octet {text:?} is not a number 0-255"));
        }
        text.parse::<u8>()
            .map_err(|_| format!("octet {text:?} is larger than 255"))
    };
    if part == "*" {
        return Ok((0, 255));
    }
    if part.is_empty() {
        return Err("empty octet".to_string());
    }
    let (lo, hi) = match part.split_once('-') {
        Some((lo, hi)) => (octet(lo, 0)?, octet(hi, 255)?),
        None => {
            let value = octet(part, 0)?;
            (value, value)
        }
    };
    if lo > hi {
        return Err(format!("octet range {part:?} runs backwards"));
    }
    Ok((lo, hi))
}

fn merge(mut intervals: Vec<Interval>) -> Vec<Interval> {
    intervals.sort_unstable();
    let mut merged: Vec<Interval> = Vec::with_capacity(intervals.len());
    for interval in intervals {
        match merged.last_mut() {
            Some(last)
                if last.v6 == interval.v6 && interval.start <= last.end.saturating_add(1) =>
            {
                last.end = last.end.max(interval.end);
            }
            _ => merged.push(interval),
        }
    }
    merged
}

/// `included` minus `excluded`; both sorted and disjoint.
fn subtract(included: &[Interval], excluded: &[Interval]) -> Vec<Interval> {
    let mut result = Vec::with_capacity(included.len());
    let mut cut_index = 0;
    for &interval in included {
        let mut current = Some(interval);
        while cut_index < excluded.len()
            && (excluded[cut_index].v6, excluded[cut_index].end) < (interval.v6, interval.start)
        {
            cut_index += 1;
        }
        let mut scan = cut_index;
        while let (Some(piece), Some(cut)) = (current, excluded.get(scan)) {
            if cut.v6 != piece.v6 || cut.start > piece.end {
                break;
            }
            if cut.end < piece.start {
                scan += 1;
                continue;
            }
            if cut.start > piece.start {
                result.push(Interval {
                    v6: piece.v6,
                    start: piece.start,
                    end: cut.start - 1,
                });
            }
            current = if cut.end < piece.end {
                Some(Interval {
                    v6: piece.v6,
                    start: cut.end + 1,
                    end: piece.end,
                })
            } else {
                None
            };
            scan += 1;
        }
        if let Some(piece) = current {
            result.push(piece);
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(text: &str) -> IpAddr {
        text.parse().expect("test address")
    }

    #[test]
    fn cidr_single_and_octet_ranges() {
        let set =
            TargetSet::parse("10.0.0.0/30, 10.0.1.1-3\n192.0.2.9 10.0.2-3.*").expect("valid spec");
        assert_eq!(set.len(), 4 + 3 + 1 + 512);
        assert!(set.contains(v4("10.0.1.2")));
        assert!(!set.contains(v4("10.0.1.4")));
        assert!(set.contains(v4("10.0.3.255")));
        assert_eq!(set.get(0), Some(v4("10.0.0.0")));
        assert_eq!(set.get(4), Some(v4("10.0.1.1")));
        assert_eq!(set.get(u128::from(set.len()) - 1), Some(v4("192.0.2.9")));
        assert_eq!(set.get(u128::from(set.len())), None);
        let listed: Vec<IpAddr> = set.iter().take(5).collect();
        assert_eq!(listed[4], v4("10.0.1.1"));
    }

    #[test]
    fn octet_product_with_gaps() {
        let set = TargetSet::parse("10.1-2.0.1-2").expect("valid spec");
        let all: Vec<IpAddr> = set.iter().collect();
        assert_eq!(
            all,
            vec![
                v4("10.1.0.1"),
                v4("10.1.0.2"),
                v4("10.2.0.1"),
                v4("10.2.0.2")
            ]
        );
        let open_ended = TargetSet::parse("10.0.0.250-").expect("valid spec");
        assert_eq!(open_ended.len(), 6);
    }

    #[test]
    fn cidr_host_bits_are_ignored_like_nmap() {
        let set = TargetSet::parse("10.0.0.5/24").expect("valid spec");
        assert_eq!(set.len(), 256);
        assert_eq!(set.get(0), Some(v4("10.0.0.0")));
    }

    #[test]
    fn exclusions_split_and_remove() {
        let set =
            TargetSet::parse_with_exclusions("10.0.0.0/24", "10.0.0.0,10.0.0.10-19 10.0.0.255")
                .expect("valid");
        assert_eq!(set.len(), 256 - 1 - 10 - 1);
        assert!(!set.contains(v4("10.0.0.15")));
        assert!(set.contains(v4("10.0.0.20")));
        assert!(!set.contains(v4("10.0.0.0")));
        let emptied = TargetSet::parse_with_exclusions("10.0.0.1-5", "10.0.0.0/24").expect("valid");
        assert!(emptied.is_empty());
    }

    #[test]
    fn duplicates_and_overlaps_count_once() {
        let set = TargetSet::parse("10.0.0.1 10.0.0.1 10.0.0.0/31 10.0.0.2").expect("valid");
        assert_eq!(set.len(), 3);
    }

    #[test]
    fn ipv6_blocks_and_saturation() {
        let set = TargetSet::parse("2001:db8::/120 ::1").expect("valid");
        assert_eq!(set.len(), 257);
        assert!(set.contains("2001:db8::ff".parse().expect("addr")));
        assert_eq!(set.get(0), Some("::1".parse().expect("addr")));
        let huge = TargetSet::parse("2001:db8::/32").expect("valid");
        assert_eq!(huge.len(), u64::MAX);
        assert_eq!(huge.len_u128(), 1u128 << 96);
        let mixed = TargetSet::parse_with_exclusions("::/0 0.0.0.0/0", "::1").expect("valid");
        // 2^128 + 2^32 - 1 addresses do not fit: the count saturates.
        assert_eq!(mixed.len_u128(), u128::MAX);
        assert_eq!(mixed.len(), u64::MAX);
    }

    #[test]
    fn errors_name_the_token_and_its_position() {
        let err = TargetSet::parse("10.0.0.1, 10.0.0.300").expect_err("octet too big");
        match &err {
            Error::BadTarget { token, offset, .. } => {
                assert_eq!(token, "10.0.0.300");
                assert_eq!(*offset, 10);
            }
            other => panic!("wrong error {other:?}"),
        }
        assert!(err.to_string().contains("10.0.0.300"));
        let name = TargetSet::parse("fileserver.example").expect_err("names are refused");
        assert!(
            name.to_string().contains("host names are not resolved"),
            "{name}"
        );
        for bad in [
            "10.0.0.0/33",
            "10.0.0.9-3",
            "10.0.0",
            "10.0.0.a",
            "fe80::zz",
            "10..0.1",
        ] {
            let err = TargetSet::parse(bad).expect_err(bad);
            assert!(err.to_string().contains(bad), "{err}");
        }
        let exclusion =
            TargetSet::parse_with_exclusions("10.0.0.0/24", "nope").expect_err("bad exclusion");
        assert!(exclusion.to_string().contains("nope"));
    }

    #[test]
    fn over_fragmented_specs_are_refused() {
        let err = TargetSet::parse("*.*.*.1").expect_err("16M runs");
        assert!(err.to_string().contains("CIDR"), "{err}");
    }

    #[test]
    fn subsets_and_printing() {
        let block = TargetSet::parse("10.0.0.0/24").expect("valid");
        assert!(
            TargetSet::parse("10.0.0.7-9")
                .expect("valid")
                .is_subset_of(&block)
        );
        assert!(
            !TargetSet::parse("10.0.0.0/23")
                .expect("valid")
                .is_subset_of(&block)
        );
        let cut = TargetSet::parse_with_exclusions("10.0.0.0/24 ::1", "10.0.0.1").expect("valid");
        assert_eq!(
            cut.to_string(),
            "10.0.0.0,10.0.0.2/31,10.0.0.4/30,10.0.0.8/29,10.0.0.16/28,10.0.0.32/27,10.0.0.64/26,10.0.0.128/25,::1"
        );
    }

    #[test]
    fn slash_eight_is_one_range() {
        let set = TargetSet::parse("10.0.0.0/8").expect("valid");
        assert_eq!(set.len(), 1 << 24);
        assert_eq!(set.range_count(), 1);
    }
}
