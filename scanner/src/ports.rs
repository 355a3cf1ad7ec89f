//! nmap-style port lists: `22,80,8000-8100`, `-` for all ports, `T:` prefix accepted.

use crate::Error;

/// Parses a port list into ascending, de-duplicated ports.
pub fn parse_ports(spec: &str) -> Result<Vec<u16>, Error> {
    let bad = |token: &str, problem: &str| Error::BadPorts {
        token: token.to_string(),
        problem: problem.to_string(),
    };
    let number = |token: &str, text: &str, default: u16| -> Result<u16, Error> {
        if text.is_empty() {
            return Ok(default);
        }
        match text.parse::<u32>() {
            Ok(port @ 1..=65535) => Ok(port as u16),
            Ok(_) => Err(bad(token, "ports run from 1 to 65535")),
            Err(_) => Err(bad(token, "not a number")),
        }
    };
    let mut ports = Vec::new();
    for token in spec.split(',').map(str::trim) {
        if token.is_empty() {
            return Err(bad(spec, "empty entry in the list"));
        }
        let body = token.strip_prefix("T:").unwrap_or(token);
        if body.starts_with("U:") || body.starts_with("S:") {
            return Err(bad(token, "only TCP ports can be scanned with connect()"));
        }
        let (low, high) = match body.split_once('-') {
            Some((low, high)) => (number(token, low, 1)?, number(token, high, 65535)?),
            None => {
                let port = number(token, body, 0)?;
                (port, port)
            }
        };
        if low > high {
            return Err(bad(token, "range runs backwards"));
        }
        ports.extend(low..=high);
    }
    ports.sort_unstable();
    ports.dedup();
    Ok(ports)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_ranges_and_all() {
        assert_eq!(
            parse_ports("2967,8081,8192-8194").expect("valid"),
            vec![2967, 8081, 8192, 8193, 8194]
        );
        assert_eq!(parse_ports("T:22, 22,21").expect("valid"), vec![21, 22]);
        assert_eq!(parse_ports("-").expect("valid").len(), 65535);
        assert_eq!(parse_ports("65530-").expect("valid").len(), 6);
    }

    #[test]
    fn errors_name_the_entry() {
        for bad in ["0", "70000", "80-22", "http", "U:53", "22,,80"] {
            let err = parse_ports(bad).expect_err(bad);
            assert!(matches!(err, Error::BadPorts { .. }), "{bad}: {err}");
        }
        assert!(
            parse_ports("22,99999")
                .expect_err("too big")
                .to_string()
                .contains("99999")
        );
    }
}
