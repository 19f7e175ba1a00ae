//! IPv4 CIDR arithmetic: parsing a block strictly (`check_cidr`), its network and
//! length (`cidr_range`), containment (`cidr_contains`, for the network checks) and
//! Terraform's `cidrsubnet` (for the language). Pure; the schema, the functions and the
//! network checks all read blocks through it.

use std::net::Ipv4Addr;

/// A valid CIDR block as (network, prefix length), for containment and overlap tests.
pub fn cidr_range(s: &str) -> Option<(u32, u32)> {
    check_cidr(s).ok()?;
    let (ip, prefix) = s.split_once('/')?;
    Some((u32::from(ip.parse::<Ipv4Addr>().ok()?), prefix.parse().ok()?))
}

/// Does block `outer` contain all of `inner`?
pub fn cidr_contains((net, len): (u32, u32), (inner, inner_len): (u32, u32)) -> bool {
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    inner_len >= len && inner & mask == net
}

/// Parse `a.b.c.d/nn` strictly: four octets, prefix 0..=32, no host bits set.
pub fn check_cidr(s: &str) -> Result<(), String> {
    let (ip, prefix) = s.split_once('/').ok_or_else(|| format!("`{s}` has no `/prefix`"))?;
    let ip: Ipv4Addr = ip.parse().map_err(|_| format!("`{ip}` is not an IPv4 address"))?;
    let prefix: u32 = prefix.parse().map_err(|_| format!("`/{prefix}` is not a prefix length"))?;
    if prefix > 32 {
        return Err(format!("prefix length /{prefix} is larger than 32"));
    }
    let bits = u32::from(ip);
    let mask = if prefix == 0 { 0 } else { u32::MAX << (32 - prefix) };
    if bits & !mask != 0 {
        let net = Ipv4Addr::from(bits & mask);
        return Err(format!("`{s}` has host bits set; the network address is `{net}/{prefix}`"));
    }
    Ok(())
}

/// Terraform's `cidrsubnet`, for IPv4.
pub fn cidrsubnet(prefix: &str, newbits: i64, netnum: i64) -> Result<String, String> {
    check_cidr(prefix).map_err(|e| format!("`cidrsubnet`: {e}"))?;
    let (addr, len) = prefix.split_once('/').ok_or("`cidrsubnet`: the prefix has no `/`")?;
    let len: i64 = len.parse().map_err(|_| "`cidrsubnet`: bad prefix length")?;
    let octets: Vec<u32> = addr.split('.').filter_map(|o| o.parse().ok()).collect();
    let base = octets.iter().fold(0u32, |a, o| (a << 8) | o);
    // Checked before any arithmetic on it: an IPv4 prefix has at most 32 bits.
    if !(1..=32).contains(&newbits) {
        return Err(format!(
            "`cidrsubnet`: `newbits` must be from 1 to 32 (an IPv4 prefix has 32 bits), not {newbits}"
        ));
    }
    if len + newbits > 32 {
        return Err(format!(
            "`cidrsubnet`: {newbits} more bits on a /{len} is not a valid IPv4 prefix (at most /32, at least 1 new bit)"
        ));
    }
    let max = 1i64 << newbits;
    if !(0..max).contains(&netnum) {
        return Err(format!("`cidrsubnet`: netnum {netnum} does not fit in {newbits} bits (0 to {})", max - 1));
    }
    let new_len = len + newbits;
    let shift = 32 - new_len;
    let net = base | u32::try_from(netnum << shift).map_err(|_| "`cidrsubnet`: out of range")?;
    Ok(format!("{}.{}.{}.{}/{new_len}", net >> 24, (net >> 16) & 255, (net >> 8) & 255, net & 255))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_checks() {
        assert!(check_cidr("10.0.0.0/16").is_ok());
        assert!(check_cidr("0.0.0.0/0").is_ok());
        assert!(check_cidr("10.0.0.1/16").unwrap_err().contains("10.0.0.0/16"));
        assert!(check_cidr("10.0.0.0/33").is_err());
        assert!(check_cidr("10.0.0/16").is_err());
        assert!(check_cidr("10.0.0.0").is_err());
    }

    #[test]
    fn cidrsubnet_matches_terraform() {
        assert_eq!(cidrsubnet("10.0.0.0/16", 8, 2), Ok("10.0.2.0/24".into()));
        assert_eq!(cidrsubnet("10.1.0.0/16", 4, 15), Ok("10.1.240.0/20".into()));
        assert_eq!(cidrsubnet("172.16.0.0/12", 4, 2), Ok("172.18.0.0/16".into()));
        assert_eq!(cidrsubnet("10.0.0.0/16", 8, 3), Ok("10.0.3.0/24".into()));
        assert!(cidrsubnet("10.0.0.0/16", 8, 256).unwrap_err().contains("does not fit in 8 bits"));
        assert!(cidrsubnet("10.0.0.0/30", 3, 0).unwrap_err().contains("not a valid IPv4 prefix"));
        assert!(cidrsubnet("10.0.0.1/16", 8, 0).unwrap_err().contains("host bits"));
        assert!(cidrsubnet("10.0.0.0/16", 8, -1).is_err());
    }
}
