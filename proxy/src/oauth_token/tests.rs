use super::*;

fn check(body: &str, expected: Result<&[(&str, &str)], TokenRefusal>) {
    let got = check_form(body.as_bytes());
    match expected {
        Ok(fields) => {
            let got = got.unwrap_or_else(|e| panic!("{body}: {e}"));
            let got: Vec<(&str, &str)> = got.fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            assert_eq!(got, fields, "{body}");
        }
        Err(refusal) => assert_eq!(got.err(), Some(refusal), "{body}"),
    }
}

#[test]
fn a_code_exchange_and_a_refresh_pass_with_their_fields_only() {
    check(
        "grant_type=authorization_code&code=c%2B1&redirect_uri=https%3A%2F%2Fm.example%2Foauth-callback.html&client_id=p&code_verifier=v",
        Ok(&[
            ("grant_type", "authorization_code"),
            ("code", "c+1"),
            ("redirect_uri", "https://m.example/oauth-callback.html"),
            ("client_id", "p"),
            ("code_verifier", "v"),
        ]),
    );
    check(
        "client_id=p&refresh_token=rt&grant_type=refresh_token",
        Ok(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "rt"),
            ("client_id", "p"),
        ]),
    );
    check(
        "grant_type=refresh_token&refresh_token=rt&client_id=p&scope=openid",
        Ok(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "rt"),
            ("client_id", "p"),
            ("scope", "openid"),
        ]),
    );
}

#[test]
fn anything_else_is_refused() {
    use TokenRefusal::*;
    // A client that sends its own secret, or asks for another grant, is not forwarded.
    check(
        "grant_type=refresh_token&refresh_token=rt&client_id=p&client_secret=x",
        Err(BadFields),
    );
    check(
        "grant_type=client_credentials&client_id=p",
        Err(UnsupportedGrant),
    );
    check(
        "grant_type=password&username=u&password=p&client_id=p",
        Err(UnsupportedGrant),
    );
    // PKCE is not optional here.
    check(
        "grant_type=authorization_code&code=c&redirect_uri=r&client_id=p",
        Err(BadFields),
    );
    check(
        "grant_type=refresh_token&refresh_token=a&refresh_token=b&client_id=p",
        Err(BadFields),
    );
    check(
        "grant_type=refresh_token&grant_type=refresh_token&refresh_token=a&client_id=p",
        Err(BadFields),
    );
    check(
        "grant_type=refresh_token&refresh_token=&client_id=p",
        Err(BadFields),
    );
    check(
        "grant_type=refresh_token&refresh_token=a%0Ab&client_id=p",
        Err(BadFields),
    );
    check("refresh_token=a&client_id=p", Err(BadFields));
    check("", Err(BadFields));
}

fn client(auth: &str) -> OAuthClient {
    toml::from_str(&format!(
        "provider = \"oidc\"\nclient_id = \"post bag:1\"\nissuer = \"https://id.example.org\"\n\
         client_secret = \"s3cr:t&=\"\ntoken_endpoint = \"https://id.example.org/token\"\n\
         client_auth = \"{auth}\""
    ))
    .unwrap()
}

#[test]
fn the_secret_is_added_as_the_client_was_registered() {
    let checked =
        check_form(b"grant_type=refresh_token&refresh_token=rt&client_id=post+bag%3A1").unwrap();
    let (body, authorization) = upstream_request(&client("client_secret_post"), &checked);
    assert_eq!(
        body,
        "grant_type=refresh_token&refresh_token=rt&client_id=post+bag%3A1&client_secret=s3cr%3At%26%3D"
    );
    assert_eq!(authorization, None);
    let (body, authorization) = upstream_request(&client("client_secret_basic"), &checked);
    assert_eq!(
        body,
        "grant_type=refresh_token&refresh_token=rt&client_id=post+bag%3A1"
    );
    // RFC 6749 2.3.1: "post+bag%3A1:s3cr%3At%26%3D", base64.
    use base64::Engine as _;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(authorization.unwrap().strip_prefix("Basic ").unwrap())
        .unwrap();
    assert_eq!(decoded, b"post+bag%3A1:s3cr%3At%26%3D");
    // Debug shows which client and grant, never the fields' values.
    assert!(!format!("{checked:?}").contains("rt"));
}
