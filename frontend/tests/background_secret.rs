//! The secret of an account checked in the background (`account/background.rs`): sealed under
//! this device's non-extractable key in the device database, never in the clear, bound to its
//! account, and gone with the key.
#![cfg(target_arch = "wasm32")]

use postbag_protocol::pop3::Secret;
use postbag_web::account::background::{self, BackgroundSecretError};
use postbag_web::account::crypto::CryptoError;
use postbag_web::account::remembered::Remembered;
use postbag_web::store::device::{DeviceDb, Part};
use postbag_web::tunnel::AccessCode;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

async fn fresh_db() -> DeviceDb {
    let name = format!("device-test-{}", js_sys::Math::random());
    DeviceDb::open_named(&name).await.unwrap()
}

fn secret(password: &str) -> Remembered {
    Remembered {
        password: Secret::new(password.into()),
        access_code: Some(AccessCode::parse("s3cret-Tok").unwrap()),
    }
}

#[wasm_bindgen_test]
async fn kept_sealed_and_opened_again_by_the_device_key() {
    let db = fresh_db().await;
    background::keep(&db, "acc-1", &secret("hunter2"))
        .await
        .unwrap();
    let stored = db.get(Part::Secrets, "acc-1").await.unwrap().unwrap();
    let text = stored.as_string().unwrap();
    assert!(
        !text.contains("hunter2") && !text.contains("s3cret-Tok"),
        "{text}"
    );
    assert_eq!(
        background::open(&db, "acc-1").await.unwrap(),
        Some(secret("hunter2"))
    );
    assert_eq!(background::open(&db, "acc-2").await.unwrap(), None);
    assert_eq!(background::opted_in(&db).await.unwrap(), vec!["acc-1"]);
}

#[wasm_bindgen_test]
async fn the_device_key_cannot_be_exported() {
    let db = fresh_db().await;
    background::keep(&db, "acc-1", &secret("pw")).await.unwrap();
    let key: web_sys::CryptoKey = db
        .get(Part::Keys, "device")
        .await
        .unwrap()
        .unwrap()
        .unchecked_into();
    assert!(!key.extractable());
    let subtle = web_sys::window().unwrap().crypto().unwrap().subtle();
    let export = JsFuture::from(subtle.export_key("raw", &key).unwrap()).await;
    assert!(export.is_err(), "exportKey must refuse the device key");
}

#[wasm_bindgen_test]
async fn one_accounts_seal_is_not_read_as_anothers() {
    let db = fresh_db().await;
    background::keep(&db, "acc-1", &secret("one"))
        .await
        .unwrap();
    let moved = db.get(Part::Secrets, "acc-1").await.unwrap().unwrap();
    db.put(Part::Secrets, "acc-2", &moved).await.unwrap();
    assert_eq!(
        background::open(&db, "acc-2").await,
        Err(BackgroundSecretError::Crypto(CryptoError::WrongPassphrase))
    );
}

#[wasm_bindgen_test]
async fn a_second_account_shares_the_key_and_forget_removes_one() {
    let db = fresh_db().await;
    background::keep(&db, "acc-1", &secret("one"))
        .await
        .unwrap();
    background::keep(&db, "acc-2", &secret("two"))
        .await
        .unwrap();
    // One key per device, not per seal.
    assert_eq!(db.keys(Part::Keys).await.unwrap(), vec!["device"]);
    background::forget(&db, "acc-1").await.unwrap();
    assert_eq!(background::open(&db, "acc-1").await.unwrap(), None);
    assert_eq!(
        background::open(&db, "acc-2").await.unwrap(),
        Some(secret("two"))
    );
}

#[wasm_bindgen_test]
async fn without_the_device_key_nothing_opens() {
    let db = fresh_db().await;
    background::keep(&db, "acc-1", &secret("pw")).await.unwrap();
    db.delete(Part::Keys, "device").await.unwrap();
    assert_eq!(
        background::open(&db, "acc-1").await,
        Err(BackgroundSecretError::NoDeviceKey)
    );
}

#[wasm_bindgen_test]
async fn a_password_changed_in_the_session_is_sealed_again_for_the_accounts_opted_in() {
    use postbag_web::model::{background_opt_in, set_session_access_code, set_session_password};
    let db = fresh_db().await;
    background::keep(&db, "acc-1", &secret("old"))
        .await
        .unwrap();
    background::keep(&db, "acc-2", &secret("other"))
        .await
        .unwrap();
    // "Save account" with a new password for acc-1; acc-2's password is not in this session.
    set_session_password("acc-1", Secret::new("new".into()));
    set_session_access_code(AccessCode::parse("s3cret-Tok").unwrap());
    background_opt_in::renew_in(&db).await.unwrap();
    assert_eq!(
        background::open(&db, "acc-1").await.unwrap(),
        Some(secret("new"))
    );
    assert_eq!(
        background::open(&db, "acc-2").await.unwrap(),
        Some(secret("other"))
    );
    // An account not opted in gets no copy.
    set_session_password("acc-3", Secret::new("x".into()));
    background_opt_in::renew_in(&db).await.unwrap();
    assert_eq!(background::open(&db, "acc-3").await.unwrap(), None);
}
