//! Just enough DER to show a certificate's subject to a user: a full X.509 parser would be a
//! large dependency for one string. Anything unexpected yields `None`, and the caller shows the
//! fingerprint alone (which is what a pin compares anyway).

/// One DER element: tag, contents, and the bytes after it.
fn element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | *b as usize);
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const OID: u8 = 0x06;
const CONTEXT_0: u8 = 0xa0;

/// The subject of a DER certificate, as `CN=..., O=...` in the order of the certificate.
pub fn subject(cert_der: &[u8]) -> Option<String> {
    let (tag, cert, _) = element(cert_der)?;
    if tag != SEQUENCE {
        return None;
    }
    let (tag, tbs, _) = element(cert)?;
    if tag != SEQUENCE {
        return None;
    }
    let mut rest = tbs;
    // version [0] is optional; serial, signature algorithm, issuer, validity, then subject.
    let (tag, _, after) = element(rest)?;
    if tag == CONTEXT_0 {
        rest = after;
    }
    for _ in 0..4 {
        let (_, _, after) = element(rest)?;
        rest = after;
    }
    let (tag, name, _) = element(rest)?;
    if tag != SEQUENCE {
        return None;
    }
    render_name(name)
}

fn render_name(mut name: &[u8]) -> Option<String> {
    let mut parts = Vec::new();
    while !name.is_empty() {
        let (tag, mut rdn, after) = element(name)?;
        if tag != SET {
            return None;
        }
        while !rdn.is_empty() {
            let (tag, atv, next) = element(rdn)?;
            if tag != SEQUENCE {
                return None;
            }
            let (tag, oid, value) = element(atv)?;
            if tag != OID {
                return None;
            }
            let (_, value, _) = element(value)?;
            let value = String::from_utf8_lossy(value);
            parts.push(format!("{}={}", attribute_name(oid), value));
            rdn = next;
        }
        name = after;
    }
    Some(parts.join(", "))
}

fn attribute_name(oid: &[u8]) -> String {
    match oid {
        [0x55, 0x04, 0x03] => "CN".into(),
        [0x55, 0x04, 0x06] => "C".into(),
        [0x55, 0x04, 0x07] => "L".into(),
        [0x55, 0x04, 0x08] => "ST".into(),
        [0x55, 0x04, 0x0a] => "O".into(),
        [0x55, 0x04, 0x0b] => "OU".into(),
        [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01] => "emailAddress".into(),
        other => format!("OID.{}", hex::encode(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A self-signed certificate made by `openssl req -x509 -subj "/CN=pop.example.com/O=Ex Ltd"`
    /// would need a file; this hand-built TBS covers the same structure.
    fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        if body.len() < 0x80 {
            out.push(body.len() as u8);
        } else {
            out.push(0x82);
            out.extend_from_slice(&(body.len() as u16).to_be_bytes());
        }
        out.extend_from_slice(body);
        out
    }

    fn rdn(oid: &[u8], value: &str) -> Vec<u8> {
        let atv = [tlv(OID, oid), tlv(0x0c, value.as_bytes())].concat();
        tlv(SET, &tlv(SEQUENCE, &atv))
    }

    fn cert(with_version: bool, subject: &[u8]) -> Vec<u8> {
        let mut tbs = Vec::new();
        if with_version {
            tbs.extend(tlv(CONTEXT_0, &tlv(0x02, &[2])));
        }
        tbs.extend(tlv(0x02, &[0x01; 20])); // serial
        tbs.extend(tlv(SEQUENCE, &tlv(OID, &[0x2a, 0x86]))); // algorithm
        tbs.extend(tlv(SEQUENCE, &rdn(&[0x55, 4, 3], "Issuer CA"))); // issuer
        tbs.extend(tlv(SEQUENCE, &[0x17, 0x00, 0x17, 0x00])); // validity
        tbs.extend(tlv(SEQUENCE, subject));
        tbs.extend(vec![0x30, 0x00]); // subjectPublicKeyInfo (truncated)
        tlv(
            SEQUENCE,
            &[tlv(SEQUENCE, &tbs), tlv(SEQUENCE, &[]), tlv(0x03, &[0])].concat(),
        )
    }

    #[test]
    fn subjects() {
        let name = [
            rdn(&[0x55, 4, 3], "pop.example.com"),
            rdn(&[0x55, 4, 0x0a], "Ex Ltd"),
        ]
        .concat();
        assert_eq!(
            subject(&cert(true, &name)).as_deref(),
            Some("CN=pop.example.com, O=Ex Ltd")
        );
        assert_eq!(
            subject(&cert(false, &name)).as_deref(),
            Some("CN=pop.example.com, O=Ex Ltd")
        );
        let long = "x".repeat(300);
        let name = rdn(&[0x55, 4, 3], &long);
        assert_eq!(subject(&cert(true, &name)), Some(format!("CN={long}")));
        assert_eq!(subject(&cert(true, &[])).as_deref(), Some(""));
    }

    #[test]
    fn garbage_is_none_not_a_panic() {
        let good = cert(true, &rdn(&[0x55, 4, 3], "a"));
        for end in 0..good.len() {
            let _ = subject(&good[..end]);
        }
        assert_eq!(subject(&[0xff, 0x84, 0xff, 0xff, 0xff, 0xff]), None);
        assert_eq!(subject(b""), None);
    }
}
